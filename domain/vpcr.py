"""A VPCR report as the JC delivers it to a provider's JC import queue.

The file schema is documented in docs/vpcr.md (JSON Schema: docs/vpcr.schema.json).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID, uuid5

from domain.deadlines import require_aware
from domain.errors import NimrsError, ValidationFailed
from domain.moments import require_happened
from domain.rules import DEFAULT_RULE_SET, rule_set
from domain.vocabulary import parse_setting

# Fixed forever: incident ids of imported reports are derived from the JC case number with it.
JC_CASE_NAMESPACE = UUID("6f1c2a4e-8d0b-4c6e-9a55-3b7e1d2f9c10")
CASE_NUMBER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{2,39}$")
FIELDS = ("jc_case_number", "jc_reported_at", "facility", "program", "setting", "reported_type", "summary")


def incident_id_for_case(jc_case_number: str) -> UUID:
    return uuid5(JC_CASE_NAMESPACE, jc_case_number.upper())


def incident_id_for(reference: str) -> UUID:
    """An incident is named by its id or by its JC case number."""
    try:
        return UUID(reference)
    except ValueError:
        return incident_id_for_case(reference)


@dataclass(frozen=True)
class VpcrReport:
    jc_case_number: str
    jc_reported_at: datetime
    facility: str
    program: str
    setting: str
    reported_type: str
    summary: str
    rule_set: str = DEFAULT_RULE_SET

    @property
    def incident_id(self) -> UUID:
        return incident_id_for_case(self.jc_case_number)

    @classmethod
    def from_mapping(cls, data: Any, *, where: str = "VPCR report", now: datetime | None = None) -> VpcrReport:
        """Parse one report; every problem is named in one error, nothing is half-accepted.

        Given ``now``, jc_reported_at must also lie in the plausible range (``domain.moments``);
        receiving the report checks it again in any case.
        """
        if not isinstance(data, Mapping):
            raise ValidationFailed(f"{where} must be a JSON object with fields: {', '.join(FIELDS)}")
        problems = [f"missing field {name}" for name in FIELDS if name not in data]
        problems += [f"unknown field {name!r}" for name in data if name not in (*FIELDS, "rule_set")]
        values = {name: data[name] for name in FIELDS if name in data}
        for name, value in values.items():
            if not isinstance(value, str) or not value.strip():
                problems.append(f"{name} must be non-empty text")
        if problems:
            raise ValidationFailed(f"{where} is malformed", problems=problems)
        return cls._checked(values, data.get("rule_set", DEFAULT_RULE_SET), where, now)

    @classmethod
    def _checked(cls, values: dict[str, str], rules_name: Any, where: str, now: datetime | None) -> VpcrReport:
        problems = []
        case = values["jc_case_number"].strip()
        if not CASE_NUMBER.match(case):
            problems.append(f"jc_case_number {case!r} must be 3-40 letters, digits or dashes")
        try:
            reported_at = require_aware(datetime.fromisoformat(values["jc_reported_at"]), "jc_reported_at")
        except ValueError as error:
            problems.append(f"jc_reported_at must be an ISO 8601 date and time with offset ({error})")
            reported_at = None
        except ValidationFailed as error:
            problems.append(error.message)
            reported_at = None
        if reported_at is not None and now is not None:
            try:
                require_happened(reported_at, "jc_reported_at", now)
            except ValidationFailed as error:
                problems.append(error.message)
        for check in (
            lambda: parse_setting(values["setting"]),
            lambda: rule_set(str(rules_name)).entry(values["reported_type"]),
        ):
            try:
                check()
            except NimrsError as error:
                problems.append(error.message)
        if problems or reported_at is None:
            raise ValidationFailed(f"{where} is malformed", problems=problems)
        return cls(
            jc_case_number=case.upper(),
            jc_reported_at=reported_at,
            facility=values["facility"].strip(),
            program=values["program"].strip(),
            setting=parse_setting(values["setting"]).value,
            reported_type=values["reported_type"],
            summary=values["summary"].strip(),
            rule_set=str(rules_name),
        )

    def as_event_fields(self) -> dict[str, Any]:
        return {
            "jc_case_number": self.jc_case_number,
            "jc_reported_at": self.jc_reported_at,
            "facility": self.facility,
            "program": self.program,
            "setting": self.setting,
            "reported_type": self.reported_type,
            "summary": self.summary,
            "rule_set": self.rule_set,
        }
