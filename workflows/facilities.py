"""A facility's own settings as data, with who changed them, when and why: which obligation rules its new
incidents pin (``domain.obligations.sets``), and who receives which alerts (``workflows.alerts``).

Each change is a new row in an append-only history (the latest one counts), never an edit. A facility that
never chose obligation rules gets the installation's default (``NIMRS_OBLIGATIONS_DEFAULT``: part524@1 for new
installations). Choosing obligation rules is a legal duty, so a Level 1 user of the facility records it with a
reason; alert rules are a security administrator's.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol

from domain.clock import Clock
from domain.errors import PermissionDenied, ValidationFailed
from domain.obligations.sets import obligation_rules
from domain.vocabulary import Level
from workflows.accounts import Principal
from workflows.alerts import AlertRule, parse_alert_rules
from workflows.permissions import require_facility

MAX_REASON = 2_000


class SettingKind(StrEnum):
    OBLIGATIONS = "obligations"
    ALERT_RULES = "alert_rules"


@dataclass(frozen=True)
class FacilitySetting:
    facility: str
    kind: SettingKind
    value: Any  # JSON: a rules id, or a list of alert rules
    set_by: str
    set_at: datetime
    reason: str


class FacilitySettings(Protocol):
    """The port: an append-only history of each facility's settings."""

    def latest(self, facility: str, kind: SettingKind) -> FacilitySetting | None: ...

    def history(self, facility: str, kind: SettingKind) -> list[FacilitySetting]: ...

    def record(self, setting: FacilitySetting) -> None: ...


def _require_reader(by: Principal, facility: str, kind: SettingKind) -> None:
    """Every user of the facility (and a state reviewer) reads its obligation rules; alert rules hold email
    addresses, so only the facility's security administrators and Level 1 users read those."""
    require_facility(by.actor, facility, f"facility {facility!r}", reading=True)
    if kind is SettingKind.ALERT_RULES and (by.actor.facility != facility
                                            or not (by.security_admin or by.actor.level is Level.SUBMITTER)):
        raise PermissionDenied(f"only a security administrator or a Level 1 user of facility {facility!r} may read "
                               f"its alert rules; {by.user_id!r} is neither")


def _reason(reason: str) -> str:
    if not isinstance(reason, str) or not reason.strip():
        raise ValidationFailed("a reason is required")
    if len(reason) > MAX_REASON:
        raise ValidationFailed(f"the reason is longer than {MAX_REASON} characters")
    return reason.strip()


class FacilityService:
    # Every received or created incident asks which rules to pin: a choice is rare, so a process keeps what it
    # read this long (another process's new choice applies within it; this process's own at once).
    CACHE_SECONDS = 30.0

    def __init__(self, settings: FacilitySettings, clock: Clock, *, default_obligations: str) -> None:
        obligation_rules(default_obligations)
        self.settings, self.clock, self.default_obligations = settings, clock, default_obligations
        self._obligations: dict[str, tuple[str, datetime]] = {}

    def obligations_for(self, facility: str) -> str:
        """The obligation rules a new incident of ``facility`` pins."""
        now = self.clock()
        cached = self._obligations.get(facility)
        if cached is not None and (now - cached[1]).total_seconds() < self.CACHE_SECONDS:
            return cached[0]
        chosen = self.settings.latest(facility, SettingKind.OBLIGATIONS)
        rules_id = str(chosen.value) if chosen is not None else self.default_obligations
        self._obligations[facility] = (rules_id, now)
        return rules_id

    def choose_obligations(self, by: Principal, facility: str, rules_id: str, reason: str) -> FacilitySetting:
        require_facility(by.actor, facility, f"facility {facility!r}")
        if by.actor.level is not Level.SUBMITTER:
            raise PermissionDenied(f"choosing a facility's obligation rules needs Level 1; user {by.user_id!r} is "
                                   f"Level {int(by.actor.level)}")
        obligation_rules(rules_id)
        setting = self._record(by, facility, SettingKind.OBLIGATIONS, rules_id, reason)
        self._obligations.pop(facility, None)
        return setting

    def alert_rules(self, facility: str) -> tuple[AlertRule, ...]:
        chosen = self.settings.latest(facility, SettingKind.ALERT_RULES)
        return parse_alert_rules(chosen.value) if chosen is not None else ()

    def set_alert_rules(self, by: Principal, facility: str, rules: Sequence[Any], reason: str) -> FacilitySetting:
        require_facility(by.actor, facility, f"facility {facility!r}")
        if not by.security_admin:
            raise PermissionDenied(f"only a security administrator may set alert rules; {by.user_id!r} is not one")
        parsed = parse_alert_rules(rules)
        return self._record(by, facility, SettingKind.ALERT_RULES, [rule.as_dict() for rule in parsed], reason)

    def current(self, by: Principal, facility: str, kind: SettingKind) -> FacilitySetting | None:
        """The latest recorded setting of ``kind``, as ``by`` may read it (None: never set)."""
        _require_reader(by, facility, kind)
        return self.settings.latest(facility, kind)

    def history(self, by: Principal, facility: str, kind: SettingKind) -> list[FacilitySetting]:
        _require_reader(by, facility, kind)
        return self.settings.history(facility, kind)

    def _record(self, by: Principal, facility: str, kind: SettingKind, value: Any, reason: str) -> FacilitySetting:
        setting = FacilitySetting(facility, kind, value, by.user_id, self.clock(), _reason(reason))
        self.settings.record(setting)
        return setting


def as_record(setting: FacilitySetting) -> dict[str, Any]:
    return {"facility": setting.facility, "kind": setting.kind.value, "value": setting.value, "set_by": setting.set_by,
            "set_at": setting.set_at.isoformat(), "reason": setting.reason}
