"""Staff take an incident from the JC import queue to Email OMH and on to closed through the screens."""

from __future__ import annotations

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import Site, click_and_wait, screenshot, serious_violations
from tests.http.support import PASSWORD

CASE = "2026-015501"


def open_incident(page: Page, case: str = CASE) -> None:
    page.goto("/")
    page.get_by_role("link", name=case).first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(case)


def save(page: Page, screen: str) -> None:
    click_and_wait(page.get_by_role("button", name=f"Save {screen}"))


def fill_every_screen(page: Page) -> None:
    page.get_by_label("When it occurred (New York time)").fill("2026-11-19T06:10")
    page.get_by_label("Location").fill("Room 312")
    page.get_by_label("On premises or under the provider's supervision").select_option("yes")
    save(page, "incident")
    page.get_by_label("Client 1 id").fill("C-1042")
    page.get_by_label("Age").first.fill("58")
    save(page, "clients")
    page.get_by_label("Staff involved (one per line)").fill("S-311")
    save(page, "staff and witnesses")
    page.get_by_label("What happened").fill("Found unresponsive on rounds.")
    page.get_by_label("Immediate actions taken").fill("CPR started; 911 called.")
    save(page, "narrative")
    page.get_by_label("Party 1").fill("family")
    page.get_by_label("Notified at").first.fill("2026-11-19T08:00")
    save(page, "notifications")
    page.get_by_label("Harm rating").select_option("3")
    page.get_by_label("Risk rating").select_option("3")
    page.get_by_label("Serious injury or harm").select_option("yes")
    page.get_by_label("Basis for serious harm").select_option("physical")
    save(page, "severity")


@pytest.mark.parametrize("site", ["sqlite", "postgres"], indirect=True)
def test_level_2_drafts_and_level_1_submits_through_the_screens(site: Site) -> None:
    drafter = site.page("l2", accessibility=True)
    drafter.goto("/")
    click_and_wait(drafter.get_by_role("button", name=f"Import from the JC queue {CASE}"))
    expect(drafter.get_by_role("heading", level=1)).to_contain_text("Draft")
    # The domain's own message, shown beside the field it names; nothing recorded.
    drafter.get_by_label("Age").first.fill("two hundred")
    drafter.get_by_label("Client 1 id").fill("C-1042")
    save(drafter, "clients")
    expect(drafter.locator("#error-clients-clients")).to_contain_text("age must be a whole number")
    fill_every_screen(drafter)
    expect(drafter.locator(".checklist li.missing")).to_have_count(0)
    expect(drafter.get_by_text("a Level 1 user submits with Email OMH")).to_be_visible()
    expect(drafter.get_by_role("link", name="Email OMH…")).to_have_count(0)
    screenshot(drafter, "incident-draft")
    assert serious_violations(drafter) == []
    # Posted by hand, Email OMH is refused (403) and nothing changes.
    cookies = {c["name"]: c["value"] for c in drafter.context.cookies()}
    incident_path = drafter.url.split(site.base_url, 1)[1].split("#")[0]
    form = drafter.locator("input[name=csrf_token]").first.get_attribute("value")
    version = drafter.locator("input[name=version]").first.get_attribute("value")
    refused = httpx.post(f"{site.base_url}{incident_path}/email-omh", cookies=cookies,
                         data={"csrf_token": form, "password": PASSWORD, "version": version})
    assert refused.status_code == 403
    drafter.reload()
    expect(drafter.get_by_role("heading", level=1)).to_contain_text("Draft")
    drafter.goto("/")  # home: what waits for a Level 1 user
    expect(drafter.get_by_role("table", name="Drafts")).to_contain_text("ready to submit")

    submitter = site.page("l1", accessibility=True)
    open_incident(submitter)
    submitter.get_by_role("link", name="Email OMH…").click()
    assert serious_violations(submitter) == []
    submitter.get_by_label("Your password, to attest").fill("not my password")
    click_and_wait(submitter.get_by_role("button", name="Email OMH"))
    expect(submitter.get_by_role("alert")).to_contain_text("not right")
    submitter.get_by_label("Your password, to attest").fill(PASSWORD)
    screenshot(submitter, "confirm-email-omh")
    click_and_wait(submitter.get_by_role("button", name="Email OMH"))
    expect(submitter.get_by_role("heading", level=1)).to_contain_text("Emailed to OMH")
    expect(submitter.get_by_role("table", name="Reporting clocks")).to_contain_text("Report of Death")
    screenshot(submitter, "incident-submitted")
    # On to closed, still in the browser: the Report of Death, the investigation, its findings, and closure.
    for step in ("Email JC (Report of Death)", "Close"):
        if step == "Close":
            click_and_wait(submitter.get_by_role("button", name="Start investigation"))
            submitter.get_by_label("Investigation findings").fill("No deficiency in care found.")
            click_and_wait(submitter.get_by_role("button", name="Document findings"))
        click_and_wait(submitter.get_by_role("link", name=f"{step}…"))
        submitter.get_by_label("Your password, to attest").fill(PASSWORD)
        click_and_wait(submitter.get_by_role("button", name=step))
    expect(submitter.get_by_role("heading", level=1)).to_contain_text("Closed")
    expect(submitter.get_by_role("table", name="Reporting clocks")).to_contain_text("met on time")
    session = next(c["value"] for c in submitter.context.cookies() if c["name"] == "nimrs_session")
    history = httpx.get(f"{site.base_url}/incidents/{CASE}/history", headers={"Authorization": f"Bearer {session}"})
    attested = {e["event"]: e["data"]["attested"] for e in history.json() if "attested" in e["data"]}
    assert attested == {"EmailedToOmh": True, "ReportOfDeathSubmitted": True, "Closed": True}


def test_another_facility_gets_not_found_in_the_same_words_as_a_made_up_case(site: Site) -> None:
    page = site.page("other.l1")
    page.goto(f"/web/incidents/{CASE}")
    expect(page.get_by_role("heading", level=1)).to_have_text("Not found")
    elsewhere = page.get_by_role("alert").inner_text()
    page.goto("/web/incidents/2026-999999")
    assert page.get_by_role("alert").inner_text() == elsewhere.replace(CASE, "2026-999999")


def test_new_incident_shows_the_route_clocks_and_rule_before_it_is_created(site: Site) -> None:
    page = site.page("l2", accessibility=True)
    page.goto("/")
    click_and_wait(page.get_by_role("link", name="New incident"))
    page.get_by_label("Program").fill("Adult Inpatient Unit 3")
    page.get_by_label("Setting").select_option("inpatient")
    page.get_by_label("Incident type").select_option("si.fall")
    page.get_by_label("Serious injury or harm").select_option("yes")
    expect(page.locator("#classification")).to_contain_text("Route:")
    answer = page.locator("#classification").inner_text()
    assert "Why" in answer and "Clocks" in answer
    page.get_by_label("Summary").fill("Fell in the day room; X-ray at the ER.")
    screenshot(page, "new-incident")
    assert serious_violations(page) == []
    click_and_wait(page.get_by_role("button", name="Create the draft"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("Draft")
    expect(page.get_by_text("si.fall").first).to_be_visible()
