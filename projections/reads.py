"""The read models' queries as users may run them: every level reads, within its own facility.

Other facilities are "not found", as for incidents, so their existence is not disclosed.
"""

from __future__ import annotations

from datetime import datetime

from typing_extensions import TypedDict

from domain.actor import Actor
from domain.clock import Clock
from projections import audit, board, overdue, statistics
from projections.audit import AuditEntry
from projections.board import Board
from projections.overdue import OverdueClock
from projections.projector import Projector
from projections.statistics import Count
from workflows.permissions import Action, require_facility, require_level
from workflows.read_audit import NOT_RECORDED, ReadRecorder, ReadView, reads_of


class OverduePage(TypedDict):
    """One page of a facility's reporting clocks with the status asked for, as they stood ``as_of``."""

    facility: str
    as_of: str
    status: str
    clocks: list[OverdueClock]


class ReadModels:
    def __init__(self, projector: Projector, clock: Clock, *, reads: ReadRecorder = NOT_RECORDED) -> None:
        self.projector = projector
        self.clock = clock
        self.reads = reads  # the audit trail's rows are incidents' content: each one returned is a read

    def _facility(self, actor: Actor, facility: str | None) -> str:
        require_level(actor, Action.READ)
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
