"""The event feed and its live stream over real HTTP: CloudEvents, cursors, facility scoping, resuming."""

from __future__ import annotations

import threading
from typing import Any

import httpx
import jsonschema
import orjson

from adapters.integrations.event_schemas import data_schema
from domain.incident import Incident
from tests.http.support import Api
from tests.http.test_workflow import walk_to_submitted

ENVELOPE = {"specversion", "id", "source", "type", "subject", "time", "datacontenttype", "position", "data"}


def everything(client: httpx.Client, limit: int, **params: Any) -> list[dict[str, Any]]:
    events, after = [], 0
    while True:
        page = client.get("/events", params={"after": after, "limit": limit, **params}).json()
        events += page["events"]
        after = page["next"]
        if not page["has_more"]:
            return events


def other_facility_incident(api: Api) -> str:
    created = api("other.l1").post("/incidents", json={"program": "Clinic B", "setting": "outpatient",
                                                       "code": "si.fall", "summary": "Slipped at the door."})
    assert created.status_code == 201
    return str(created.json()["id"])


def test_the_feed_pages_cloud_events_in_log_order_and_each_data_matches_its_schema(api: Api) -> None:
    incident_id = walk_to_submitted(api)
    other = other_facility_incident(api)
    l3 = api("l3")
    whole = l3.get("/events", params={"limit": 1000}).json()
    paged = everything(l3, limit=3)
    assert paged == whole["events"] and not whole["has_more"]
    positions = [e["position"] for e in paged]
    assert positions == sorted(positions) and len(set(positions)) == len(positions)
    history = l3.get(f"/incidents/{incident_id}/history").json()
    assert [e["id"] for e in paged] == [f"{incident_id}/{h['version']}" for h in history]
    for event in paged:
        assert set(event) == ENVELOPE and event["specversion"] == "1.0" and event["subject"] == incident_id
        assert "F-001" not in orjson.dumps({k: v for k, v in event.items() if k != "data"}).decode()
        name = history[event["data"]["incident_version"] - 1]["event"]
        assert event["type"] == f"nimrs.Incident.{name}.v{getattr(Incident, name).class_version}"
        jsonschema.validate(event["data"], data_schema(event["type"]))
    assert other not in {e["subject"] for e in paged}  # another facility's events are not in this feed
    assert {e["subject"] for e in everything(api("other.l1"), 100)} == {other}
    assert {e["subject"] for e in everything(api("reviewer"), 2)} == {incident_id, other}


def test_the_feed_resumes_from_a_cursor_and_filters_by_type(api: Api) -> None:
    walk_to_submitted(api)
    l3 = api("l3")
    first = l3.get("/events", params={"limit": 4}).json()
    assert first["has_more"] and len(first["events"]) == 4
    rest = l3.get("/events", params={"after": first["next"]}).json()["events"]
    assert [e["position"] for e in first["events"] + rest] == [e["position"] for e in everything(l3, 1000)]
    clocks = everything(l3, 100, types="nimrs.Incident.DeadlineSet.v2")
    assert clocks and {e["type"] for e in clocks} == {"nimrs.Incident.DeadlineSet.v2"}
    assert everything(l3, 100, types="nimrs.Incident.DeadlineSet.v1") == clocks  # the earlier type selects them too
    for earlier_or_current in ("nimrs.Incident.EmailedToOmh.v1", "nimrs.Incident.EmailedToOmh.v2"):
        submitted = everything(l3, 100, types=earlier_or_current)  # an earlier type selects the same events
        assert [e["type"] for e in submitted] == ["nimrs.Incident.EmailedToOmh.v2"]
        assert submitted[0]["data"]["attested"] is False
    unknown = l3.get("/events", params={"types": "nimrs.Incident.Exploded.v1"})
    assert unknown.status_code == 422 and "Exploded" in unknown.json()["detail"]
    assert l3.get("/events", params={"after": -1}).status_code == 422


def read_stream(client: httpx.Client, count: int, headers: dict[str, str] | None = None) -> list[dict[str, Any]]:
    """The first ``count`` events of the stream, each with its SSE id."""
    events: list[dict[str, Any]] = []
    with client.stream("GET", "/events/stream", headers=headers, timeout=20) as response:
        assert response.status_code == 200 and response.headers["content-type"].startswith("text/event-stream")
        event: dict[str, Any] = {}
        for line in response.iter_lines():
            if line.startswith("id: "):
                event["sse_id"] = line[4:]
            elif line.startswith("data: "):
                event["cloud_event"] = orjson.loads(line[6:])
            elif line == "" and "cloud_event" in event:
                events.append(event)
                event = {}
                if len(events) == count:
                    return events
    return events


def test_the_live_stream_delivers_new_events_and_resumes_after_a_disconnect(api: Api) -> None:
    l2 = api("l2")
    created = l2.post("/incidents", json={"program": "Clinic A", "setting": "outpatient", "code": "si.fall",
                                          "summary": "Fell in the waiting room."})
    location = created.headers["Location"]
    first = read_stream(l2, 1)
    assert first[0]["sse_id"] == str(first[0]["cloud_event"]["position"])

    def later_writes() -> None:
        for text in ("A", "B", "C"):
            l2.patch(f"{location}/record-details/narrative", json={"narrative": text})

    writer = threading.Timer(0.5, later_writes)
    writer.start()
    live = read_stream(l2, 2, headers={"Last-Event-ID": first[0]["sse_id"]})  # waits for events not yet written
    writer.join()
    resumed = read_stream(l2, 1, headers={"Last-Event-ID": live[-1]["sse_id"]})
    seen = [e["cloud_event"]["data"]["incident_version"] for e in first + live + resumed]
    assert seen == [1, 2, 3, 4]  # no gap, no duplicate
    assert [e["cloud_event"]["data"]["fields"]["narrative"] for e in live + resumed] == ["A", "B", "C"]
