"""Backups that restore: whole-database copies, their check, restore and rotation.

Below the faces and beside :mod:`ketadesk.db` (it needs only the database, the config and
the migrations' head revision), so the window, the command line and the migration step all
use one implementation:

* :mod:`~ketadesk.backups.archive` -- the file: a KetaDesk header, a readable manifest
  (schema, figures, checksum), the payload, optionally sealed with a passphrase;
* :mod:`~ketadesk.backups.sqlite` and :mod:`~ketadesk.backups.postgres` -- a consistent
  copy while others work, its check, and putting one back, for each kind of database;
* :mod:`~ketadesk.backups.backup` -- take, verify and restore, as the commands run them;
* :mod:`~ketadesk.backups.rotation` -- which files to keep (daily, weekly, monthly);
* :mod:`~ketadesk.backups.daily` -- the backup taken at start-up when the last is a day old.
"""
