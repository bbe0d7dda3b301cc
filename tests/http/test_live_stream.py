"""The live event stream at scale: one reader of the log per server process (``adapters.integrations.live``) feeding
every open stream, each filtered by facility and type, with resuming, a bounded queue and tokens re-checked together."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any
from uuid import UUID

import httpx
import orjson
import pytest

from adapters.bootstrap import Runtime
from adapters.integrations.feed import Feed
from adapters.integrations.live import LiveLog
from adapters.settings import load_settings
from domain.actor import Actor
from domain.vocabulary import Level
from tests.conftest import CHARTS_ONLY_SUITE, FakeClock
from tests.http.support import VPCR, Api, add_staff, eventually, live_server

DETAILS = "nimrs.Incident.DetailsRecorded.v1"
L2 = Actor("l2", "F-001", Level(2))
SIGN_IN_AGAIN = "the bearer token is unknown or has expired; sign in again at POST /auth/token"


@contextmanager
def serving(database_url: str, clock: FakeClock, monkeypatch: pytest.MonkeyPatch,
            **options: Any) -> Iterator[tuple[Api, LiveLog]]:
    """A live server whose live log takes ``options`` (``queue_limit``, ``token_check_seconds``), and that live log."""
    made: list[LiveLog] = []

    class Kept(LiveLog):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs, **options)
            made.append(self)

    monkeypatch.setattr("adapters.http.app.LiveLog", Kept)
    add_staff(database_url, clock)
    with live_server(database_url, clock) as base_url:
        api = Api(base_url)
        try:
            yield api, made[0]
        finally:
            api.close()


@contextmanager
def writer(database_url: str, clock: FakeClock) -> Iterator[Runtime]:
    """Another process's view of the store: its writes reach the server through the log alone."""
    with Runtime(load_settings({"NIMRS_DATABASE_URL": database_url, **CHARTS_ONLY_SUITE}), clock) as runtime:
        yield runtime


def frames(response: httpx.Response) -> Iterator[dict[str, Any]]:
    """The stream's events as {"id", "event", "data"} (data decoded), keep-alive comments left out."""
    frame: dict[str, Any] = {}
    for line in response.iter_lines():
        if line == "":
            if "data" in frame:
                frame["data"] = orjson.loads(frame["data"])
                yield frame
            frame = {}
        elif not line.startswith(":"):
            key, _, value = line.partition(": ")
            frame[key] = value


def is_end(frame: dict[str, Any], incident_id: str) -> bool:
    data = frame["data"]
    return data.get("subject") == incident_id and data["data"].get("fields", {}).get("narrative") == "end"


def read_until_end(client: httpx.Client, incident_id: str, **params: Any) -> list[dict[str, Any]]:
    """Every frame up to and with ``incident_id``'s narrative "end"."""
    headers = {"Last-Event-ID": params.pop("last_event_id")} if "last_event_id" in params else {}
    received = []
    with client.stream("GET", "/events/stream", params=params, headers=headers, timeout=20) as response:
        assert response.status_code == 200
        for frame in frames(response):
            received.append(frame)
            if "id" in frame and is_end(frame, incident_id):
                return received
    raise AssertionError(f"the stream ended before the end marker: {received[-1:]}")


def feed(client: httpx.Client, after: int) -> list[dict[str, Any]]:
    """The reader's events after ``after`` through GET /events: what its stream must show, in order."""
    events: list[dict[str, Any]] = []
    while True:
        page = client.get("/events", params={"after": after, "limit": 5000}).json()
        events += page["events"]
        after = page["next"]
        if not page["has_more"]:
            return events


def new_incident(client: httpx.Client, summary: str) -> str:
    created = client.post("/incidents", json={"program": "Clinic", "setting": "outpatient", "code": "si.fall",
                                              "summary": summary})
    assert created.status_code == 201, created.text
    return str(created.json()["id"])


def narrate(client: httpx.Client, incident_id: str, text: str) -> None:
    response = client.patch(f"/incidents/{incident_id}/record-details/narrative", json={"narrative": text})
    assert response.status_code == 200, response.text


