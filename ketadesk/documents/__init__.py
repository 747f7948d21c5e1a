"""PDFs built with reportlab: invoices, statements, superbills, estimates and day sheets."""
