"""X12 electronic claims and remittances, pure: frozen values in, text out (and back).

Nothing here knows the database. :mod:`.model` holds the frozen values a claim is sent as
(the same values draw the CMS-1500), :mod:`.x837` writes a batch of them as an 837P,
:mod:`.x835` reads (and, for tests and the demo, writes) an 835 remittance, and
:mod:`.validate` checks a file against the implementation guide with ``pyx12``.
"""
