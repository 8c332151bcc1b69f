"""Send rate benchmark: 5,000 messages through the Microsoft 365 mailer and the throttle.

The real O365 library talks to the loopback Graph emulator, which enforces Exchange
Online's 30 messages per minute per mailbox on the same simulated clock the throttle
and the mailer's retries use, so an hour of sending takes seconds. Prints messages per
minute achieved against the limit (goal: at least 95 %, never above) and the 429s seen.

    python bench/send_rate.py [--messages 5000] [--per-minute 30] [--storm 0.02]
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the emulator lives with the tests

from automations.mail.compose import Envelope, compose  # noqa: E402
from automations.mail.microsoft365 import Microsoft365Mailer  # noqa: E402
from automations.render import Rendered  # noqa: E402
from automations.throttle import Limits, Throttle  # noqa: E402
from tests.emulators.graph import GraphEmulator  # noqa: E402
from tests.fixtures.mail import ZONE, SimClock, m365_config, token_backend  # noqa: E402


def busiest_window(times: list[dt.datetime]) -> int:
    """The most sends inside any 60-second window."""
    best, start = 0, 0
    for end, moment in enumerate(times):
        while moment - times[start] >= dt.timedelta(minutes=1):
            start += 1
        best = max(best, end - start + 1)
    return best


def main() -> int:
    """Run the benchmark and print its figures; exit 1 if the goal is missed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=5000)
    parser.add_argument("--per-minute", type=int, default=30)
    parser.add_argument(
        "--storm", type=float, default=0.0, help="share of requests answered 429 at random"
    )
    args = parser.parse_args()
    logging.getLogger("O365").setLevel(logging.CRITICAL)  # each injected 429 is logged

    clock = SimClock()
    graph = GraphEmulator().start()
    graph.state.rate_limit = (args.per_minute, clock)
    mailer = Microsoft365Mailer(
        m365_config(graph.url), "secret", token_backend(), timezone=ZONE, sleep=clock.sleep
    )
    throttle = Throttle(Limits(messages_per_minute=args.per_minute), clock, clock.sleep)
    chance = random.Random(4)
    rendered = Rendered(subject="Webinar agenda", html="<p>Agenda</p>", text="Agenda")
    accepted: list[dt.datetime] = []
    failed = 0
    wall = time.perf_counter()
    try:
        for number in range(args.messages):
            message = compose(
                key=f"bench/{number}",
                job="bench",
                envelope=Envelope(
                    "Support <immigrant-support@example.org>", (f"f{number}@example.org",)
                ),
                rendered=rendered,
                now=clock(),
            )
            if args.storm and chance.random() < args.storm:
                graph.state.fail(429, 1, retry_after=chance.randint(1, 10), path="sendMail")
            throttle.wait_turn()
            before = len(graph.state.sent)
            result = mailer.send(message)
            throttle.record(1)
            if result.state == "sent" and len(graph.state.sent) > before:
                accepted.append(clock())
            else:
                failed += 1
    finally:
        graph.stop()
    wall = time.perf_counter() - wall
    span = (accepted[-1] - accepted[0]).total_seconds() / 60 if len(accepted) > 1 else 1
    rate = (len(accepted) - 1) / span if span else float("inf")
    busiest = busiest_window(accepted)
    share = rate / args.per_minute
    print(f"messages sent:            {len(accepted)} of {args.messages} ({failed} failed)")
    print(f"simulated time:           {span:.1f} min ({wall:.1f} s of real time)")
    print(f"messages/minute achieved: {rate:.2f} of a limit of {args.per_minute} ({share:.1%})")
    print(f"busiest 60-second window: {busiest} messages (limit {args.per_minute})")
    print(f"429 answers received:     {graph.state.throttled} (retried: {mailer.retries})")
    ok = share >= 0.95 and busiest <= args.per_minute and not failed
    print("goal (>= 95% of the limit, never above):", "met" if ok else "MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
