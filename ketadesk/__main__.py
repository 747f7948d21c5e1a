"""``python -m ketadesk``: the same entry point as the ``ketadesk`` command."""

from ketadesk.cli.main import main

raise SystemExit(main())
