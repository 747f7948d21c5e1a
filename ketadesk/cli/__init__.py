"""The command line: ``ketadesk`` and its sub-commands, one module per command group.

:mod:`ketadesk.cli.main` is the entry point; :mod:`ketadesk.cli.common` holds what every
command shares (the ``--db`` option, output as text or JSON, error lines, progress).
Commands only parse options, open one transaction, call a service and print the result;
every rule lives in the services below. Qt is never imported here, except lazily when
``ketadesk`` is run without a command to open the window.
"""
