"""The read audit on a real server, on SQLite and PostgreSQL: every read of an incident's content is recorded
once with who, level, facility, what and when; a refused read nowhere; only the incident's facility's
security administrators and Level 1 users, and state reviewers, see who read it; ``nimrs audit reads``."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from uuid import uuid4

import pytest
from sqlalchemy import create_engine, func, select
from sqlalchemy.exc import OperationalError

from adapters.bootstrap import Runtime
from adapters.persistence.read_audit import BufferedReadLog
from adapters.persistence.schema import read_audit
from adapters.settings import load_settings
from domain.vpcr import incident_id_for
from tests.adapters.test_cli import nimrs, ok_json
from tests.conftest import FakeClock
from tests.http.support import VPCR, Api, eventually
from workflows.read_audit import Read, ReadRecord

CASE = VPCR["jc_case_number"]
INCIDENT = str(incident_id_for(CASE))
AT = "2026-11-20T15:00:00+00:00"  # the injected clock (tests/http/conftest.py)


def received_and_imported(api: Api) -> None:
    """A write's answer is not a read (the event records who acted): none of these is recorded."""
    l2 = api("l2")
    assert l2.post("/vpcr-reports", json=VPCR).status_code == 201
    assert l2.post(f"/incidents/{CASE}/import-report").status_code == 200


def readers(api: Api, user: str = "admin", **params: object) -> list[dict[str, object]]:
    response = api(user).get(f"/incidents/{CASE}/readers", params=params)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def test_each_kind_of_read_is_recorded_once_with_who_and_what(api: Api) -> None:
    received_and_imported(api)
    assert readers(api) == []
    l3 = api("l3")
    assert l3.get(f"/incidents/{CASE}").status_code == 200
    assert l3.get(f"/incidents/{CASE}/history").status_code == 200
    assert l3.get(f"/incidents/{CASE}/as-of", params={"version": 1}).status_code == 200
    assert l3.get(f"/incidents/{CASE}/changes", params={"from": 1, "to": 2}).status_code == 200
    eventually(lambda: l3.get("/audit-trail").json())  # empty answers (the view catching up) read nothing
    assert {e["subject"] for e in l3.get("/events").json()["events"]} == {INCIDENT}  # one read for the page
    assert api("reviewer").get(f"/incidents/{CASE}").status_code == 200

    reads = readers(api)
    assert [(r["user_id"], r["view"]) for r in reads] == [
        ("l3", "show"), ("l3", "history"), ("l3", "as_of"), ("l3", "changes"), ("l3", "audit_trail"), ("l3", "feed"),
        ("reviewer", "show")]
    assert {(r["level"], r["facility"]) for r in reads[:-1]} == {(3, "F-001")}
    assert (reads[-1]["level"], reads[-1]["facility"]) == (3, "OMH")
    assert {(r["incident_id"], r["incident_facility"], r["at"], r["channel"]) for r in reads} == {
        (INCIDENT, "F-001", AT, "http")}
    assert set(reads[0]) == set(ReadRecord.__annotations__)  # what OpenAPI documents
    assert readers(api) == reads, "asking who read it is not itself a read of the incident"
    assert [r["view"] for r in readers(api, user="reviewer")] == [r["view"] for r in reads]
    by_user = api("l1").get("/read-audit", params={"user": "reviewer"}).json()
    assert [(r["user_id"], r["view"]) for r in by_user] == [("reviewer", "show")]
    everywhere = api("reviewer").get("/read-audit").json()  # a state reviewer: every facility by default
    assert [(r["user_id"], r["view"]) for r in everywhere] == [(r["user_id"], r["view"]) for r in reads]
    assert api("reviewer").get("/read-audit", params={"facility": "F-002"}).json() == []


def test_a_refused_or_failed_read_is_not_recorded(api: Api) -> None:
    received_and_imported(api)
    assert api("other.l1").get(f"/incidents/{CASE}").status_code == 404
    assert api("other.l1").get(f"/incidents/{CASE}/history").status_code == 404
    assert api("l3").get(f"/incidents/{uuid4()}").status_code == 404
    assert api("l3").get(f"/incidents/{CASE}/as-of", params={"version": 99}).status_code == 422
    assert api("l3").get(f"/incidents/{CASE}/as-of", params={"at": "2026-11-01"}).status_code == 404
    assert api("other.l1").get("/events").json()["events"] == []  # nothing of F-001's in its pages
    created = api("l2").post("/incidents", json={"program": "Clinic A", "setting": "outpatient", "code": "si.fall",
                                                  "summary": "Fell in the waiting room."})
    assert created.status_code == 201
    assert readers(api) == []
    assert api("admin").get(f"/incidents/{created.json()['id']}/readers").json() == []