def test_fifty_streams_each_get_every_event_they_may_see_once_and_in_order(
        database_url: str, clock: FakeClock, monkeypatch: pytest.MonkeyPatch) -> None:
    with serving(database_url, clock, monkeypatch) as (api, live):
        mine, theirs = new_incident(api("l2"), "Fell in the hall."), new_incident(api("other.l1"), "Slipped.")
        start = feed(api("reviewer"), 0)[-1]["position"]
        # (reader, types, the incident whose "end" is the last event it sees)
        kinds = [("l2", "", mine), ("other.l1", "", theirs), ("reviewer", "", theirs), ("l2", DETAILS, mine)]
        streams = [kinds[n % len(kinds)] for n in range(52)]
        received: list[list[dict[str, Any]]] = [[] for _ in streams]

        def listen(number: int) -> None:
            user, types, last = streams[number]
            received[number] = read_until_end(api(user), last, after=start, **({"types": types} if types else {}))

        listeners = [threading.Thread(target=listen, args=(n,)) for n in range(len(streams))]
        for listener in listeners:
            listener.start()
        eventually(lambda: len(live.streams) == len(streams))
        for round_ in range(4):
            narrate(api("l2"), mine, f"mine {round_}")
            narrate(api("other.l1"), theirs, f"theirs {round_}")
        new_incident(api("l2"), "Another one: its creation is not a DetailsRecorded event.")
        narrate(api("l2"), mine, "end")
        narrate(api("other.l1"), theirs, "end")
        for listener in listeners:
            listener.join(timeout=60)

        everything = feed(api("reviewer"), start)
        for (user, types, _), got in zip(streams, received, strict=True):
            facility = None if user == "reviewer" else api(user).get("/me").json()["facility"]
            expected = [e["position"] for e in everything
                        if facility in (None, e["data"]["actor"]["facility"]) and types in ("", e["type"])]
            assert [int(f["id"]) for f in got if "id" in f] == expected, (user, types)
            assert all(f["event"] == f["data"]["type"] for f in got if "id" in f)
        assert min(len(got) for got in received) >= 5  # every stream had events, live ones

        def feed_readers() -> set[str]:  # who was shown the incident's events: recorded as feed reads
            reads = api("admin").get(f"/incidents/{mine}/readers").json()
            return {r["user_id"] for r in reads if r["view"] == "feed"}

        eventually(lambda: feed_readers() >= {"l2", "reviewer"})
        assert "other.l1" not in feed_readers()
    assert len(live.streams) == 0  # every stream let go of its queue


def test_a_resume_from_an_old_position_catches_up_then_goes_live_without_gap_or_duplicate(
        database_url: str, clock: FakeClock, monkeypatch: pytest.MonkeyPatch) -> None:
    with serving(database_url, clock, monkeypatch) as (api, _), writer(database_url, clock) as other:
        mine = new_incident(api("l2"), "Fell in the hall.")
        resume_from = feed(api("l2"), 0)[0]["position"]
        drafts = [other.service.create_incident(L2, program="Clinic", setting="outpatient", code="si.fall",
                                                summary=f"Draft {n}") for n in range(10)]  # short histories to load
        for number in range(520):  # more than a page of the catch-up (500)
            other.service.record_details(L2, drafts[number % 10], "narrative", {"narrative": f"before {number}"})

        def more() -> None:
            for number in range(40):
                other.service.record_details(L2, drafts[number % 10], "narrative", {"narrative": f"during {number}"})
            other.service.record_details(L2, UUID(mine), "narrative", {"narrative": "end"})

        writing = threading.Thread(target=more)
        writing.start()  # while the stream catches up
        got = read_until_end(api("l2"), mine, last_event_id=str(resume_from))
        writing.join()
        expected = [e["position"] for e in feed(api("l2"), resume_from)]
        assert [int(f["id"]) for f in got if "id" in f] == expected
        assert len(expected) > 560


def test_events_both_read_by_the_catch_up_and_queued_live_are_sent_once(
        database_url: str, clock: FakeClock, monkeypatch: pytest.MonkeyPatch) -> None:
    with serving(database_url, clock, monkeypatch) as (api, live):
        mine = new_incident(api("l2"), "Fell in the hall.")
        start = feed(api("l2"), 0)[-1]["position"]
        reading, release = threading.Event(), threading.Event()
        page = Feed.page

        def held_page(feed: Feed, actor: Actor, *args: Any) -> Any:
            if not release.is_set():  # the stream's catch-up: held until the live log has queued the same events
                reading.set()
                release.wait(20)
            return page(feed, actor, *args)

        monkeypatch.setattr(Feed, "page", held_page)
        got: list[dict[str, Any]] = []
        listening = threading.Thread(target=lambda: got.extend(read_until_end(api("l2"), mine, after=start)))
        listening.start()
        assert reading.wait(20)  # subscribed, and reading the log
        for text in ("one", "two", "three"):
            narrate(api("l2"), mine, text)
        eventually(lambda: live.position >= start + 3)  # queued for the stream
        release.set()
        narrate(api("l2"), mine, "end")
        listening.join(timeout=20)
        expected = [e["position"] for e in feed(api("l2"), start)]
        assert [int(f["id"]) for f in got if "id" in f] == expected
        assert len(expected) == 4


