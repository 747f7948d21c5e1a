"""The floor for KetaDesk's window start: a bare PySide6 window showing the same patients.

``bench_foundation.py`` runs this script beside ``ketadesk --db FILE --screenshot OUT --view
patients``, interleaved, and divides the two first-paint figures. It does the least any
PySide6 program must do to show the same first page of the patient list:

1. import QtWidgets and ``sqlite3`` (no SQLAlchemy, no KetaDesk models);
2. read the first 100 active patients, ordered as the patient list orders them, and their
   count, with the very SQL the window runs, through ``sqlite3``;
3. show a 1280×800 main window with a search box and a table of those rows (MRN, name,
   date of birth, phone), the same columns the list shows;
4. print ``first-paint-ms: N`` when the table has painted, with the window's own clock
   (:mod:`ketadesk.ui.timing`: milliseconds from process start), so both are measured the
   same way.

Run it by hand as ``QT_QPA_PLATFORM=offscreen python bench/floor_window.py FILE.sqlite3``.
"""

from __future__ import annotations

import sqlite3
import sys
from pathlib import Path

from PySide6.QtWidgets import (
    QApplication,
    QLabel,
    QLineEdit,
    QMainWindow,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from ketadesk.ui.timing import report_first_paint, wait_for_first_paint

PAGE = ("SELECT mrn, family_name, given_name, preferred_name, date_of_birth, phone "
        "FROM patient WHERE active = 1 ORDER BY search_family, search_given, id "
        "LIMIT 100 OFFSET 0")
COUNT = "SELECT count(*) FROM patient WHERE active = 1"
HEADERS = ("MRN", "Name", "Date of birth", "Phone")


def main(path: str) -> int:
    app = QApplication(sys.argv[:1])
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as connection:
        rows = connection.execute(PAGE).fetchall()
        (total,) = connection.execute(COUNT).fetchone()
    connection.close()

    window = QMainWindow()
    body = QWidget()
    layout = QVBoxLayout(body)
    layout.addWidget(QLineEdit(placeholderText="Search patients"))
    layout.addWidget(QLabel(f"{total:,} patients"))
    table = QTableWidget(len(rows), len(HEADERS))
    table.setHorizontalHeaderLabels(HEADERS)
    for number, (mrn, family, given, preferred, born, phone) in enumerate(rows):
        name = f'{family}, {given} "{preferred}"' if preferred else f"{family}, {given}"
        for column, text in enumerate((mrn, name, born, phone)):
            table.setItem(number, column, QTableWidgetItem(text))
    layout.addWidget(table)
    window.setCentralWidget(body)
    window.resize(1280, 800)
    if not wait_for_first_paint(table, window):
        return 1
    report_first_paint()
    app.quit()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
