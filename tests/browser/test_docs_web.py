"""docs/web.md shows the screenshots the browser tests take, and every one they take."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from playwright.sync_api import Browser, expect

from domain.clock import utc_now
from tests.adapters.test_docs_run import run_shell_blocks
from tests.http.support import live_server

DOCS = Path(__file__).resolve().parents[2] / "docs"


def test_docs_web_shows_every_screenshot_and_only_those_the_tests_take() -> None:
    shown = set(re.findall(r"\]\(screens/([a-z-]+)\.png\)", (DOCS / "web.md").read_text()))
    taken = {path.stem for path in (DOCS / "screens").glob("*.png")}
    made_by_tests = set(re.findall(r'screenshot\([a-z_]+, "([a-z-]+)"\)',
                                   "".join(p.read_text() for p in Path(__file__).parent.glob("test_*.py"))))
    assert shown == made_by_tests, "docs/web.md and the tests' screenshot() calls disagree"
    assert taken == made_by_tests, "docs/screens/ holds pictures no test takes, or misses one"


def test_try_it_runs_as_written_and_the_report_waits_in_the_queue(tmp_path: Path, browser: Browser) -> None:
    shutil.copytree(DOCS / "examples", tmp_path / "docs" / "examples")
    run_shell_blocks("web.md", tmp_path, at_least=1)
    with live_server(f"sqlite:///{tmp_path / 'nimrs.db'}", utc_now) as base_url:
        context = browser.new_context(base_url=base_url)
        page = context.new_page()
        page.goto("/")
        page.get_by_label("User name").fill("clinical.supervisor")
        page.get_by_label("Password").fill("clinical passphrase!!")
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("table", name="Reports from the Justice Center")).to_contain_text("2026-015501")
        context.close()
