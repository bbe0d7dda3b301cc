"""Obligations and the notification ledger through the pages (issue 12, ADR 0014), on a site that pins Part 524's
obligations (part524@1): the notice to a qualified person met on time through the forms, a waiver and an extension,
closing refused while a notice is open, and the redacted copy previewed (Level 1 only) and released with its hash."""

from __future__ import annotations

import hashlib
import io
import re
from pathlib import Path
from typing import Any, cast

import httpx
import pytest
from playwright.sync_api import Page, expect
from pypdf import PdfReader

from domain.obligations.sets import ALL_CLOCK_NAMES
from domain.vpcr import incident_id_for
from tests.browser.conftest import Site, click_and_wait, screenshot, serious_violations
from tests.browser.test_every_page import ISO_TIME
from tests.http.support import PASSWORD, eventually
from tests.http.support import SCREENS as DETAILS

CASE = "2026-015501"
INCIDENT = f"/web/incidents/{CASE}"
NOTICE = "Notice to the qualified person (Jonathan's Law)"
AUTOPSY = "Autopsy report to the JC"


@pytest.fixture
def site_settings(tmp_path: Path) -> dict[str, str]:
    return {"NIMRS_OBLIGATIONS_DEFAULT": "part524@1", "NIMRS_DOCUMENTS_DIR": str(tmp_path / "documents")}


def imported(site: Site) -> None:
    with site.runtime() as runtime:
        runtime.service.import_report(runtime.accounts.get("l2"), incident_id_for(CASE))


def submitted(site: Site, *, investigated: bool = False) -> None:
    """Imported, its screens complete (discovered before the JC report), and emailed to OMH; with ``investigated``,
    on to findings documented, where only the obligations stand between it and closing."""
    incident_id = incident_id_for(CASE)
    with site.runtime() as runtime:
        service, l1 = runtime.service, runtime.accounts.get("l1")
        service.import_report(l1, incident_id)
        for screen, fields in DETAILS.items():
            service.record_details(l1, incident_id, screen, cast(dict[str, Any], fields))
        service.record_details(l1, incident_id, "incident", {"discovered_at": "2026-11-19T06:30:00-05:00"})
        service.email_omh(l1, incident_id)
        if investigated:
            service.submit_report_of_death(l1, incident_id)
            service.start_investigation(l1, incident_id)
            service.document_findings(l1, incident_id, "Natural causes; no deficiency in care.")


def add_qualified_person(site: Site) -> None:
    with site.runtime() as runtime:
        runtime.service.record_notice_recipient(runtime.accounts.get("l2"), incident_id_for(CASE), {
            "recipient_id": "qp-1", "role": "qualified_person", "name": "Ana Parent", "relationship": "sister",
            "client_id": "C-1042"})


def obligation(page: Page, title: str) -> Any:
    return page.get_by_role("table", name="Obligations and reporting clocks").get_by_role("row").filter(has_text=title)


def test_level_2_records_a_qualified_person_and_a_notification_and_the_notice_is_met_on_time(site: Site) -> None:
    imported(site)
    page = site.page("l2", accessibility=True)
    page.goto(INCIDENT)
    # Reported to the JC at 9:40 am yesterday: the 24-hour notice ran out 20 minutes ago; still provisional (a draft).
    notice = obligation(page, NOTICE)
    expect(notice).to_contain_text("overdue since earlier today")
    expect(notice).to_contain_text("provisional")
    expect(notice).to_contain_text("blocks closing")
    expect(notice.locator("details.citation")).to_contain_text("Mental Hygiene Law § 33.23(b)")
    expect(page.get_by_text("Waive…")).to_have_count(0)  # Level 1 only

    ledger = page.get_by_role("region", name="Notification ledger")
    ledger.get_by_text("Add a person owed notice").click()
    ledger.get_by_label("Role", exact=True).select_option("qualified_person")
    ledger.get_by_label("Full name").fill("Ana Parent")
    ledger.get_by_label("Relationship to the client").fill("sister")
    ledger.get_by_label("Client id").fill("C-1042")
    ledger.get_by_label("Phone", exact=True).fill("555-0100")
    ledger.get_by_label("Preferred way to reach them").select_option("phone")
    click_and_wait(page.get_by_role("button", name="Add the person"))
    people = page.get_by_role("table", name="People owed notice")
    expect(people).to_contain_text("Qualified person")
    expect(people).to_contain_text("Ana Parent")
    expect(people).to_contain_text("phone 555-0100 (preferred)")

    # A time still to come is refused in the domain's words, and what was typed is kept.
    ledger.get_by_text("Record a notification").click()
    ledger.get_by_label("When (New York time)").fill("2026-11-21T12:00")
    ledger.get_by_label("How", exact=True).select_option("phone")
    ledger.get_by_label("Outcome").select_option("reached")
    ledger.get_by_label("Note", exact=True).fill("Told her by phone.")
    click_and_wait(page.get_by_role("button", name="Record the notification"))
    expect(page.get_by_role("alert")).to_contain_text("notified_at")
    expect(ledger.get_by_label("Note", exact=True)).to_have_value("Told her by phone.")
    expect(page.get_by_role("table", name="Notifications made")).to_contain_text("No notification is recorded yet")

    ledger.get_by_label("When (New York time)").fill("2026-11-19T12:00")
    click_and_wait(page.get_by_role("button", name="Record the notification"))
    made = page.get_by_role("table", name="Notifications made").get_by_role("row").filter(has_text="Ana Parent")
    for shown in ("Thu 19 Nov 2026, 12:00 pm EST", "Phone", "Reached", "Told her by phone.", "l2"):
        expect(made).to_contain_text(shown)
    notice = obligation(page, NOTICE)
    expect(notice).to_contain_text("met on time")
    expect(notice).to_contain_text("met Thu 19 Nov 2026, 12:00 pm EST")
    screenshot(page, "obligations-ledger")
    assert serious_violations(page) == []


