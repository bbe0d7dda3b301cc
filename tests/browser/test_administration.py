"""The security administrator's pages (users, webhooks, security log) and the overdue list, in a real browser."""

from __future__ import annotations

import re
from typing import Any, cast

import httpx
from playwright.sync_api import Page, expect

from adapters.integrations.vpcr import parse_vpcr_reports
from tests.browser.conftest import Site, screenshot, serious_violations, sign_in
from tests.http.support import PASSWORD, SCREENS, VPCR

NEW_PASSWORD = "another long enough passphrase"


def csrf_of(page: Page) -> str:
    return page.locator("input[name=csrf_token]").first.get_attribute("value") or ""


def status_at(page: Page, path: str) -> int:
    response = page.goto(path)
    assert response is not None
    return response.status


def session_of(page: Page) -> dict[str, str]:
    return {"nimrs_session": next(c["value"] for c in page.context.cookies() if c["name"] == "nimrs_session")}


def test_an_admin_adds_a_user_whose_one_time_password_must_be_changed_at_sign_in(site: Site) -> None:
    admin = site.page("admin", accessibility=True)
    admin.goto("/web/admin/users")
    admin.get_by_label("User name").fill("new.nurse")
    admin.get_by_label("Level", exact=True).select_option("1")
    admin.get_by_label("Initial password").fill(NEW_PASSWORD)
    admin.get_by_role("button", name="Add user").click()
    expect(admin.get_by_role("status")).to_contain_text("new.nurse was added")
    users = admin.get_by_role("table", name="The users of F-001")
    expect(users.get_by_role("row", name=re.compile("new.nurse"))).to_contain_text("Level 1")
    screenshot(admin, "admin-users")
    assert serious_violations(admin) == []
    # A name already taken, in any facility, is refused in the domain's words with the API's 409.
    with admin.expect_response(lambda r: r.request.method == "POST") as answer:
        admin.get_by_label("User name").fill("other.l1")
        admin.get_by_label("Initial password").fill(NEW_PASSWORD)
        admin.get_by_role("button", name="Add user").click()
    assert answer.value.status == 409
    expect(admin.get_by_role("alert")).to_contain_text("the user name 'other.l1' is taken")

    admin.get_by_role("button", name="Reset password of new.nurse").click()
    expect(admin.get_by_role("status")).to_contain_text("must change this one-time password")
    one_time = admin.locator("code.secret").inner_text()
    assert len(one_time) >= 12
    nurse = site.page()
    sign_in(nurse, "new.nurse", one_time)
    expect(nurse).to_have_url(f"{site.base_url}/web/password")
    expect(nurse.get_by_role("status")).to_contain_text("your password was set by admin")


def test_an_admin_unlocks_a_user_locked_by_three_wrong_passwords_but_not_its_own_account(site: Site) -> None:
    for _ in range(3):
        wrong = httpx.post(f"{site.base_url}/auth/token", json={"username": "l1", "password": "not it at all"})
        assert wrong.status_code == 401
    locked = httpx.post(f"{site.base_url}/auth/token", json={"username": "l1", "password": PASSWORD})
    assert locked.status_code == 401
    admin = site.page("admin")
    admin.goto("/web/admin/users")
    row = admin.get_by_role("row", name=re.compile(r"^l1 "))
    expect(row).to_contain_text("Locked (failed sign-ins)")
    row.get_by_role("button", name="Unlock l1").click()
    expect(admin.get_by_role("status")).to_contain_text("l1 was unlocked")
    expect(admin.get_by_role("row", name=re.compile(r"^l1 "))).to_contain_text("Active")
    assert httpx.post(f"{site.base_url}/auth/token", json={"username": "l1", "password": PASSWORD}).status_code == 200
    admin.get_by_text("Change level or role of l2").click()
    admin.get_by_label("Level of l2").select_option("3")
    admin.get_by_role("row", name=re.compile(r"^l2 ")).get_by_label("Security administrator").check()
    admin.get_by_role("button", name="Change l2").click()
    expect(admin.get_by_role("status")).to_contain_text("l2 was changed")
    expect(admin.get_by_role("row", name=re.compile(r"^l2 "))).to_contain_text("Level 3 security administrator")
    admin.get_by_role("button", name="Disable l3").click()
    expect(admin.get_by_role("row", name=re.compile(r"^l3 "))).to_contain_text("Disabled")
    assert httpx.post(f"{site.base_url}/auth/token", json={"username": "l3", "password": PASSWORD}).status_code == 403
    # No form for its own account, and a hand-made post is refused in the domain's words.
    expect(admin.get_by_role("row", name=re.compile(r"^admin "))).not_to_contain_text("Disable")
    refused = httpx.post(f"{site.base_url}/web/admin/users/admin/change", cookies=session_of(admin),
                         data={"csrf_token": csrf_of(admin), "level": "1"})
    assert refused.status_code == 403
    assert "may not change its own account" in refused.text
    own_unlock = httpx.post(f"{site.base_url}/web/admin/users/admin/unlock", cookies=session_of(admin),
                            data={"csrf_token": csrf_of(admin)})
    assert own_unlock.status_code == 403 and "may not unlock its own account" in own_unlock.text
    unforged = httpx.post(f"{site.base_url}/web/admin/users/l2/disable", cookies=session_of(admin))
    assert unforged.status_code == 403 and "reload the page" in unforged.text


