"""Informed consent: the clinic's versioned consent texts and the consents patients signed.

``models`` holds the tables and the treatment keys, ``texts`` the versions a clinic edits
(and the shipped defaults), ``records`` signing and withdrawing, and ``validity`` the one
rule that says whether a consent holds on a day. What a missing consent means at booking
and check-in lives in :mod:`ketadesk.scheduling.consent_check`.
"""
