"""Spreadsheets: the sheet contract (DESIGN.md §3) and the backends that hold the rows."""
