"""Composing messages the cheap way writes exactly what the email package would write."""

from __future__ import annotations

import datetime as dt
import email
import re
from email import policy

from hypothesis import event, given, settings
from hypothesis import strategies as st

from automations.mail.compose import Envelope, compose
from automations.render import Rendered

NOW = dt.datetime(2026, 11, 30, 7, 0, tzinfo=dt.UTC)
BOUNDARY = re.compile(rb"={15}\d{19}==")
ICS = (
    b"BEGIN:VCALENDAR\r\nMETHOD:REQUEST\r\nBEGIN:VEVENT\r\nUID:mou-1@example.org\r\n"
    b"SUMMARY:Comit\xc3\xa9 conjunto\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
)


def same_but_boundaries(ours: bytes, theirs: bytes) -> bool:
    return BOUNDARY.sub(b"B", ours) == BOUNDARY.sub(b"B", theirs)


plain = st.sampled_from(["Know", "Your", "Rights", "O'Neil", "5.0", "(MOU)", "D.", "a,b", "#1"])
words = st.one_of(plain, st.sampled_from(["año", "Ünïcode", "—", "✓", "=?x?=", "日本"]))
subjects = st.one_of(
    st.lists(plain, min_size=1, max_size=12).map(" ".join),
    st.lists(words, max_size=12).map(" ".join),
    st.text(max_size=60),
    st.integers(900, 1100).map(lambda n: "Webinar agenda " + "x" * n),
)
names = st.one_of(
    st.just(""),
    st.lists(
        st.sampled_from(["Ana", "Immigrant", "Support", "O'Neil"]), min_size=1, max_size=3
    ).map(" ".join),
    st.lists(words, min_size=1, max_size=3).map(" ".join),
)
addresses = st.one_of(
    st.sampled_from(["a@example.org", "maria.lopez@lausd.net", "b-c@x.org"]),
    st.sampled_from(["a@example.org", "maria.lopez@lausd.net", "b-c@x.org"]),
    st.sampled_from(["josé@example.org", "l@exämple.org"]),
)
lines = st.one_of(
    st.text(st.characters(blacklist_categories=("Cs",)), max_size=80),
    st.integers(990, 1010).map(lambda n: "y" * n),
)
bodies = st.lists(lines, max_size=8).map("\n".join)


@settings(max_examples=400, deadline=None)
@given(
    subject=subjects,
    sender_name=names,
    to=st.lists(addresses, min_size=1, max_size=2),
    bcc=st.lists(addresses, max_size=2),
    display_name=st.sampled_from(["", "LAUSD Family Engagement", "Familias"]),
    text=bodies,
    html=bodies,
    invite=st.booleans(),
)
def test_the_cheap_way_writes_what_the_email_package_writes(
    subject, sender_name, to, bcc, display_name, text, html, invite
):
    sender = f"{sender_name} <support@example.org>" if sender_name else "support@example.org"
    try:
        outgoing = compose(
            key=f"job/{subject}",
            job="job",
            envelope=Envelope(sender, tuple(to), tuple(bcc), "reply@example.org", display_name),
            rendered=Rendered(subject, html, text),
            now=NOW,
            ics=ICS if invite else None,
            ics_method="REQUEST" if invite else None,
        )
    except ValueError:
        return  # refused as before (e.g. a non-ASCII address with a display name)
    try:
        theirs = outgoing.mime.as_bytes()
    except ValueError:  # the email package cannot write it either (as before)
        assert outgoing.assembled is None
        return
    event("composed the cheap way" if outgoing.assembled else "composed by the email package")
    assert same_but_boundaries(outgoing.data, theirs)
    parsed = email.message_from_bytes(outgoing.data, policy=policy.default)
    assert parsed["Message-ID"] == outgoing.message_id
    assert b"\n" not in outgoing.data.replace(b"\r\n", b"")


@settings(max_examples=300, deadline=None)
@given(
    subject=st.lists(plain, min_size=1, max_size=30).map(" ".join),
    sender_name=st.sampled_from(["", "Immigrant Support", "LAUSD Family Engagement"]),
    to=st.lists(
        st.sampled_from(["a@example.org", "maria.lopez@lausd.net"]), min_size=1, max_size=9
    ),
    bcc=st.lists(st.sampled_from(["f1@example.org", "f2.x@lausd.net"]), max_size=4),
    display_name=st.sampled_from(["", "LAUSD Family Engagement"]),
    text=st.lists(st.text(max_size=200), max_size=20).map("\n".join),
    html=st.lists(st.text(max_size=200), max_size=20).map("\n".join),
    invite=st.booleans(),
)
def test_plain_headers_are_composed_the_cheap_way_as_the_email_package_would(
    subject, sender_name, to, bcc, display_name, text, html, invite
):
    sender = f"{sender_name} <support@example.org>" if sender_name else "support@example.org"
    outgoing = compose(
        key="job/1",
        job="job",
        envelope=Envelope(sender, tuple(to), tuple(bcc), None, display_name),
        rendered=Rendered(subject, html, text),
        now=NOW,
        ics=ICS if invite else None,
        ics_method="REQUEST" if invite else None,
    )
    assert outgoing.assembled is not None
    assert same_but_boundaries(outgoing.data, outgoing.mime.as_bytes())


def test_a_digest_and_an_invitation_are_composed_the_cheap_way():
    rendered = Rendered(
        "Your training: 2 topics still to take (MOU 5.0)",
        "<p>Hello Ana,</p>\n" * 50,
        "Hello Ana,\n" * 50,
    )
    envelope = Envelope("Immigrant Support <immigrant-support@example.org>", ("ana@lausd.net",))
    digest = compose(key="pd/1", job="pd", envelope=envelope, rendered=rendered, now=NOW)
    invite = compose(
        key="committee/1",
        job="committee",
        envelope=envelope,
        rendered=rendered,
        now=NOW,
        ics=ICS,
        ics_method="REQUEST",
    )
    assert digest.assembled is not None and invite.assembled is not None
    assert "mime" not in vars(digest)  # no EmailMessage was built
