"""The statistics page: incident counts by month, type, route, harm and risk rating and setting, each as a
bar chart drawn on the server (SVG, no script) beside a table of the same numbers, and as a CSV download."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from adapters.http.context import context
from adapters.http.pages.rendering import render, stripped
from adapters.http.pages.route import PageRoute
from adapters.http.pages.session import PageUser
from adapters.http.pages.spreadsheets import csv_download
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



@router.get("/web/statistics")
def statistics(request: Request, who: PageUser, from_month: Month = None, to_month: Month = None,
               facility: Facility = None) -> Response:
    reads = context(request).reads
    filters = {"from_month": stripped(from_month), "to_month": stripped(to_month), "facility": stripped(facility)}
    charts = [chart(by, reads.statistics(who.actor, by=by, **filters)) for by in TITLES]
    shown = filters["facility"] or (None if who.actor.state_reviewer else who.actor.facility)
    return render(request, "statistics.html", title="Statistics", charts=charts, filters=filters, facility=shown,
                  label_x=LABEL_WIDTH - 8, bar_x=LABEL_WIDTH, bar_height=BAR_HEIGHT, count_gap=6)


@router.get("/web/statistics.csv")
def statistics_csv(request: Request, who: PageUser, by: By = "type", from_month: Month = None,
                   to_month: Month = None, facility: Facility = None) -> Response:
    rows = context(request).reads.statistics(who.actor, by=by, from_month=stripped(from_month),
                                             to_month=stripped(to_month), facility=stripped(facility))
    return csv_download(f"statistics-by-{by.replace('_', '-')}.csv", csv_text(CSV_COLUMNS, rows))
