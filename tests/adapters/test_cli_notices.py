"""``nimrs stats notices`` run as a user would, on SQLite and PostgreSQL, with incidents under part524@1; and
``nimrs stats`` still counting incidents beside it."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timezone
from pathlib import Path

from domain.deadlines import LOCAL_ZONE
from tests.adapters.test_cli_obligations import CASE, nimrs, ok, ok_json, receive, url  # noqa: F401 - url: a fixture


def test_the_notices_of_this_month_as_json_csv_and_text_and_incident_counts_beside_them(url: str,  # noqa: F811
                                                                                         tmp_path: Path) -> None:
    receive(url, tmp_path, CASE, days_ago=1.5)  # reported a day and a half ago: its 24-hour notice is overdue
    this_month = datetime.now(timezone.utc).astimezone(LOCAL_ZONE).strftime("%Y-%m")
    result = ok_json("stats", "notices", "--as", "analyst", "--months", "2", url=url)  # Level 3 reads it
    assert result["facility"] == "F-001" and len(result["months"]) == 2
    owed = [m for m in result["months"] if m["owed"]]
    assert owed == [{"facility": "F-001", "month": owed[0]["month"], "owed": 1, "met_on_time": 0, "met_late": 0,
                     "waived": 0, "overdue": 1, "not_yet_due": 0, "on_time_share": 0.0}]
    assert owed[0]["month"] <= this_month  # the report's month in New York (the month before, early in a month)

    lines = list(csv.reader(io.StringIO(ok("stats", "notices", "--as", "analyst", "--months", "1", "--csv", url=url))))
    assert lines[0] == ["facility", "month", "owed", "met_on_time", "met_late", "waived", "overdue", "not_yet_due",
                        "on_time_share"]
    assert [line[1] for line in lines[1:]] == [this_month]

    text = ok("stats", "notices", "--as", "analyst", "--months", "2", url=url, columns=80)
    assert "24-hour notices to qualified persons" in text and "0%" in text
    assert max(len(line) for line in text.splitlines()) <= 80

    other = ok_json("stats", "notices", "--as", "other", url=url)  # F-002: none of F-001's
    assert other["facility"] == "F-002" and all(m["owed"] == 0 for m in other["months"])
    refused = nimrs("stats", "notices", "--as", "other", "--facility", "F-001", url=url)
    assert refused.returncode == 4 and "F-001" in refused.stderr
    bad = nimrs("stats", "notices", "--as", "analyst", "--months", "0", url=url)
    assert bad.returncode == 3 and "months must be 1-120" in bad.stderr

    by_route = ok_json("stats", "--as", "analyst", "--by", "route", url=url)  # `nimrs stats` counts as before
    assert [(r["value"], r["count"]) for r in by_route] == [("not_submitted", 1)]
    unnamed = nimrs("stats", "--by", "route", url=url)
    assert unnamed.returncode == 2 and "--as" in unnamed.stderr
