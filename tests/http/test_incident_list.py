"""``GET /incidents``: list and search over real HTTP, as each user may; bad values named; a state
reviewer's roll-up of every facility."""

from __future__ import annotations

from typing import Any

import pytest

from tests.http.support import VPCR, Api, eventually

OTHER = {**VPCR, "jc_case_number": "2026-015601", "facility": "F-002", "reported_type": "an.neglect",
         "jc_reported_at": "2026-11-18T23:30:00-05:00"}


@pytest.fixture
def both(api: Api) -> Api:
    assert api("l2").post("/vpcr-reports", json=VPCR).status_code == 201
    assert api("other.l1").post("/vpcr-reports", json=OTHER).status_code == 201
    assert api("l2").post("/incidents", json={"program": "Clinic A", "setting": "outpatient", "code": "si.fall",
                                              "summary": "Fell."}).status_code == 201
    eventually(lambda: len(api("reviewer").get("/incidents").json()["incidents"]) == 3)
    return api


def cases(answer: dict[str, Any]) -> list[str | None]:
    return [row["jc_case_number"] for row in answer["incidents"]]


def test_a_facility_lists_and_searches_its_own_incidents(both: Api) -> None:
    l3 = both("l3")
    listed = l3.get("/incidents")
    assert listed.status_code == 200
    body = listed.json()
    assert (body["facility"], body["total"], body["offset"], body["limit"]) == ("F-001", 2, 0, 50)
    new, received = body["incidents"]  # newest reported first: the New Incident was entered now
    assert (new["code"], new["state"], new["jc_case_number"], new["route"]) == ("si.fall", "draft", None, None)
    assert (received["jc_case_number"], received["state"], received["reported_at"]) == (
        "2026-015501", "jc_import_queue", "2026-11-19T14:40:00+00:00")
    assert cases(l3.get("/incidents", params={"code": "death."}).json()) == ["2026-015501"]
    assert cases(l3.get("/incidents", params={"state": "draft"}).json()) == [None]
    assert cases(l3.get("/incidents", params={"jc_case_number": "2026-015501"}).json()) == ["2026-015501"]
    assert cases(l3.get("/incidents", params={"reported_from": "2026-11-19", "reported_to": "2026-11-19"}).json()) \
        == ["2026-015501"]
    assert cases(l3.get("/incidents", params={"clock_status": "none", "limit": 1, "offset": 1}).json()) \
        == ["2026-015501"]
    assert l3.get("/incidents", params={"clock_status": "overdue"}).json()["incidents"] == []


def test_another_facility_is_not_found(both: Api) -> None:
    refused = both("other.l1").get("/incidents", params={"facility": "F-001"})
    assert refused.status_code == 404 and "F-001" in refused.json()["detail"]
    assert cases(both("other.l1").get("/incidents").json()) == ["2026-015601"]


def test_a_state_reviewer_lists_every_facility_unless_one_is_named(both: Api) -> None:
    reviewer = both("reviewer")
    everywhere = reviewer.get("/incidents").json()
    assert (everywhere["facility"], everywhere["total"]) == (None, 3)
    assert {row["facility"] for row in everywhere["incidents"]} == {"F-001", "F-002"}
    one = reviewer.get("/incidents", params={"facility": "F-002"}).json()
    assert (one["facility"], cases(one)) == ("F-002", ["2026-015601"])
    board = reviewer.get("/board").json()
    assert board["facility"] is None and board["jc_import_queue"]["waiting"] == 2
    assert reviewer.get("/board", params={"facility": "F-002"}).json()["jc_import_queue"]["waiting"] == 1
    stats = reviewer.get("/statistics", params={"by": "route"}).json()
    assert [(row["facility"], row["value"], row["count"]) for row in stats] == [(None, "not_submitted", 3)]


@pytest.mark.parametrize(("params", "named"), [
    ({"reported_from": "19 Nov 2026"}, "reported_from"),
    ({"reported_to": "2026-02-30"}, "reported_to"),
    ({"reported_from": "2026-11-20", "reported_to": "2026-11-19"}, "reported_from"),
    ({"reported_to": "9999-12-31"}, "reported_to"),
    ({"clock_status": "late"}, "clock_status"),
    ({"state": "pending"}, "state"),
    ({"code": "AN%"}, "code"),
    ({"limit": 0}, "limit"),
    ({"limit": 1001}, "limit"),
    ({"offset": -1}, "offset"),
])
def test_bad_values_are_refused_naming_the_parameter(api: Api, params: dict[str, Any], named: str) -> None:
    refused = api("l3").get("/incidents", params=params)
    assert refused.status_code == 422, refused.text
    assert named in refused.json()["detail"]
