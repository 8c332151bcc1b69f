"""Scheduled jobs for the LAUSD–UTLA MOU on support for immigrant students and families."""

from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
