"""CSV for spreadsheets, as every export writes it: the columns in order, and no cell a spreadsheet would run.

A cell starting with ``=``, ``+``, ``-`` or ``@`` (or a tab or carriage return) is a formula to Excel and
LibreOffice; patient details and reasons are typed by people, so such a cell gets a leading ``'`` (OWASP's
advice on CSV injection). Numbers stay numbers; times stay ISO 8601 with their offset.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralised(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return f"'{value}"
    return value


def csv_text(columns: Sequence[str], rows: Iterable[Mapping[str, Any]]) -> str:
    """A header of ``columns``, then one line per row (missing cells empty, other keys left out)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([neutralised(row.get(column)) for column in columns])
    return buffer.getvalue()
