"""CSV downloads from the pages (``workflows.spreadsheets``: no cell a spreadsheet would run as a formula)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from starlette.responses import Response

from workflows.spreadsheets import csv_text


def csv_download(filename: str, columns: Sequence[str], rows: Iterable[Mapping[str, Any]]) -> Response:
    """A CSV file the browser saves as ``filename`` (the columns in this order; missing cells empty)."""
    return Response(csv_text(columns, rows), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})