def test_level_1_extends_and_waives_an_obligation_with_a_reason(site: Site) -> None:
    submitted(site)
    # Level 2 sees no waiver form; posted by hand, with or without the CSRF token, it is refused and nothing changes.
    clerk = site.page("l2")
    clerk.goto(INCIDENT)
    cookies = {c["name"]: c["value"] for c in clerk.context.cookies()}
    form = {"key": "autopsy_report", "reason": "no", "version": clerk.locator("input[name=version]").first.input_value()}
    token = clerk.locator("input[name=csrf_token]").first.input_value()
    for sent in (form, {**form, "csrf_token": token}):
        refused = httpx.post(f"{site.base_url}{INCIDENT}/obligations/waive", cookies=cookies, data=sent)
        assert refused.status_code == 403
    page = site.page("l1", accessibility=True)
    page.goto(INCIDENT)
    autopsy = obligation(page, AUTOPSY)
    expect(autopsy).not_to_contain_text("provisional")  # fixed at Email OMH
    autopsy.get_by_text("Extend…").click()
    autopsy.get_by_label(re.compile("New due time")).fill("2027-03-31T17:00")
    autopsy.get_by_label("Reason for the extension").fill("The medical examiner's backlog.")
    click_and_wait(autopsy.get_by_role("button", name="Extend"))
    expect(obligation(page, AUTOPSY)).to_contain_text("due Wed 31 Mar 2027, 5:00 pm EDT")
    assert serious_violations(page) == []

    autopsy = obligation(page, AUTOPSY)
    autopsy.get_by_text("Waive…").click()
    autopsy.get_by_label(re.compile("Reason for waiving")).fill("The medical examiner declined an autopsy.")
    click_and_wait(autopsy.get_by_role("button", name="Waive"))
    autopsy = obligation(page, AUTOPSY)
    expect(autopsy).to_contain_text("waived: The medical examiner declined an autopsy.")
    expect(autopsy.get_by_text("Waive…")).to_have_count(0)
    # Only the notice, which cannot be extended, is left to waive.
    expect(obligation(page, NOTICE).get_by_text("Extend…")).to_have_count(0)
    expect(obligation(page, NOTICE).get_by_text("Waive…")).to_have_count(1)


