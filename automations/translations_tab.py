"""The `Translations` tab's name and columns (automations/translations.py reads it).

Apart so that a job reading the tab, and `list` checking which spreadsheets the jobs
need, do not import the catalogs to name it.
"""

from __future__ import annotations

from automations.sheets.contract import Column, TabSpec

TAB = "Translations"
TRANSLATIONS = TabSpec(
    TAB,
    (
        Column("Key"),
        Column("English", owned=True),
        Column("Where Used", owned=True),
        Column("Note", owned=True),
        Column("Previous English", owned=True),
        Column("Status", owned=True),
    ),
    key="Key",
    fingerprint=("English",),
    optional=True,
    open_columns=True,
)
