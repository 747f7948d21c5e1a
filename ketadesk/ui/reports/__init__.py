"""The Reports area: the dashboard, each report with its filters, table and chart, the rows
behind a figure, and export (see :mod:`ketadesk.ui.reports.view`)."""

from ketadesk.ui.reports.view import ReportsView

__all__ = ["ReportsView"]
