"""Manager figures: revenue, aging, utilisation, no-shows and series completion."""
