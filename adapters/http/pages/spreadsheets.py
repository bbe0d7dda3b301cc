"""CSV downloads from the pages (``workflows.spreadsheets``: no cell a spreadsheet would run as a formula)."""

from __future__ import annotations

from starlette.responses import Response


def csv_download(filename: str, text: str) -> Response:
    """A CSV file (``workflows.spreadsheets.csv_text``) the browser saves as ``filename``."""
    return Response(text, media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})
