"""The window: PySide6 only. Views call the services below; no rule lives here."""
