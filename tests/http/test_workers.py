"""`nimrs serve --workers 2` on PostgreSQL: two processes share one database. Concurrent commands on one incident
without If-Match all land (a conflict with the other process is retried inside the server), every read sees the
latest write whichever process answers it, exactly one process keeps the read models current, and the security
matrix holds against the two (tests/http/test_security_matrix.py)."""

from __future__ import annotations

import subprocess
import threading

import httpx
import psycopg

from adapters.persistence.turns import LIVE_PROJECTOR_TURN
from domain.clock import utc_now
from tests.http.support import PASSWORD, VPCR, add_staff, eventually, workers_server


def token(base: str, user: str) -> str:
    answer = httpx.post(f"{base}/auth/token", json={"username": user, "password": PASSWORD})
    assert answer.status_code == 200, answer.text
    return str(answer.json()["access_token"])


def server_pids(base: str) -> set[int]:
    """The worker processes listening behind ``base`` (each answers on its own connection)."""
    port = base.rsplit(":", 1)[1]
    found = subprocess.run(["ss", "-Htlnp", f"sport = :{port}"], capture_output=True, text=True).stdout
    return {int(part.split("=")[1].rstrip(")")) for part in found.replace(",", " ").split() if part.startswith("pid=")}


def test_two_workers_share_one_database_correctly(postgres_url: str) -> None:
    add_staff(postgres_url, utc_now)
    with workers_server(postgres_url) as base:
        assert len(server_pids(base)) == 3  # uvicorn's supervisor and its two workers share the socket
        headers = {"Authorization": f"Bearer {token(base, 'l2')}"}
        received = httpx.post(f"{base}/vpcr-reports", json=VPCR, headers=headers)
        incident = received.json()["received"][0]
        assert httpx.post(f"{base}/incidents/{incident}/import-report", headers=headers).status_code == 200

        # 48 edits of one incident from 16 connections at once, none naming a version: all land.
        answers: list[int] = []

        def edit(number: int) -> None:
            with httpx.Client(base_url=base, headers=headers, timeout=30) as client:
                for n in range(3):
                    answer = client.patch(f"/incidents/{incident}/record-details/narrative",
                                          json={"narrative": f"edit {number}-{n}"})
                    answers.append(answer.status_code)

        threads = [threading.Thread(target=edit, args=(n,)) for n in range(16)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert answers == [200] * 48
        history = httpx.get(f"{base}/incidents/{incident}/history", headers=headers).json()
        edits = {e["data"]["fields"]["narrative"] for e in history if e["event"] == "DetailsRecorded"}
        assert edits == {f"edit {number}-{n}" for number in range(16) for n in range(3)}
        assert len(history) == 2 + 48

        # Each read, on a new connection (either process), sees the write before it.
        for n in range(10):
            written = httpx.patch(f"{base}/incidents/{incident}/record-details/narrative",
                                  json={"narrative": f"read back {n}"}, headers=headers)
            shown = httpx.get(f"{base}/incidents/{incident}", headers=headers)
            assert shown.headers["etag"] == written.headers["etag"]

        # One process keeps the views: they catch up with every write, and one process holds the projector's turn.
        eventually(lambda: httpx.get(f"{base}/health").json()["views_lag_events"] == 0)
        listed = httpx.get(f"{base}/incidents", headers=headers).json()["incidents"]
        assert [row["state"] for row in listed if row["incident_id"] == incident] == ["draft"]
        with psycopg.connect(postgres_url) as connection:
            holders = connection.execute(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted AND classid = %s AND objid = %s",
                (LIVE_PROJECTOR_TURN >> 32, LIVE_PROJECTOR_TURN & 0xFFFFFFFF)).fetchone()
        assert holders == (1,)
