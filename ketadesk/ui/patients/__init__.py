"""The Patients area of the window.

* ``list_model`` — the search results as a Qt table model, loaded a page at a time;
* ``view`` — the area itself: search box, results, the open record beside them;
* ``form`` — the register/edit dialog with every patient field;
* ``policies`` — the patient's insurance policies and their add/edit/end dialogs.

Nothing here holds a rule: every check lives in :mod:`ketadesk.clinic.patients` and
:mod:`ketadesk.clinic.policies`, which the command line calls too.
"""
