"""Signing in and out of the pages, with the API's accounts, lockout and CSRF rules."""

from __future__ import annotations

import httpx
from playwright.sync_api import expect

from tests.browser.conftest import Site, screenshot, serious_violations, sign_in
from tests.http.support import PASSWORD


def test_sign_in_shows_my_facility_work_and_sign_out_ends_the_session(site: Site) -> None:
    page = site.page()
    page.goto("/")
    expect(page).to_have_url(f"{site.base_url}/web/sign-in?next=%2F")
    screenshot(page, "sign-in")
    sign_in(page, "l2")
    expect(page.get_by_role("heading", name="My facility's work")).to_be_visible()
    expect(page.get_by_role("table", name="Reports from the Justice Center")).to_contain_text("2026-015501")
    cookie = next(c for c in page.context.cookies() if c["name"] == "nimrs_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    # The token is gone on the server, not only from the browser: the API refuses it too.
    response = httpx.get(f"{site.base_url}/me", headers={"Authorization": f"Bearer {cookie['value']}"})
    assert response.status_code == 401


def test_a_wrong_password_is_refused_in_the_api_words_and_three_lock_the_account(site: Site) -> None:
    page = site.page()
    for _ in range(3):
        sign_in(page, "l1", "not the password at all")
        expect(page.get_by_role("alert")).to_contain_text("user name or password")
    sign_in(page, "l1")  # the right password, too late: the account is locked
    expect(page.get_by_role("alert")).to_contain_text("user name or password")


def test_a_form_posted_without_the_csrf_token_is_refused(site: Site) -> None:
    page = site.page("l2")
    session = next(c for c in page.context.cookies() if c["name"] == "nimrs_session")["value"]
    cookies = {"nimrs_session": session}
    refused = httpx.post(f"{site.base_url}/web/sign-out", cookies=cookies, follow_redirects=False)
    assert refused.status_code == 403
    assert "reload the page" in refused.text
    assert httpx.get(f"{site.base_url}/me", headers={"Authorization": f"Bearer {session}"}).status_code == 200
    # Without the sign-in form's own token, a sign-in is refused too (no login CSRF).
    anonymous = httpx.post(f"{site.base_url}/web/sign-in", data={"username": "l1", "password": "x" * 20})
    assert anonymous.status_code == 403


def test_the_sign_in_and_home_pages_pass_the_accessibility_check(site: Site) -> None:
    page = site.page(accessibility=True)
    page.goto("/web/sign-in")
    assert serious_violations(page) == []
    sign_in(page, "l1")
    screenshot(page, "home")
    assert serious_violations(page) == []


def test_the_password_and_refusal_pages_pass_the_accessibility_check(site: Site) -> None:
    page = site.page("l1", accessibility=True)
    page.goto("/web/password")
    expect(page.get_by_role("heading", name="Change your password")).to_be_visible()
    assert serious_violations(page) == []
    page.goto("/web/incidents/2026-999999")
    expect(page.get_by_role("heading", name="Not found")).to_be_visible()
    assert serious_violations(page) == []


def test_keyboard_only_sign_in_skip_link_and_a_visible_focus(site: Site) -> None:
    page = site.page()
    page.goto("/web/sign-in")
    page.keyboard.type("l1")  # the user name field has the focus
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="My facility's work")).to_be_visible()
    page.wait_for_load_state("load")  # the page's scripts too: a key pressed before would go to the old page
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to the content")
    expect(skip).to_be_focused()
    box = skip.bounding_box()
    assert box is not None and box["x"] >= 0 and box["y"] >= 0  # shown on screen when focused
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    focused = page.evaluate("() => [document.activeElement.textContent.trim(), "
                            "getComputedStyle(document.activeElement).outlineStyle]")
    assert focused[0] == "New incident" and focused[1] != "none"  # the first thing in the content, visibly focused
