"""Benchmark: the render cache key over 56,000 PD digests, and the language-name table.

Builds digest contexts the way pd-reminders does (a few shared topic dicts with their
sessions, a name and a count per person), renders them all through Renderer.render
(after the first few, every call is a cache hit: the cost is the key), and prints the
time per call. Then times recognising a language the first time in a fresh process
(the precomputed name table) and the memory it holds.

    python bench/render_cache.py [--people 56000]
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import subprocess
import sys
import time
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from automations.languages import ENGLISH  # noqa: E402
from automations.render import Renderer  # noqa: E402

LA = ZoneInfo("America/Los_Angeles")
CODES = ("5a", "5b", "5c", "5d")
NAMES = ("Safe Zones", "Immigration Rights", "Enforcement & Confidentiality", "Family Resources")
FIRST_USE = """
import resource, sys, time
start = time.perf_counter()
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
from automations.languages import parse_language
assert parse_language("Español").code == "es"
assert parse_language("한국어").code == "ko"
took = time.perf_counter() - start
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(f"{took * 1000:.1f} {(after - before) / 1024:.1f} {'babel' in sys.modules}")
"""


def session(number: int, code: str) -> dict:
    start = dt.datetime(2027, 3, 1 + number, 16, 0, tzinfo=LA)
    return {
        "id": f"PD-{code}-{number}",
        "title": f"Session {number} on {code}",
        "start": start,
        "end": start + dt.timedelta(minutes=90),
        "location": "Room 12, Roosevelt HS",
        "join_link": "https://lausd.zoom.example.org/j/1234",
        "registration_link": "https://example.org/register",
    }


def contexts(people: int) -> list[dict]:
    """Digest contexts sharing their topic dicts, as pd_reminders builds them."""
    topics = {
        code: {"code": code, "name": name, "sessions": [session(n, code) for n in range(3)]}
        for code, name in zip(CODES, NAMES, strict=True)
    }
    rng = random.Random(1)
    result = []
    for number in range(people):
        owed = [topics[c] for c in CODES if rng.random() < 0.6] or [topics["5a"]]
        result.append(
            {
                "name": f"Person {number}",
                "topics": owed,
                "contact": "pd-office@example.org",
                "reminder_number": rng.randint(1, 6),
                "reminder_limit": 6,
            }
        )
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=56_000)
    args = parser.parse_args()
    renderer = Renderer(ROOT / "templates" / "email")
    digests = contexts(args.people)
    started = time.perf_counter()
    for context in digests:
        renderer.render("pd_digest", ENGLISH, context)
    took = time.perf_counter() - started
    print(
        f"render cache: {args.people} digests in {took:.2f} s, "
        f"{took / args.people * 1e6:.1f} µs per message (distinct renders: {len(renderer._cache)})"
    )
    out = subprocess.run(
        [sys.executable, "-c", FIRST_USE], capture_output=True, text=True, check=True, cwd=ROOT
    ).stdout.split()
    print(
        f"language names: first parse_language {out[0]} ms, {out[1]} MiB more held, "
        f"Babel imported: {out[2]}"
    )


if __name__ == "__main__":
    main()