def test_a_burst_bigger_than_a_streams_queue_is_read_from_the_log_not_dropped(
        database_url: str, clock: FakeClock, monkeypatch: pytest.MonkeyPatch) -> None:
    with serving(database_url, clock, monkeypatch, queue_limit=3) as (api, live):
        mine = new_incident(api("l2"), "Fell in the hall.")
        start = feed(api("l2"), 0)[-1]["position"]
        reports = [{**VPCR, "jc_case_number": f"2026-0177{n:02d}"} for n in range(12)]

        def burst() -> None:  # one transaction: the live log reads it in one go, more than the queue holds
            eventually(lambda: len(live.streams) == 1)
            assert api("l2").post("/vpcr-reports", json=reports).status_code == 201
            narrate(api("l2"), mine, "end")

        writing = threading.Thread(target=burst)
        writing.start()
        got = read_until_end(api("l2"), mine, after=start)
        writing.join()
        expected = [e["position"] for e in feed(api("l2"), start)]
        assert [int(f["id"]) for f in got if "id" in f] == expected
        assert len(expected) >= 13


def overflowed(live: LiveLog) -> bool:
    """Its one stream overflowed (or has gone already, having sent the end of the stream)."""
    return not live.streams or any(stream.overflowed for stream in live.streams)


def test_a_client_that_does_not_read_is_ended_with_overflow_and_resumes_where_it_stopped(
        database_url: str, clock: FakeClock, monkeypatch: pytest.MonkeyPatch) -> None:
    with serving(database_url, clock, monkeypatch, queue_limit=5) as (api, live), \
            writer(database_url, clock) as other:
        mine = new_incident(api("l2"), "Fell in the hall.")
        start = feed(api("l2"), 0)[-1]["position"]
        drafts = [other.service.create_incident(L2, program="Clinic", setting="outpatient", code="si.fall",
                                                summary=f"Draft {n}") for n in range(10)]  # short histories to load
        long_text = "x" * 19_000
        with api("l2").stream("GET", "/events/stream", params={"after": start}, timeout=20) as response:
            stream = frames(response)
            eventually(lambda: len(live.streams) == 1)
            written = 0
            while not overflowed(live):  # the socket's buffers fill, then its queue: it is not reading
                other.service.record_details(L2, drafts[written % len(drafts)], "narrative",
                                             {"narrative": f"{written} {long_text}", "immediate_actions": long_text})
                written += 1
                assert written < 3000, "the stream never overflowed"
            other.service.record_details(L2, UUID(mine), "narrative", {"narrative": "end"})
            received = list(stream)  # what was on its way, then the end of the stream
        assert received[-1]["event"] == "overflow"
        assert "Last-Event-ID" in received[-1]["data"]["detail"]
        sent = [f for f in received if "id" in f]
        resumed = read_until_end(api("l2"), mine, last_event_id=sent[-1]["id"])
        expected = [e["position"] for e in feed(api("l2"), start)]
        assert [int(f["id"]) for f in sent + resumed if "id" in f] == expected
        assert len(sent) < len(expected) - 5


def ended_by(client: httpx.Client, live: LiveLog, end_it: Callable[[], object], timeout: float) -> dict[str, Any]:
    """The last frame of a stream opened by ``client`` once ``end_it`` has run (reading at most ``timeout`` s)."""
    with client.stream("GET", "/events/stream", params={"after": 0}, timeout=timeout) as response:
        stream = frames(response)
        eventually(lambda: len(live.streams) == 1)
        end_it()
        received = list(stream)
    eventually(lambda: len(live.streams) == 0)
    return received[-1]


def test_a_revoked_or_expired_token_ends_its_stream_at_the_next_check(
        database_url: str, clock: FakeClock, monkeypatch: pytest.MonkeyPatch) -> None:
    with serving(database_url, clock, monkeypatch, token_check_seconds=0.3) as (api, live), \
            writer(database_url, clock) as other:
        # Another process revokes: this server is not told, its check finds out (a 5 s read timeout: well under the
        # default 10 s interval, so only the configured one can pass).
        revoked = ended_by(api("l2"), live, lambda: other.accounts.revoke_sessions("l2"), timeout=5)
        expired = ended_by(api("l3"), live, lambda: clock.advance(days=1), timeout=5)
    assert revoked == expired == {"event": "error", "data": {"detail": SIGN_IN_AGAIN}}


def test_ending_a_users_sessions_in_this_server_ends_its_streams_at_once(
        database_url: str, clock: FakeClock, monkeypatch: pytest.MonkeyPatch) -> None:
    with serving(database_url, clock, monkeypatch, token_check_seconds=3600) as (api, live):
        last = ended_by(api("l2"), live, lambda: api("admin").post("/users/l2/revoke-sessions").raise_for_status(),
                        timeout=10)
    assert last == {"event": "error", "data": {"detail": SIGN_IN_AGAIN}}


def test_a_quiet_stream_sends_keep_alive_comments(database_url: str, clock: FakeClock,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("adapters.integrations.live.HEARTBEAT_SECONDS", 0.5)
    with serving(database_url, clock, monkeypatch) as (api, _), \
            api("l2").stream("GET", "/events/stream", params={"after": 0}, timeout=5) as response:
        lines = response.iter_lines()
        assert next(lines) == "retry: 1000"
        assert [next(lines) for _ in range(4)] == ["", ": keep-alive", "", ": keep-alive"]  # 5 s read timeout
