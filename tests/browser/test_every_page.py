"""Every page, as the users who read it: no serious or critical accessibility violation, and no time shown
to a person in UTC or as ISO text (New York time with the zone, always)."""

from __future__ import annotations

import re

from domain.vpcr import incident_id_for
from tests.browser.conftest import Site, serious_violations
from tests.http.support import SCREENS

CASE = "2026-015501"
ISO_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d|\bUTC\b|\+00:00|\d\d:\d\dZ\b")
PAGES = {
    "l1": ["/", "/web/incidents", f"/web/incidents/{CASE}", f"/web/incidents/{CASE}/timeline",
           f"/web/incidents/{CASE}/timeline?version=2", f"/web/incidents/{CASE}/timeline?from_version=2&to_version=9",
           f"/web/incidents/{CASE}/submit-report-of-death/confirm", "/web/board", "/web/overdue?status=all",
           f"/web/audit?incident={CASE}", "/web/statistics", "/web/incidents/new", "/web/password"],
    "admin": ["/web/admin/users", "/web/admin/security-log", "/web/admin/webhooks"],
    "reviewer": ["/", "/web/board", "/web/overdue?status=all", "/web/statistics", "/web/incidents"],
}


def test_every_page_is_accessible_and_shows_times_in_new_york_time(site: Site) -> None:
    with site.runtime() as runtime:
        l1 = runtime.accounts.get("l1")
        incident = runtime.service.import_report(l1, incident_id_for(CASE))
        for screen, fields in SCREENS.items():
            runtime.service.record_details(l1, incident.id, screen, fields)
        runtime.service.email_omh(l1, incident.id)
    site.clock.advance(days=5)  # the Report of Death clock is overdue
    problems: list[str] = []
    for user, paths in PAGES.items():
        page = site.page(user, accessibility=True)
        for path in paths:
            response = page.goto(path)
            assert response is not None and response.status == 200, (user, path, response and response.status)
            text = page.locator("main").inner_text()
            problems += [f"{user} {path}: shows {found!r}" for found in ISO_TIME.findall(text)]
            problems += [f"{user} {path}: {violation}" for violation in serious_violations(page)]
    assert problems == [], "\n".join(problems)
