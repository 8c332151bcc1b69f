"""Spreadsheets: the sheet contract (docs/architecture.md) and the backends that hold the rows.

The backends by their name in [sheets] backend, and the module of each: it opens one
spreadsheet (`open_spreadsheet(settings, name)`). Adding a sheet backend is adding its
module and a line here.
"""

SHEETS_BACKENDS = {
    "workbook": "automations.sheets.workbook",
    "google": "automations.sheets.google",
}