def test_an_admin_gives_changes_and_removes_email_addresses_for_receipts(site: Site) -> None:
    admin = site.page("admin", accessibility=True)
    admin.goto("/web/admin/users")
    admin.get_by_label("User name").fill("night.nurse")
    admin.get_by_label("Level", exact=True).select_option("1")
    admin.get_by_label("Email address (optional").fill("Night.Nurse@Example.org")
    admin.get_by_label("Initial password").fill(NEW_PASSWORD)
    admin.get_by_role("button", name="Add user").click()
    expect(admin.get_by_role("status")).to_contain_text("night.nurse was added")
    users = admin.get_by_role("table", name="The users of F-001")
    expect(users.get_by_role("row", name=re.compile(r"^night\.nurse "))).to_contain_text("night.nurse@example.org")
    expect(users.get_by_role("row", name=re.compile(r"^l1 "))).to_contain_text("none")

    admin.get_by_text("Change email address of l1").click()
    admin.get_by_label("Email address of l1").fill("l1@example.org")
    admin.get_by_role("button", name="Save the email address of l1").click()
    expect(admin.get_by_role("status")).to_contain_text("The email address of l1 was changed.")
    expect(users.get_by_role("row", name=re.compile(r"^l1 "))).to_contain_text("l1@example.org")
    assert serious_violations(admin) == []
    admin.get_by_text("Change email address of night.nurse").click()
    expect(admin.get_by_label("Email address of night.nurse")).to_have_value("night.nurse@example.org")
    admin.get_by_label("Email address of night.nurse").fill("")
    admin.get_by_role("button", name="Save the email address of night.nurse").click()
    expect(admin.get_by_role("status")).to_contain_text("The email address of night.nurse was changed.")
    expect(users.get_by_role("row", name=re.compile(r"^night\.nurse "))).not_to_contain_text("@example.org")
    # What the browser's own check would stop is refused by the server in the use case's words, as the API's 422.
    refused = httpx.post(f"{site.base_url}/web/admin/users/l1/email", cookies=session_of(admin),
                         data={"csrf_token": csrf_of(admin), "email": "l1@example.org\r\nBcc: x@example.org"})
    assert refused.status_code == 422 and "must be one email address" in refused.text
    with site.runtime() as runtime:
        assert (runtime.accounts.account("l1").email, runtime.accounts.account("night.nurse").email) == \
            ("l1@example.org", None)
        details = [entry["detail"] for entry in runtime.security_log.entries(facility="F-001", outcome="done")
                   if entry["action"] in ("user.added", "user.changed")]
    assert details[:3] == ["email address removed", "email address set", "facility F-001, Level 1, with an email address"]


def test_only_security_admins_manage_users_and_each_only_its_own_facility(site: Site) -> None:
    level_1 = site.page("l1")
    assert status_at(level_1, "/web/admin/users") == 403
    expect(level_1.get_by_role("alert")).to_contain_text("only a security administrator")
    assert status_at(level_1, "/web/admin/security-log") == 403
    other = site.page("other.admin")
    other.goto("/web/admin/users")
    users = other.get_by_role("table", name="The users of F-002")
    expect(users).to_contain_text("other.l1")
    for name in ("l1", "l2", "admin", "reviewer"):
        expect(users.get_by_role("rowheader", name=name, exact=True)).to_have_count(0)
    # Another facility's user is "not found", as an absent one.
    elsewhere = httpx.post(f"{site.base_url}/web/admin/users/l1/disable", cookies=session_of(other),
                           data={"csrf_token": csrf_of(other)})
    assert elsewhere.status_code == 404 and "not found" in elsewhere.text
    assert status_at(other, "/web/admin/security-log?facility=F-001") == 404
    # A state reviewer reads any facility's security log (the API's rule), with the facility as a filter.
    reviewer = site.page("reviewer")
    reviewer.goto("/web/admin/security-log")
    reviewer.get_by_label("Facility").fill("F-002")
    reviewer.get_by_role("button", name="Show").click()
    expect(reviewer.get_by_role("table", name="Sign-ins, account changes and refusals in F-002")).to_contain_text(
        "other.admin")


