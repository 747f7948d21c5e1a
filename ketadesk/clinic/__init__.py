"""The shared kernel: locations, chairs, providers, payers, patients and their policies.

Every later part (scheduling, billing, reports) stands on these records. Models live in
``models.py``; each noun has a module of services (``patients.py``, ``locations.py`` …)
that validate with ``validation.py``, check permissions and write the audit log.
"""
