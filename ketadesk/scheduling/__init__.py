"""Protocols, series planning, booking, the session floor and REMS tracking (issue 3)."""
