"""The read models' queries as users may run them: every level reads, within its own facility.

Other facilities are "not found", as for incidents, so their existence is not disclosed. A state
reviewer reads any facility, and without one named reads every facility at once (``facility`` None
in the answer: counts summed, rows of every facility).
"""

from __future__ import annotations

from datetime import date, datetime

from typing_extensions import TypedDict

from domain.actor import Actor
from domain.clock import Clock
from domain.errors import ValidationFailed
from projections import audit, board, incident_list, notice_timeliness, overdue, statistics
from projections.audit import AuditEntry
from projections.board import Board
from projections.incident_list import IncidentListed
from projections.notice_timeliness import NoticeTimeliness
from projections.overdue import OverdueClock
from projections.projector import Projector
from projections.statistics import Count
from workflows.permissions import Action, require_facility, require_level
from workflows.read_audit import NOT_RECORDED, ReadRecorder, ReadView, reads_of


class OverduePage(TypedDict):
    """One page of a facility's reporting clocks with the status asked for, as they stood ``as_of``."""

    facility: str | None  # None: every facility (a state reviewer's default)
    as_of: str
    status: str
    clocks: list[OverdueClock]


class IncidentList(TypedDict):
    """One page of the incidents that match a search, newest reported first, and how many match in all."""

    facility: str | None  # None: every facility (a state reviewer's default)
    total: int
    offset: int
    limit: int
    incidents: list[IncidentListed]


class ReadModels:
    def __init__(self, projector: Projector, clock: Clock, *, reads: ReadRecorder = NOT_RECORDED) -> None:
        self.projector = projector
        self.clock = clock
        self.reads = reads  # the audit trail's rows are incidents' content: each one returned is a read

    def _facility(self, actor: Actor, facility: str | None) -> str | None:
        """The facility to read (None: every facility, a state reviewer's default)."""
        require_level(actor, Action.READ)
        if not facility and actor.state_reviewer:
            return None
        chosen = facility or actor.facility
        require_facility(actor, chosen, f"facility {chosen!r}", reading=True)
        return chosen

    def overdue(self, actor: Actor, *, facility: str | None = None, as_of: datetime | None = None,
                status: str = "overdue", clock: str | None = None, soon_days: int = 2, limit: int = 50,
                offset: int = 0) -> OverduePage:
        chosen = self._facility(actor, facility)
        moment = as_of or self.clock()
        # "Now" is after every recorded event; a past moment may be before some (then clocks met later
        # count as open). Only the past needs the views' latest event time.
        latest = None if as_of is None else self.projector.as_of()
        current = latest is None or moment >= latest
        with self.projector.engine.connect() as connection:
            rows = overdue.page(connection, facility=chosen, as_of=moment, current=current, status=status,
                                clock=clock, soon_days=soon_days, limit=limit, offset=offset,
                                cipher=self.projector.cipher)
        return {"facility": chosen, "as_of": moment.isoformat(), "status": status, "clocks": rows}

    def obligations(self, actor: Actor, *, facility: str | None = None, status: str = "open", clock: str | None = None,
                    soon_days: int = 2, limit: int = 50, offset: int = 0) -> OverduePage:
        """Every obligation of the kinds the pinned rules define, as it stands now: ``open`` (overdue, due soon or
        later), or one of ``overdue``, ``due_soon``, ``met_on_time``, ``met_late``, ``waived``, ``all``."""
        if status not in overdue.OBLIGATION_STATUSES:
            raise ValidationFailed(f"unknown status {status!r}; expected one of: {', '.join(overdue.OBLIGATION_STATUSES)}")
        page = self.overdue(actor, facility=facility, status="unmet" if status == "open" else status, clock=clock,
                            soon_days=soon_days, limit=limit, offset=offset)
        return {**page, "status": status}

    def pending_clock_alerts(self, limit: int = 500) -> list[str]:
        """The clock process's work (``workflows.clocks``): no reader is shown anything."""
        with self.projector.engine.connect() as connection:
            return overdue.pending_clock_alerts(connection, self.clock(), limit)

    def board(self, actor: Actor, *, facility: str | None = None, state: str | None = None,
              soon_days: int = 2, limit: int = 50) -> Board:
        chosen = self._facility(actor, facility)
        now = self.clock()
        with self.projector.engine.connect() as connection:
            result = board.board(connection, chosen, now, soon_days)
            if state is not None:
                result["incidents"] = board.in_state(connection, chosen, state, now, limit)
        return result

    def statistics(self, actor: Actor, *, by: str = "type", facility: str | None = None,
                   from_month: str | None = None, to_month: str | None = None) -> list[Count]:
        chosen = self._facility(actor, facility)
        with self.projector.engine.connect() as connection:
            return statistics.report(connection, facility=chosen, by=by, from_month=from_month, to_month=to_month)

    def notice_timeliness(self, actor: Actor, *, facility: str | None = None, months: int = 12) -> NoticeTimeliness:
        """The 24-hour notices to qualified persons per New York month of the initial report, the last ``months``
        months up to now: met on time, late, waived, overdue, not yet due, and the share on time."""
        chosen = self._facility(actor, facility)
        with self.projector.engine.connect() as connection:
            return notice_timeliness.report(connection, facility=chosen, now=self.clock(), months=months)

    def audit_trail(self, actor: Actor, *, incident_id: str | None = None, user: str | None = None,
                    since: datetime | None = None, until: datetime | None = None, facility: str | None = None,
                    limit: int = 1000) -> list[AuditEntry]:
        chosen = self._facility(actor, facility)
        with self.projector.engine.connect() as connection:
            rows = audit.query(connection, facility=chosen, incident_id=incident_id, actor_id=user, since=since,
                               until=until, limit=limit, cipher=self.projector.cipher)
        self.reads.record(reads_of(actor, ReadView.AUDIT_TRAIL, ((r["incident_id"], r["facility"]) for r in rows),
                                   self.clock()))
        return rows

    def incidents(self, actor: Actor, *, facility: str | None = None, state: str | None = None,
                  code: str | None = None, reported_from: date | None = None, reported_to: date | None = None,
                  jc_case_number: str | None = None, clock_status: str | None = None, soon_days: int = 2,
                  limit: int = 50, offset: int = 0) -> IncidentList:
        """Incidents by state, code (or its type or category: ``an.``), New York days reported (both
        included), JC case number and clock status, newest reported first. Like the board, a list of ids,
        codes and states: not a read of any incident's content (``workflows.read_audit``)."""
        chosen = self._facility(actor, facility)
        now = self.clock()
        since, before = incident_list.reported_between(reported_from, reported_to, now)
        with self.projector.engine.connect() as connection:
            total, rows = incident_list.search(
                connection, facility=chosen, now=now, state=state, code=code, reported_since=since,
                reported_before=before, jc_case_number=jc_case_number, clock_status=clock_status,
                soon_days=soon_days, limit=limit, offset=offset)
        return {"facility": chosen, "total": total, "offset": offset, "limit": limit, "incidents": rows}
