"""Candidacy: the intake assessment a provider signs before ketamine, and its findings.

``conditions`` names what is asked and loads the shipped defaults; ``models`` holds the
tables; ``rules`` is the clinic's configuration (which finding is absolute, relative or
ignored; how long an intake stays valid); ``assessments`` records an intake and a provider's
override; ``findings`` reads an assessment against the rules; ``state`` says whether an
intake is valid, due or expired on a day. What the findings mean at booking and at the chair
is :mod:`ketadesk.scheduling.candidacy`'s business.
"""
