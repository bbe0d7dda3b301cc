"""The clock process: records, exactly once per obligation and due time, when it becomes due soon and when it
is missed (``ClockDueSoon``, ``ClockMissed``), as events on the log, so the feed, webhooks, views and alerts all
carry them.

Exactly once comes from the aggregate, not from this process: each pass reads which incidents may have work (the
overdue view's pending rows, ``PendingClocks``), loads each, and asks it to record what is due; the incident records
an alert only if it has none for that obligation and due time. The process keeps no position of its own, so a
crash or a kill loses nothing (the view still shows the row until the event is projected, and the next pass asks
again) and duplicates nothing (the incident answers that it has recorded it). A concurrent writer's conflict is
retried once with the incident reloaded.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Protocol
from uuid import UUID

from domain.clock import Clock
from domain.errors import NimrsError
from workflows.service import IncidentService

log = logging.getLogger("nimrs.clocks")


class PendingClocks(Protocol):
    def pending_clock_alerts(self, limit: int) -> list[str]:
        """Incident ids with an obligation whose warning or due time has passed and whose alert is not yet seen."""


@dataclass(frozen=True)
class ClockPass:
    incidents: int  # looked at
    due_soon: int  # ClockDueSoon recorded
    missed: int  # ClockMissed recorded
    scan_seconds: float  # reading the pending rows (the 1M-incident benchmark's figure)


class ClockProcess:
    def __init__(self, service: IncidentService, pending: PendingClocks, clock: Clock, *, batch: int = 500) -> None:
        self.service, self.pending, self.clock, self.batch = service, pending, clock, batch

    def run_once(self) -> ClockPass:
        started = time.perf_counter()
        incident_ids = self.pending.pending_clock_alerts(self.batch)
        scanned = time.perf_counter() - started
        due_soon = missed = 0
        for incident_id in incident_ids:
            soon, late = self._record(UUID(incident_id))
            due_soon, missed = due_soon + soon, missed + late
        return ClockPass(len(incident_ids), due_soon, missed, scanned)

    def _record(self, incident_id: UUID) -> tuple[int, int]:
        try:
            due_soon, missed = self.service.record_clock_alerts(incident_id)
        except NimrsError as error:  # gone, unreadable, or changed twice meanwhile: the others go on; the next pass asks again
            log.warning("clock process: incident %s skipped this pass (%s)", incident_id, type(error).__name__)
            return 0, 0
        return len(due_soon), len(missed)
