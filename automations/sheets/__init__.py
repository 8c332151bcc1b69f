"""Spreadsheets: the sheet contract (docs/architecture.md) and the backends that hold the rows."""
