"""Treatment history: the treatments a patient tried before for the condition treated here.

``models.py`` holds the entries (:class:`~ketadesk.clinic.history.models.PriorTreatment`);
``entries.py`` records, corrects (by superseding) and removes them with a reason, each in
the audit log; ``words.py`` reads what a hurried person types (doses, weeks, months);
``adequacy.py`` loads the shipped minimum adequate doses; ``trd.py`` answers whether the
record shows the esketamine rule for treatment-resistant depression (two adequate
antidepressant trials in this episode), with the reasons, for the chart, the booking
warning and the letter of medical necessity.
"""