def test_only_the_facilitys_administrators_level_1_and_state_reviewers_see_who_read_it(api: Api) -> None:
    received_and_imported(api)
    api("l3").get(f"/incidents/{CASE}")
    for user in ("admin", "l1", "reviewer"):
        assert [r["user_id"] for r in readers(api, user=user)] == ["l3"]
    for user in ("l2", "l3"):
        refused = api(user).get(f"/incidents/{CASE}/readers")
        assert refused.status_code == 403 and "security administrators" in refused.json()["detail"]
    absent = uuid4()
    for user in ("other.admin", "other.l1"):
        elsewhere = api(user).get(f"/incidents/{CASE}/readers")
        nowhere = api(user).get(f"/incidents/{absent}/readers")
        assert elsewhere.status_code == nowhere.status_code == 404
        assert elsewhere.json()["detail"].replace(CASE, "X") == nowhere.json()["detail"].replace(str(absent), "X")
        assert "l3" not in elsewhere.text
        assert api(user).get("/read-audit", params={"facility": "F-001"}).status_code == 404
        assert api(user).get("/read-audit").json() == []  # its own facility's incidents: none read
    assert [r["user_id"] for r in api("admin").get("/read-audit").json()] == ["l3"]


def test_the_command_line_answers_who_read_an_incident_as_json_csv_and_text(api: Api, database_url: str) -> None:
    received_and_imported(api)
    api("l3").get(f"/incidents/{CASE}/history")
    # The server writes its batch in the background: the command line, another process, sees it shortly.
    eventually(lambda: ok_json("audit", "reads", "--as", "admin", "--incident", CASE, url=database_url))
    assert nimrs("show", CASE, "--as", "l1", url=database_url).returncode == 0  # written as the command ends

    reads = ok_json("audit", "reads", "--as", "admin", "--incident", CASE, url=database_url)
    assert [(r["user_id"], r["view"], r["channel"]) for r in reads] == [("l3", "history", "http"), ("l1", "show", "cli")]
    assert reads[0]["at"] == AT and reads[0]["incident_id"] == INCIDENT
    by_user = ok_json("audit", "reads", "--as", "l1", "--user", "l3", "--since", "2026-11-20", "--until", "2026-11-20",
                      url=database_url)
    assert [(r["user_id"], r["view"]) for r in by_user] == [("l3", "history")]
    assert ok_json("audit", "reads", "--as", "admin", "--user", "l3", "--since", "2026-11-21", url=database_url) == []

    exported = nimrs("audit", "reads", "--as", "admin", "--incident", CASE, "--csv", url=database_url)
    assert exported.returncode == 0, exported.stderr
    rows = list(csv.DictReader(io.StringIO(exported.stdout)))
    assert exported.stdout.startswith("at,user_id,level,facility,incident_id,incident_facility,view,channel\n")
    assert rows[0] == {"at": "2026-11-20T10:00:00-05:00", "user_id": "l3", "level": "3", "facility": "F-001",
                       "incident_id": INCIDENT, "incident_facility": "F-001", "view": "history", "channel": "http"}
    shown = nimrs("audit", "reads", "--as", "admin", "--incident", CASE, url=database_url)
    assert f"Fri 20 Nov 2026, 10:00 am EST  l3 (Level 3, F-001) read incident {INCIDENT} (F-001): history, via http" \
        in shown.stdout

    assert nimrs("audit", "reads", "--as", "l3", "--incident", CASE, url=database_url).returncode == 5
    elsewhere = nimrs("audit", "reads", "--as", "other.admin", "--incident", CASE, url=database_url)
    assert elsewhere.returncode == 4 and "l3" not in elsewhere.stdout + elsewhere.stderr


def test_a_batch_that_cannot_be_written_is_kept_for_the_next_attempt(database_url: str, tmp_path: Path,
                                                                    clock: FakeClock) -> None:
    unmigrated = create_engine(f"sqlite:///{tmp_path}/empty.db")
    log = BufferedReadLog(unmigrated, "http")
    read = Read(clock.now, "l3", 3, "F-001", INCIDENT, "F-001", "show")
    log.record([read])
    with pytest.raises(OperationalError):  # no such table
        log.flush()
    with Runtime(load_settings({"NIMRS_DATABASE_URL": database_url}), clock) as runtime:
        log.engine = runtime.engine  # its tables migrated
        assert log.flush() == 1 and log.flush() == 0
        with runtime.engine.connect() as connection:
            assert connection.execute(select(func.count()).select_from(read_audit)).scalar() == 1
        assert log.reads(incident_id=INCIDENT) == [Read(clock.now, "l3", 3, "F-001", INCIDENT, "F-001", "show", "http")]
    unmigrated.dispose()
