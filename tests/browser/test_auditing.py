"""Auditors' pages: an incident's timeline and how it stood then, who read it, the audit trail and the
statistics, with their CSV downloads."""

from __future__ import annotations

import csv
import io
import re
import time
from pathlib import Path

import httpx
from playwright.sync_api import Page, expect

from domain.vpcr import incident_id_for
from tests.browser.conftest import Site, screenshot, serious_violations
from tests.http.support import PASSWORD

CASE = "2026-015501"  # the report waiting in F-001's JC queue since 10:00 am EST on 20 Nov 2026


def make_history(site: Site, narrative: str = "Found unresponsive on rounds.") -> None:
    """Import the queued report (11:00 am EST), record where it happened (noon), then correct it (1:00 pm)."""
    incident = incident_id_for(CASE)
    with site.runtime() as runtime:
        site.clock.advance(hours=1)
        runtime.service.import_report(runtime.accounts.get("l1"), incident)
        site.clock.advance(hours=1)
        runtime.service.record_details(runtime.accounts.get("l2"), incident, "incident", {"location": "Room 312"})
        site.clock.advance(hours=1)
        runtime.service.record_details(runtime.accounts.get("l2"), incident, "incident", {"location": "Room 314"})
        runtime.service.record_details(runtime.accounts.get("l2"), incident, "narrative", {"narrative": narrative})
    site.clock.advance(hours=1)
    wait_for_views(site)


def wait_for_views(site: Site) -> None:
    """The views trail the event log by well under a second: downloads cannot retry as ``expect`` does."""
    for _ in range(50):
        if httpx.get(f"{site.base_url}/health").json()["views_lag_events"] == 0:
            return
        time.sleep(0.2)
    raise AssertionError("the views did not catch up with the event log")


def download(page: Page, link_name: str) -> tuple[str, list[list[str]]]:
    with page.expect_download() as started:
        page.get_by_role("link", name=link_name).first.click()
    saved = started.value
    return saved.suggested_filename, list(csv.reader(io.StringIO(Path(saved.path()).read_text())))


def test_an_auditor_sees_the_incident_as_it_stood_and_what_changed(site: Site) -> None:
    make_history(site)
    page = site.page("l3", accessibility=True)
    page.goto(f"/web/incidents/{CASE}/timeline")
    expect(page.get_by_role("heading", level=1)).to_have_text(re.compile(f"Timeline of incident {CASE}"))
    events = page.get_by_role("region", name="Every event")
    expect(events).to_contain_text("Imported from the JC queue")
    expect(events).to_contain_text("by l2, Level 2, F-001")
    expect(events).to_contain_text(re.compile(r"Location: from Room 312 → to\s+Room 314"))  # old → new
    then = page.get_by_role("region", name="As it stood then")
    expect(then.locator("dl")).to_contain_text("Draft")  # now, by default

    page.get_by_label("Time").fill("2026-11-20T10:30")  # New York: after the report came, before the import
    page.get_by_role("button", name="Show it at this time").click()
    expect(then).to_contain_text("Version 1 of 5, as it stood on Fri 20 Nov 2026, 10:30 am EST")
    expect(then.locator("dl")).to_contain_text("JC import queue")
    expect(then.get_by_role("table", name="Details at version 1")).not_to_contain_text("Room 31")

    page.get_by_label("From version").select_option("3")
    page.get_by_label("To version").select_option("4")
    page.get_by_role("button", name="Compare").click()
    changes = page.get_by_role("table", name=re.compile("Changes from version 3"))
    row = changes.get_by_role("row").filter(has_text="Location")
    expect(row.get_by_role("cell")).to_have_text(["Room 312", "Room 314"])
    expect(then).to_contain_text("Version 1 of 5")  # the other control kept its point
    expect(page.get_by_role("heading", name="Who read it")).to_have_count(0)  # Level 3 may not see readers
    assert serious_violations(page) == []
    screenshot(page, "timeline")

    # A Level 1 user may: the auditor's reads are there, with what was shown.
    reader = site.page("l1")
    reader.goto(f"/web/incidents/{CASE}/timeline")
    reads = reader.get_by_role("table", name=re.compile("Recorded reads of this incident"))
    expect(reads.get_by_role("row").filter(has_text="l3").filter(has_text="changes between versions")).to_have_count(1)


