"""The pages refuse what the API refuses, with a 4xx naming the problem and nothing recorded (found by a hostile
review): multipart forms (which would carry NUL past the text checks), and versions that are not versions."""

from __future__ import annotations

import re

import httpx

from tests.browser.conftest import Site
from tests.http.support import PASSWORD

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def signed_in(site: Site, user: str) -> tuple[httpx.Client, str]:
    client = httpx.Client(base_url=site.base_url, timeout=30)
    form = CSRF.search(client.get("/web/sign-in").text)
    assert form is not None
    assert client.post("/web/sign-in", data={"username": user, "password": PASSWORD,
                                             "csrf_token": form.group(1)}).status_code == 303
    token = CSRF.search(client.get("/").text)
    assert token is not None
    return client, token.group(1)


def imported(site: Site) -> tuple[httpx.Client, str, str]:
    client, csrf = signed_in(site, "l1")
    page = client.post("/web/incidents/2026-015501/import-report", data={"csrf_token": csrf, "version": "1"},
                       follow_redirects=True)
    assert page.status_code == 200 and "Draft" in page.text
    return client, csrf, str(page.url).split("/web/incidents/", 1)[1]


def test_a_multipart_form_is_refused_before_it_can_carry_nul_into_the_log(site: Site) -> None:
    client, csrf, incident = imported(site)
    refused = client.post(f"/web/incidents/{incident}/record-details/narrative",
                          files={"narrative": (None, "a\x00b"), "csrf_token": (None, csrf), "version": (None, "2")})
    assert refused.status_code == 415 and "x-www-form-urlencoded" in refused.text
    assert "a\x00b" not in client.get(f"/web/incidents/{incident}").text
    history = client.get(f"/web/incidents/{incident}/timeline").text
    assert "Details recorded" not in history


def test_a_version_that_is_not_a_version_is_refused_and_nothing_recorded(site: Site) -> None:
    client, csrf, incident = imported(site)
    for version in ("²", "9" * 5000, "-1", "abc", None):
        data = {"csrf_token": csrf, "narrative": "Found on rounds."} | ({"version": version} if version else {})
        refused = client.post(f"/web/incidents/{incident}/record-details/narrative", data=data)
        assert refused.status_code == 422, (version, refused.status_code)
        assert "version must be" in refused.text
    assert "Found on rounds." not in client.get(f"/web/incidents/{incident}").text
    stale = client.post(f"/web/incidents/{incident}/record-details/narrative",
                        data={"csrf_token": csrf, "narrative": "Found on rounds.", "version": "1"})
    assert stale.status_code == 412


def test_redelivering_a_position_no_log_can_hold_is_refused_as_in_the_api(site: Site) -> None:
    client, csrf = signed_in(site, "admin")
    for position in ("-1", "9" * 25):
        refused = client.post("/web/admin/webhooks/00000000-0000-0000-0000-000000000000/redeliver",
                              data={"csrf_token": csrf, "positions": position})
        assert refused.status_code == 422, position
