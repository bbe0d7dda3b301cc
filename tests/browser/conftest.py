"""A real server and a real browser: Chromium from Debian's packages, driven by Playwright.

Playwright's own browser download is not reachable here, so the tests launch the system's
Chromium (``NIMRS_TEST_CHROMIUM``, default /usr/bin/chromium; `scripts/ensure-chromium` installs it).
Screenshots of the main pages go to docs/screens/, which docs/web.md shows.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Locator, Page, expect, sync_playwright

from adapters.bootstrap import Runtime
from adapters.integrations.vpcr import parse_vpcr_reports
from adapters.settings import load_settings
from tests.conftest import CHARTS_ONLY_SUITE, FakeClock
from tests.http.support import PASSWORD, STAFF, VPCR, add_staff, live_server

CHROMIUM = os.environ.get("NIMRS_TEST_CHROMIUM", "/usr/bin/chromium")
SCREENS = Path(__file__).resolve().parents[2] / "docs" / "screens"
AXE = Path(__file__).resolve().parent / "vendor" / "axe.min.js"
expect.set_options(timeout=10_000)
PICTURES = {"taking": True}


@dataclass
class Site:
    base_url: str
    database_url: str
    clock: FakeClock
    browser: Browser
    contexts: list[BrowserContext]
    settings: dict[str, str] = field(default_factory=dict)  # more NIMRS_* settings, for the server and runtime()

    def page(self, user: str | None = None, *, password: str = PASSWORD, accessibility: bool = False) -> Page:
        """A new browser (own cookies), signed in as ``user`` through the sign-in form."""
        # axe-core is injected as a script: the pages' CSP (scripts from the server only) would refuse it.
        context = self.browser.new_context(base_url=self.base_url, bypass_csp=accessibility,
                                           viewport={"width": 1280, "height": 900}, locale="en-US",
                                           timezone_id="America/New_York")
        self.contexts.append(context)
        page = context.new_page()
        if user is not None:
            sign_in(page, user, password)
        return page

    def runtime(self) -> Runtime:
        return Runtime(load_settings({"NIMRS_DATABASE_URL": self.database_url, **CHARTS_ONLY_SUITE, **self.settings}),
                       self.clock)


def sign_in(page: Page, user: str, password: str = PASSWORD) -> None:
    page.goto("/web/sign-in")
    page.get_by_label("User name").fill(user)
    page.get_by_label("Password").fill(password)
    click_and_wait(page.get_by_role("button", name="Sign in"))


def click_and_wait(target: Locator) -> None:
    """Click, and wait for the page it brings: htmx swaps pages in without a navigation to wait for, so wait
    for a new rendering (every page has a fresh ``data-rendering`` on its ``main``)."""
    main = target.page.locator("main")
    before = main.get_attribute("data-rendering")
    target.click()
    expect(main).not_to_have_attribute("data-rendering", before or "")


def receive_reports(site: Site, *reports: dict[str, Any]) -> list[str]:
    with site.runtime() as runtime:
        receipt = runtime.service.receive_vpcr_reports(
            runtime.accounts.get("l2"), parse_vpcr_reports(list(reports), "the reports", site.clock()))
        return [str(incident_id) for incident_id in receipt.received]


def screenshot(page: Page, name: str) -> None:
    """docs/screens/NAME.png, shown by docs/web.md: the tests make the pictures, so they never go stale (from the
    SQLite runs only: a test run on both stores would otherwise take each picture twice)."""
    if not PICTURES["taking"]:
        return
    SCREENS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENS / f"{name}.png"), full_page=True)


def serious_violations(page: Page) -> list[str]:
    """axe-core's serious and critical violations on the page (WCAG 2.1 A and AA)."""
    page.add_script_tag(path=str(AXE))
    results = page.evaluate("async () => await axe.run(document, {runOnly: ['wcag2a', 'wcag2aa', 'wcag21a', "
                            "'wcag21aa', 'best-practice']})")
    return [f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']][:3]}"
            for v in results["violations"] if v["impact"] in ("serious", "critical")]


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium is not installed at {CHROMIUM}: run scripts/ensure-chromium (make test does)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield launched
        launched.close()


@pytest.fixture
def site_settings() -> dict[str, str]:
    """More settings for the ``site`` (``NIMRS_*``): a test module overrides this fixture to run its site otherwise,
    e.g. on Part 524's obligations."""
    return {}


@pytest.fixture(params=["sqlite"])
def site(request: pytest.FixtureRequest, tmp_path: Path, browser: Browser, site_settings: dict[str, str]) -> Iterator[Site]:
    """A server on a fresh SQLite file (or, parametrised ``indirect`` with "postgres", a fresh PostgreSQL database)
    with the staff of tests/http (password PASSWORD), and one VPCR report."""
    database_url = (f"sqlite:///{tmp_path / 'nimrs.db'}" if request.param == "sqlite"
                    else str(request.getfixturevalue("postgres_url")))
    PICTURES["taking"] = request.param == "sqlite"
    clock = FakeClock(datetime(2026, 11, 20, 15, 0, tzinfo=timezone.utc))
    add_staff(database_url, clock, STAFF)
    with live_server(database_url, clock, environ=site_settings) as base_url:
        made = Site(base_url, database_url, clock, browser, [], dict(site_settings))
        receive_reports(made, VPCR)
        yield made
        for context in made.contexts:
            context.close()


Check = Callable[[Page], None]