def test_closing_with_an_open_notice_is_refused_naming_it_until_it_is_waived(site: Site) -> None:
    submitted(site, investigated=True)
    page = site.page("l1")
    page.goto(INCIDENT)
    expect(page.locator(".blockers")).to_contain_text("qualified_person_notice is open")
    expect(page.get_by_role("link", name="Close…")).to_have_count(0)
    # The confirm form, posted anyway (a page open from before), is refused before the password is checked.
    page.goto(f"{INCIDENT}/close/confirm")
    page.get_by_label("Your password, to attest").fill(PASSWORD)
    click_and_wait(page.get_by_role("button", name="Close"))
    expect(page.get_by_role("alert")).to_contain_text("cannot close")
    expect(page.locator("main")).to_contain_text("qualified_person_notice is open (due 2026-11-20 09:40 EST)")

    page.goto(INCIDENT)
    notice = obligation(page, NOTICE)
    notice.get_by_text("Waive…").click()
    notice.get_by_label(re.compile("Reason for waiving")).fill("No qualified person could be identified.")
    click_and_wait(notice.get_by_role("button", name="Waive"))
    expect(page.locator(".blockers")).to_have_count(0)
    click_and_wait(page.get_by_role("link", name="Close…"))
    page.get_by_label("Your password, to attest").fill(PASSWORD)
    click_and_wait(page.get_by_role("button", name="Close"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("Closed")


def test_the_redacted_copy_is_previewed_by_level_1_only_and_released_with_its_hash(site: Site, tmp_path: Path) -> None:
    submitted(site)
    add_qualified_person(site)
    clerk = site.page("l2")
    clerk.goto(INCIDENT)
    ledger = clerk.get_by_role("region", name="Notification ledger")
    ledger.get_by_text("Record a request").click()
    ledger.get_by_label("What is asked for").select_option("incident_report_copy")
    ledger.get_by_label("From", exact=True).select_option("qp-1")
    ledger.get_by_label("Received (New York time)").fill("2026-11-20T08:00")
    click_and_wait(clerk.get_by_role("button", name="Record the request"))
    requests = clerk.get_by_role("table", name="Requests for records and information")
    expect(requests).to_contain_text("Copy of the incident report")
    expect(requests).to_contain_text("Ana Parent")
    expect(requests).to_contain_text("due Mon 30 Nov, 11:59 pm EST")  # 10 calendar days after the day received
    expect(clerk.get_by_role("link", name=re.compile("Preview the redacted copy"))).to_have_count(0)
    refused = clerk.goto(f"{INCIDENT}/ledger/requests/request-1/copy.pdf")
    assert refused is not None and refused.status == 403
    expect(clerk.get_by_role("alert")).to_contain_text("Level 1")

    page = site.page("l1", accessibility=True)
    page.goto(INCIDENT)
    link = page.get_by_role("link", name="Preview the redacted copy (PDF) for request-1")
    preview = page.request.get(str(link.get_attribute("href")))
    assert preview.status == 200
    assert preview.headers["content-type"] == "application/pdf"
    assert preview.headers["cache-control"] == "no-store"
    assert preview.headers["content-disposition"].startswith("inline")
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(preview.body())).pages)
    assert "Dear Ana Parent" in text and "Employee A" in text and "S-311" not in text
    assert serious_violations(page) == []

    page.get_by_label("Send it by").select_option("letter")
    page.get_by_label("I read the preview: it names nobody it should not").check()
    click_and_wait(page.get_by_role("button", name="Release the copy for request-1"))
    row = page.get_by_role("table", name="Requests for records and information").get_by_role("row").filter(
        has_text="Copy of the incident report")
    expect(row).to_contain_text("met on time")
    expect(row).to_contain_text("by letter")
    expect(obligation(page, "Copy of the incident report to a qualified person")).to_contain_text("met on time")
    digest = row.locator("code.hash").inner_text()
    stored = tmp_path / "documents" / f"{digest}.pdf"
    assert stored.exists() and hashlib.sha256(stored.read_bytes()).hexdigest() == digest
    expect(page.get_by_role("button", name="Release the copy for request-1")).to_have_count(0)
    assert ISO_TIME.findall(page.locator("main").inner_text()) == []


def test_the_overdue_list_and_the_board_name_part_524_clocks(site: Site) -> None:
    imported(site)  # the draft's provisional notice is already overdue
    page = site.page("l2", accessibility=True)
    eventually(lambda: page.goto("/web/overdue?status=overdue") and CASE in page.locator("main").inner_text())
    names = page.get_by_label("Clock", exact=True).locator("option")
    expect(names).to_have_count(len(ALL_CLOCK_NAMES) + 1)  # and "Any"
    row = page.get_by_role("table", name="Overdue clocks").get_by_role("row").filter(has_text=CASE)
    expect(row).to_contain_text(NOTICE)
    expect(row).to_contain_text("provisional")
    page.get_by_label("Clock", exact=True).select_option("qualified_person_notice")
    click_and_wait(page.get_by_role("button", name="Show"))
    expect(page.get_by_role("table", name="Overdue clocks")).to_contain_text(NOTICE)
    assert serious_violations(page) == []
    page.goto("/web/board")
    board = page.get_by_role("table", name="Open reporting clocks")
    expect(board.get_by_role("row").filter(has_text=NOTICE)).to_contain_text("1")
    page.goto("/")
    expect(page.get_by_role("table", name="Overdue")).to_contain_text(NOTICE)
