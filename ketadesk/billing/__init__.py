"""Fee schedule, ledger, invoices, payments, packages, estimates and claims (issue 4)."""
