"""The statistics page: incident counts by month, type, route, harm and risk rating and setting, each as a
bar chart drawn on the server (SVG, no script) beside a table of the same numbers, and as a CSV download; and the
24-hour notices to qualified persons on time, as the share on time per month beside the counts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from adapters.http.context import context
from adapters.http.pages.rendering import render, stripped
from adapters.http.pages.route import PageRoute
from adapters.http.pages.session import PageUser
from adapters.http.pages.spreadsheets import csv_download
from projections import notice_timeliness
from projections.notice_timeliness import NoticeMonth
from projections.statistics import Count
from workflows.spreadsheets import csv_text

router = APIRouter(route_class=PageRoute, include_in_schema=False)
By = Literal["month", "type", "route", "harm_rating", "risk_rating", "setting"]
Month = Annotated[str | None, Query(max_length=7, description="YYYY-MM")]
Facility = Annotated[str | None, Query(max_length=64)]
TITLES: dict[str, str] = {"month": "By month reported", "type": "By incident type", "route": "By reporting route",
                          "harm_rating": "By harm rating", "risk_rating": "By risk rating",
                          "setting": "By program setting"}
CSV_COLUMNS = ("facility", "dimension", "value", "label", "count")
# The chart's geometry, in SVG user units (the chart scales to its box).
LABEL_WIDTH, BAR_WIDTH, COUNT_WIDTH, ROW_HEIGHT, BAR_HEIGHT = 210, 250, 50, 28, 20
LABEL_CHARACTERS = 26


@dataclass(frozen=True)
class Bar:
    label: str  # in full: the table and the bar's tooltip
    short_label: str  # what fits left of the bar
    count: int
    y: int
    width: float


@dataclass(frozen=True)
class Chart:
    by: str
    title: str
    rows: list[Count]
    bars: list[Bar]
    width: int
    height: int
    total: int


def label_of(row: Count) -> str:
    if row["dimension"] == "month":
        return datetime.strptime(row["value"], "%Y-%m").strftime("%b %Y")
    return row["label"].replace("_", " ")


def chart(by: str, rows: list[Count]) -> Chart:
    """The bars of a horizontal bar chart: the longest is the largest count."""
    largest = max((row["count"] for row in rows), default=0) or 1
    bars = []
    for index, row in enumerate(rows):
        label = label_of(row)
        short = label if len(label) <= LABEL_CHARACTERS else label[:LABEL_CHARACTERS - 1] + "…"
        bars.append(Bar(label, short, row["count"], index * ROW_HEIGHT, round(row["count"] / largest * BAR_WIDTH, 1)))
    return Chart(by, TITLES[by], rows, bars, LABEL_WIDTH + BAR_WIDTH + COUNT_WIDTH, len(rows) * ROW_HEIGHT,
                 sum(row["count"] for row in rows))



NOTICE_LABEL_WIDTH = 90  # "Sep 2026"; the chart is as wide as the others, so its text is drawn at their size
SHARE_WIDTH = LABEL_WIDTH + BAR_WIDTH - NOTICE_LABEL_WIDTH  # the bar of 100%
OUTCOME_LABELS = {"met_on_time": "On time", "met_late": "Late", "waived": "Waived", "overdue": "Overdue",
                  "not_yet_due": "Not yet due"}


@dataclass(frozen=True)
class ShareBar:
    month: NoticeMonth
    label: str  # "Nov 2026"
    share: str  # "67%", or "n/a" when no notice was met or overdue
    y: int
    width: float


@dataclass(frozen=True)
class ShareChart:
    """The share of notices met on time, one bar per month (a full bar is 100%), and the period's totals."""

    by: str
    title: str
    bars: list[ShareBar]
    width: int
    height: int
    owed: int
    totals: list[tuple[str, str]]  # (what, how many), the share on time over the whole period last
    label_x: int = NOTICE_LABEL_WIDTH - 8
    bar_x: int = NOTICE_LABEL_WIDTH


def _share(share: float | None) -> str:
    return "n/a" if share is None else f"{share:.0%}"


def share_chart(months: list[NoticeMonth]) -> ShareChart:
    bars = [ShareBar(month, datetime.strptime(month["month"], "%Y-%m").strftime("%b %Y"), _share(month["on_time_share"]),
                     index * ROW_HEIGHT, round((month["on_time_share"] or 0) * SHARE_WIDTH, 1))
            for index, month in enumerate(months)]
    rows: list[dict[str, Any]] = [dict(month) for month in months]
    summed = {outcome: sum(row[outcome] for row in rows) for outcome in ("owed", *OUTCOME_LABELS)}
    decided = summed["met_on_time"] + summed["met_late"] + summed["overdue"]
    totals = [("Owed", str(summed["owed"])), *((label, str(summed[outcome])) for outcome, label in OUTCOME_LABELS.items()),
              ("Share on time", _share(summed["met_on_time"] / decided if decided else None))]
    return ShareChart("notifications-on-time", "Notifications on time", bars, LABEL_WIDTH + BAR_WIDTH + COUNT_WIDTH,
                      len(months) * ROW_HEIGHT, summed["owed"], totals)


@router.get("/web/statistics")
def statistics(request: Request, who: PageUser, from_month: Month = None, to_month: Month = None,
               facility: Facility = None) -> Response:
    reads = context(request).reads
    filters = {"from_month": stripped(from_month), "to_month": stripped(to_month), "facility": stripped(facility)}
    charts = [chart(by, reads.statistics(who.actor, by=by, **filters)) for by in TITLES]
    notices = share_chart(reads.notice_timeliness(who.actor, facility=filters["facility"])["months"])
    shown = filters["facility"] or (None if who.actor.state_reviewer else who.actor.facility)
    return render(request, "statistics.html", title="Statistics", charts=charts, notices=notices, filters=filters,
                  facility=shown, label_x=LABEL_WIDTH - 8, bar_x=LABEL_WIDTH, bar_height=BAR_HEIGHT, count_gap=6)


@router.get("/web/statistics.csv")
def statistics_csv(request: Request, who: PageUser, by: By = "type", from_month: Month = None,
                   to_month: Month = None, facility: Facility = None) -> Response:
    rows = context(request).reads.statistics(who.actor, by=by, from_month=stripped(from_month),
                                             to_month=stripped(to_month), facility=stripped(facility))
    return csv_download(f"statistics-by-{by.replace('_', '-')}.csv", csv_text(CSV_COLUMNS, rows))


@router.get("/web/statistics/notifications-on-time.csv")
def notifications_on_time_csv(request: Request, who: PageUser, facility: Facility = None) -> Response:
    result = context(request).reads.notice_timeliness(who.actor, facility=stripped(facility))
    return csv_download("notifications-on-time.csv", notice_timeliness.to_csv(result))