def test_webhooks_refuse_a_private_url_as_the_api_does_and_the_security_log_shows_it(site: Site) -> None:
    admin = site.page("admin", accessibility=True)
    admin.goto("/web/admin/webhooks")
    admin.get_by_label("URL").fill("https://127.0.0.1/hook")
    with admin.expect_response(lambda r: r.request.method == "POST") as answer:
        admin.get_by_role("button", name="Subscribe").click()
    assert answer.value.status == 422
    token = httpx.post(f"{site.base_url}/auth/token", json={"username": "admin", "password": PASSWORD}).json()
    api = httpx.post(f"{site.base_url}/webhooks", json={"url": "https://127.0.0.1/hook"},
                     headers={"Authorization": f"Bearer {token['access_token']}"})
    assert api.status_code == 422
    shown = admin.get_by_role("alert").inner_text()
    assert shown and api.json()["detail"].startswith(shown)  # the same words (the API adds any problems after)

    admin.get_by_label("URL").fill("https://hooks.example.org/nimrs")
    admin.get_by_label("nimrs.Incident.Closed.v2").check()
    admin.get_by_role("button", name="Subscribe").click()
    expect(admin.get_by_role("heading", name="Subscribed")).to_be_visible()
    assert len(admin.locator("code.secret").inner_text()) >= 16
    admin.get_by_role("link", name="Every subscription").click()
    expect(admin.get_by_role("table", name="Subscriptions")).to_contain_text("https://hooks.example.org/nimrs")
    screenshot(admin, "webhooks")
    assert serious_violations(admin) == []
    admin.get_by_role("link", name="Deliveries to https://hooks.example.org/nimrs").click()
    expect(admin.get_by_role("table", name="Dead-lettered deliveries")).to_contain_text("None.")
    assert serious_violations(admin) == []

    admin.goto("/web/admin/security-log")
    log = admin.get_by_role("table", name="Sign-ins, account changes and refusals in F-001")
    expect(log).to_contain_text("sign_in")
    expect(log.get_by_role("row").nth(1)).to_contain_text("EST")
    admin.get_by_label("Outcome").select_option("refused")
    admin.get_by_label("Since").fill("2026-11-20")
    admin.get_by_role("button", name="Show").click()
    expect(admin).to_have_url(re.compile(r"outcome=refused"))
    expect(log).to_contain_text("POST /web/admin/webhooks")
    expect(log).not_to_contain_text("done")
    screenshot(admin, "security-log")
    assert serious_violations(admin) == []


def test_the_overdue_list_shows_late_clocks_in_new_york_time(site: Site) -> None:
    incident_id = parse_vpcr_reports([VPCR], "the report", site.clock())[0].incident_id
    with site.runtime() as runtime:
        level_1 = runtime.accounts.get("l1")
        runtime.service.import_report(level_1, incident_id)
        for screen, fields in SCREENS.items():
            runtime.service.record_details(level_1, incident_id, screen, cast(dict[str, Any], fields))
        runtime.service.email_omh(level_1, incident_id)
    site.clock.advance(days=5)
    page = site.page("l1", accessibility=True)
    page.goto("/web/overdue")
    clocks = page.get_by_role("table", name="Overdue clocks")
    row = clocks.get_by_role("row", name=re.compile("2026-015501"))
    # The Report of Death was due by the end of 24 November in New York; it is now 25 November, 10 am there.
    expect(row.first).to_contain_text("due Tue 24 Nov, 11:59 pm EST — 1 day late")
    expect(row.first.get_by_role("link", name="2026-015501")).to_have_attribute("href", f"/web/incidents/{incident_id}")
    text = page.locator("main").inner_text()
    assert not re.search(r"\d(Z|\+00:00)\b", text)
    screenshot(page, "overdue")
    assert serious_violations(page) == []
    # A state reviewer sees every facility by default, with the facility named on each row.
    reviewer = site.page("reviewer")
    reviewer.goto("/web/overdue")
    expect(reviewer.get_by_role("heading", level=1)).to_contain_text("every facility")
    expect(reviewer.get_by_role("row", name=re.compile("2026-015501")).first).to_contain_text("F-001")
