"""Every message template, in every shipped language, read on a phone (375 px): nothing
sticks out sideways and no word is broken in the middle (issue 13).

A break inside a run of letters is a broken word ("M i s s e d"); breaks after a hyphen,
slash or other punctuation, between Chinese, Japanese or Korean characters (where lines
may break anywhere), and inside links and addresses are not.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from automations import catalogs
from automations.config import load_settings
from automations.demo import init_demo
from automations.languages import parse_language
from tests.fixtures.browser import ARTIFACTS
from tests.fixtures.workbooks import TODAY
from tests.test_browser_previews import every_message_in_every_language

PHONE = 375  # px

# Words (with their text) broken across lines between two letters or digits.
BROKEN_WORDS_JS = r"""() => {
  const letter = /[\p{L}\p{N}]/u;
  const anywhere = /[\p{Script=Han}\p{Script=Hangul}\p{Script=Hiragana}\p{Script=Katakana}]/u;
  const broken = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  let node;
  while ((node = walker.nextNode())) {
    const text = node.textContent;
    const words = /\S+/g;
    let match;
    while ((match = words.exec(text))) {
      const word = match[0];
      if (word.length < 2 || word.includes("://") || word.includes("@")) continue;
      let previous = null;
      for (let i = 0; i < word.length; i++) {
        const range = document.createRange();
        range.setStart(node, match.index + i);
        range.setEnd(node, match.index + i + 1);
        const box = range.getBoundingClientRect();
        if (box.width === 0 && box.height === 0) continue;
        if (previous !== null && box.top > previous.top + 2) {
          const a = word[i - 1], b = word[i];
          if (letter.test(a) && letter.test(b) && !anywhere.test(a) && !anywhere.test(b)) {
            broken.push(word);
          }
          break;
        }
        previous = box;
      }
    }
  }
  return broken;
}"""


@pytest.fixture(scope="module")
def messages(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """Each job's sample messages, the summary and the alerts, in every shipped language."""
    folder = tmp_path_factory.mktemp("phone-words")
    settings = load_settings(init_demo(folder / "demo", TODAY))
    return every_message_in_every_language(settings, folder / "languages")


def look(browser, path: Path, shots: Path | None) -> tuple[int, list[str]]:
    """Overflow (px) and broken words of `path` at phone width; a screenshot if asked."""
    page = browser.new_page()
    try:
        page.set_viewport_size({"width": PHONE, "height": 800})
        page.goto(path.as_uri(), wait_until="load")
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        broken = page.evaluate(BROKEN_WORDS_JS)
        if shots is not None:
            shots.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(shots / f"{path.stem}-{PHONE}.png"), full_page=True)
        return overflow, broken
    finally:
        page.close()


@pytest.mark.parametrize("code", ["en", *catalogs.shipped()])
def test_every_message_fits_a_phone_with_every_word_whole(browser, messages, code):
    language = parse_language(code)
    assert language is not None
    paths = [p for p in messages if p.name.startswith(f"{code}-")]
    assert paths
    shots = ARTIFACTS / "phone" if code in ("en", "es") else None
    problems = []
    for path in paths:
        overflow, broken = look(browser, path, shots)
        if overflow > 0:
            problems.append(f"{path.name} sticks out {overflow} px")
        if broken:
            problems.append(f"{path.name} breaks {broken}")
    assert problems == []


# The width of the narrowest element holding a session's title, over the card's text width.
TITLE_SHARE_JS = r"""(title) => {
  const holders = Array.from(document.querySelectorAll('.card *'))
    .filter(e => e.textContent.includes(title));
  const narrowest = holders[holders.length - 1];
  const card = document.querySelector('.card');
  const style = getComputedStyle(card);
  const inner = card.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
  return narrowest.getBoundingClientRect().width / inner;
}"""


def test_pd_digest_sessions_use_the_whole_width_on_a_phone(browser, messages):
    for code in ("en", "es"):
        (path,) = [p for p in messages if p.name.startswith(f"{code}-") and "pd_digest" in p.name]
        page = browser.new_page()
        try:
            page.set_viewport_size({"width": PHONE, "height": 800})
            page.goto(path.as_uri(), wait_until="load")
            share = page.evaluate(TITLE_SHARE_JS, "Safe Zones: what every adult")
        finally:
            page.close()
        # A no-wrap date column beside the title left it under half the width.
        assert share > 0.9, f"{path.name}: the session title gets {share:.0%} of the width"


def test_the_broken_word_check_sees_a_word_broken_letter_by_letter(browser, tmp_path):
    page = tmp_path / "squeezed.html"
    page.write_text(
        '<!doctype html><html lang="en"><body><table style="width:60px"><tr>'
        '<td style="word-break:break-all">Missed Belmont</td><td>long-hyphen/slash</td>'
        '</tr></table><p lang="ko" style="width:40px">위원회 회의가 오늘 있습니다</p>'
        "</body></html>",
        encoding="utf-8",
    )
    _, broken = look(browser, page, None)
    assert broken == ["Missed", "Belmont"]
