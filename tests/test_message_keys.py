"""Message keys: the same key for the same parts, whatever path builds it."""

from __future__ import annotations

import datetime as dt
from urllib.parse import quote

from automations.jobs.rows import key_part, message_key

PARTS = [
    "pd-reminders",
    "E100001",
    "maria.lopez@example.org",
    "Ana María Nuñez",
    "a/b",
    "50%+1",
    "x y",
    "~tilde_under-dash.dot:colon@at",
    "",
    "日本語",
    3,
    dt.date(2026, 11, 30),
]


def test_message_keys_quote_every_part_exactly_as_before():
    key = message_key(*PARTS)
    assert key == "/".join(quote(str(part), safe="@.:-_") for part in PARTS)
    assert [key_part(key, i) for i in range(len(PARTS))] == [str(p) for p in PARTS]
