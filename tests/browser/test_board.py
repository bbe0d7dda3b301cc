"""The supervisor's board follows the facility live, through Server-Sent Events, without a reload."""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import Site, receive_reports, screenshot, serious_violations
from tests.http.support import VPCR


@pytest.mark.parametrize("site", ["sqlite", "postgres"], indirect=True)
def test_an_open_board_shows_a_change_within_a_second_without_reload(site: Site) -> None:
    page = site.page("l3", accessibility=True)
    page.goto("/web/board")
    queue = page.get_by_role("link", name="waiting")
    expect(queue).to_have_text("1 waiting")
    rendering = page.locator("main").get_attribute("data-rendering")
    page.wait_for_timeout(500)  # the stream is open
    receive_reports(site, {**VPCR, "jc_case_number": "2026-015502"})
    changed = time.monotonic()
    expect(queue).to_have_text("2 waiting", timeout=5000)
    assert time.monotonic() - changed < 2.5  # within a second on a quiet machine; slack for a loaded CI
    assert page.locator("main").get_attribute("data-rendering") == rendering  # the same page: no reload
    expect(page.get_by_role("link", name="2 JC import queue")).to_be_visible()
    screenshot(page, "board")
    assert serious_violations(page) == []
    page.get_by_role("link", name="2 JC import queue").click()
    expect(page).to_have_url(f"{site.base_url}/web/incidents?state=jc_import_queue")


def test_the_incident_list_finds_by_state_and_case_number(site: Site) -> None:
    receive_reports(site, {**VPCR, "jc_case_number": "2026-015502", "reported_type": "si.fall",
                           "jc_reported_at": "2026-11-18T09:40:00-05:00"})
    page = site.page("l3", accessibility=True)
    page.goto("/web/incidents")
    expect(page.get_by_role("table")).to_contain_text("2026-015502")
    page.get_by_label("JC case number").fill("2026-015501")
    page.get_by_role("button", name="Find").click()
    expect(page.get_by_role("table")).to_contain_text("1 incident,")
    expect(page.get_by_role("table")).not_to_contain_text("2026-015502")
    assert "+00:00" not in page.locator("main").inner_text() and "Z " not in page.locator("main").inner_text()
    screenshot(page, "incident-list")
    assert serious_violations(page) == []
