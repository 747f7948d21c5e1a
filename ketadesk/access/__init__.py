"""Who may do what: users, roles, the permission table, log-in and the audit log."""
