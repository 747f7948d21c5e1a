"""Outcome measures, scores, a series' baseline, response and remission, and the PHQ-9
item-9 safety alert (issue 12).

* :mod:`.measures`: the four shipped measures (``resources/outcome_measures.toml``) and the
  clinic's own, as frozen :class:`~.measures.Measure` values; defining a custom one.
* :mod:`.rules`: pure arithmetic: which score is a series' baseline, change, response and
  remission. The manager's outcomes report uses the same two functions.
* :mod:`.scores`: recording a score (at a session or between sessions), which raises the
  item-9 alert in the same transaction; a PHQ-9/GAD-7 score taken at a session is also
  written on the session row, by this module only.
* :mod:`.alerts`: the open alerts and their acknowledgement.
* :mod:`.summary`: a patient's outcomes per measure and series, as frozen rows.
"""
