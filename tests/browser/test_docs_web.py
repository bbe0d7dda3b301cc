"""docs/web.md shows the screenshots the browser tests take, and every one they take."""

from __future__ import annotations

import re
from pathlib import Path

DOCS = Path(__file__).resolve().parents[2] / "docs"


def test_docs_web_shows_every_screenshot_and_only_those_the_tests_take() -> None:
    shown = set(re.findall(r"\]\(screens/([a-z-]+)\.png\)", (DOCS / "web.md").read_text()))
    taken = {path.stem for path in (DOCS / "screens").glob("*.png")}
    made_by_tests = set(re.findall(r'screenshot\([a-z_]+, "([a-z-]+)"\)',
                                   "".join(p.read_text() for p in Path(__file__).parent.glob("test_*.py"))))
    assert shown == made_by_tests, "docs/web.md and the tests' screenshot() calls disagree"
    assert taken == made_by_tests, "docs/screens/ holds pictures no test takes, or misses one"