def test_another_facility_gets_not_found_in_the_same_words_as_a_made_up_incident(site: Site) -> None:
    page = site.page("other.l1")
    answers = []
    for reference in (CASE, "2026-999999"):
        response = page.goto(f"/web/incidents/{reference}/timeline")
        assert response is not None and response.status == 404
        answers.append(page.get_by_role("alert").inner_text().replace(reference, "REF"))
    assert answers == ["incident 'REF' not found"] * 2


def test_a_level_3_user_searches_the_audit_trail_and_downloads_it_and_the_statistics(site: Site) -> None:
    make_history(site)
    page = site.page("l3", accessibility=True)
    page.goto("/web/audit")
    page.get_by_label("Incident").fill(CASE)
    page.get_by_label("User").fill("l1")
    page.get_by_role("button", name="Search").click()
    table = page.get_by_role("table", name=re.compile("Recorded events"))
    expect(table.get_by_role("row")).to_have_count(2)  # the header and l1's import
    expect(table).to_contain_text("Imported from the JC queue")
    expect(table).to_contain_text("Fri 20 Nov 2026, 11:00 am EST")
    assert serious_violations(page) == []
    screenshot(page, "audit-trail")
    name, rows = download(page, "Download as CSV")
    assert name == "audit-trail.csv"
    header = rows[0]  # the same layout as `nimrs audit trail --csv` (projections.audit.to_csv)
    assert header[:5] == ["position", "incident_id", "version", "facility", "recorded_at"]
    shown = [dict(zip(header, row, strict=True)) for row in rows[1:]]
    assert [(r["recorded_at"], r["actor_id"], r["event_type"]) for r in shown] == [
        ("2026-11-20T11:00:00-05:00", "l1", "ImportedFromJcQueue")]

    page.goto("/web/statistics")
    by_type = page.get_by_role("table", name="Incidents by incident type")
    expect(by_type.get_by_role("row").filter(has_text="Death")).to_contain_text("1")
    expect(page.get_by_role("img", name=re.compile("By incident type: a bar chart of 1 incident"))).to_be_visible()
    assert serious_violations(page) == []
    screenshot(page, "statistics")
    name, rows = download(page, "Download as CSV (by incident type)")
    assert name == "statistics-by-type.csv"
    assert rows == [["facility", "dimension", "value", "label", "count"],
                    ["F-001", "type", "death.natural-unexpected", rows[1][3], "1"]]


def test_csv_cells_a_spreadsheet_would_run_as_formulas_are_neutralised(site: Site) -> None:
    make_history(site, narrative='=HYPERLINK("http://example.test","click")')
    with httpx.Client(base_url=site.base_url) as client:  # signed in through the form, as a browser would
        client.get("/web/sign-in")
        signed_in = client.post("/web/sign-in", data={"username": "l3", "password": PASSWORD, "next": "/",
                                                       "csrf_token": client.cookies["nimrs_sign_in"]})
        assert signed_in.status_code == 303
        response = client.get("/web/audit.csv", params={"incident": CASE})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert response.headers["content-disposition"] == 'attachment; filename="audit-trail.csv"'
    rows = list(csv.DictReader(io.StringIO(response.text)))
    narrative = next(row for row in rows if row["field"] == "narrative")
    assert narrative["new"] == '\'=HYPERLINK("http://example.test","click")'
    location = [row["new"] for row in rows if row["field"] == "location"]
    assert location == ["Room 312", "Room 314"]  # ordinary text as it was
