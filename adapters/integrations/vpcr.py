"""Read VPCR reports from a JSON file: one report object, or a list of them (docs/vpcr.md)."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

from domain.errors import ValidationFailed
from domain.vpcr import VpcrReport

MAX_FILE_BYTES = 200 * 1024 * 1024


def read_vpcr_file(path: Path, now: datetime | None = None) -> list[VpcrReport]:
    """Every report in the file, or one error naming every problem (nothing is received then)."""
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise ValidationFailed(f"{path} is larger than {MAX_FILE_BYTES // 1024 // 1024} MiB")
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise ValidationFailed(f"cannot read {path}: {error.strerror or error}") from None
    except (ValueError, UnicodeDecodeError) as error:
        raise ValidationFailed(f"{path} is not valid JSON: {error}") from None
    return parse_vpcr_reports(data, str(path), now)


def parse_vpcr_reports(data: object, source: str, now: datetime | None = None) -> list[VpcrReport]:
    """The reports, with ``now`` (if given) to check their times against (``domain.moments``)."""
    items = data if isinstance(data, list) else [data]
    if not items:
        raise ValidationFailed(f"{source} holds no VPCR reports")
    reports, problems = [], []
    for index, item in enumerate(items):
        where = f"report {index + 1}" if isinstance(data, list) else "the report"
        try:
            reports.append(VpcrReport.from_mapping(item, where=where, now=now))
        except ValidationFailed as error:
            problems += [f"{where}: {p}" for p in error.problems] or [error.message]
    if problems:
        raise ValidationFailed(f"{source}: malformed VPCR report file", problems=problems[:50])
    return reports
