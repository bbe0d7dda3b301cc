"""Random command sequences by random users; the invariants must hold after every step.

- no transition outside the machine's table; nothing submitted by Level 2 or 3;
- nothing done across facilities; a refused command stores nothing;
- replaying the stored events gives the state the command left; deadlines never move once set.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, invariant, multiple, rule, run_state_machine_as_test

from adapters.samples import complete_details, vpcr_report
from domain.errors import NimrsError
from domain.incident import Incident, State
from tests.conftest import FakeClock, actor, stored_event_count
from workflows.machine import TABLE, TRIGGERS, available_triggers
from workflows.permissions import ALLOWED
from workflows.service import IncidentService

USERS = [actor(f"user-{facility}-{level}", level, facility) for facility in ("F-001", "F-002") for level in (1, 2, 3)]
CODES = ["an.neglect", "death.suicide", "si.fall", "si.crime", "omh.crime-in-community", "si.missing-patient"]
SETTINGS = ["inpatient", "residential", "cpep", "outpatient"]
SUBMISSIONS = {"EmailedToOmh", "ReportOfDeathSubmitted", "Closed", "Reopened", "AmendedAfterSubmission"}
ALLOWED_MOVES = {(trigger, source, source if dest == "=" else dest) for trigger, sources, dest, _ in TABLE for source in sources}
# A step acts as a user of a random level, usually of the incident's own facility.
ACTING = st.tuples(st.sampled_from([1, 1, 2, 3]), st.sampled_from([True, True, True, False]))
FACTS = st.fixed_dictionaries({"serious_harm": st.booleans(), "on_premises": st.booleans(), "age": st.sampled_from([12, 40])})
REACHED: set[str] = set()


def _state(incident: Incident) -> dict[str, Any]:
    return {k: v for k, v in incident.__dict__.items() if k != "_pending_events"}


def _user(level: int, facility: str, same_facility: bool = True) -> Any:
    return next(u for u in USERS if u.level == level and (u.facility == facility) == same_facility)


class IncidentWorkflow(RuleBasedStateMachine):
    incidents = Bundle("incidents")

    def __init__(self) -> None:
        super().__init__()
        self.clock = FakeClock(datetime(2026, 3, 2, 15, tzinfo=timezone.utc))
        self.service = IncidentService(env={"PERSISTENCE_MODULE": "eventsourcing.popo"}, clock=self.clock)
        self.deadlines: dict[tuple[Any, str], Any] = {}
        self.succeeded: set[str] = set()

    @rule(target=incidents, user=st.sampled_from(USERS), case=st.integers(0, 30), code=st.sampled_from(CODES),
          setting=st.sampled_from(SETTINGS), facility=st.sampled_from(["F-001", "F-002"]),
          how=st.sampled_from(["received", "received and completed", "received and completed", "new incident"]),
          facts=FACTS)
    def intake(self, user, case, code, setting, facility, how, facts):  # type: ignore[no-untyped-def]
        """A report from the JC or a New Incident, by a random user; perhaps also imported and filled in."""
        if how == "new incident":
            created = self._attempt(lambda: self.service.create_incident(
                user, program="Program", setting=setting, code=code, summary="Entered directly"))
            return multiple(created) if created else multiple()
        report = vpcr_report(f"2026-{case:06}", self.clock() - timedelta(days=1), code=code, setting=setting,
                             facility=facility)
        received = self._attempt(lambda: self.service.receive_vpcr_report(user, report))
        if not received:
            return multiple()
        incident, added = received
        if added and how == "received and completed":
            editor = _user(2, facility)
            self._step(incident, editor, "import_report", lambda s: s.import_report(editor, incident))
            self._fill(incident, editor, facts)
        return multiple(incident)

    @rule(incident=incidents, acting=ACTING, facts=FACTS, data=st.data(), hours=st.integers(0, 24 * 12))
    def act(self, incident, acting, facts, data, hours):  # type: ignore[no-untyped-def]
        """Mostly an action the machine offers, by a user allowed to take it; sometimes anything by anyone."""
        self.clock.advance(hours=hours)
        facility = self.service.load(incident).facility
        offered = available_triggers(self.service.load(incident))
        if offered and data.draw(st.integers(0, 3)):
            trigger = data.draw(st.sampled_from(offered))
            user = _user(data.draw(st.sampled_from(sorted(ALLOWED[trigger]))), facility)
        else:
            trigger = data.draw(st.sampled_from(TRIGGERS))
            user = _user(acting[0], facility, acting[1])
        screen, fields = data.draw(st.sampled_from(
            complete_details(self.clock() - timedelta(days=2), **facts) + [("severity", {"harm_rating": 9})]))
        calls = {
            "import_report": lambda s: s.import_report(user, incident),
            "record_details": lambda s: s.record_details(user, incident, screen, fields),
            "amend": lambda s: s.amend(user, incident, screen, fields, reason="correction"),
            "email_omh": lambda s: s.email_omh(user, incident),
            "email_jc": lambda s: s.email_jc(user, incident),
            "start_investigation": lambda s: s.start_investigation(user, incident),
            "document_findings": lambda s: s.document_findings(user, incident, "Findings"),
            "close": lambda s: s.close_incident(user, incident),
            "reopen": lambda s: s.reopen(user, incident, "New information"),
        }
        self._step(incident, user, trigger, calls[trigger])

    def _fill(self, incident, user, facts) -> None:  # type: ignore[no-untyped-def]
        for screen, fields in complete_details(self.clock() - timedelta(days=2), **facts):
            self._step(incident, user, "record_details", lambda s, n=screen, f=fields: s.record_details(user, incident, n, f))

    def _attempt(self, command: Any) -> Any:
        before = stored_event_count(self.service)
        try:
            return command()
        except NimrsError:
            assert stored_event_count(self.service) == before, "a refused command stored events"
            return None

    def _step(self, incident_id, user, trigger, call):  # type: ignore[no-untyped-def]
        before = self.service.load(incident_id)
        after = self._attempt(lambda: call(self.service))
        if after is None:
            assert self.service.load(incident_id).version == before.version
            return
        self.succeeded.add(trigger)
        assert (trigger, before.state, after.state) in ALLOWED_MOVES
        assert user.level in ALLOWED[trigger]
        assert user.facility == before.facility
        assert _state(self.service.load(incident_id)) == _state(after), "replay differs from the command's result"

    @invariant()
    def history_is_consistent(self) -> None:
        ids = {n.originator_id for n in self.service.recorder.select_notifications(0, 100_000)}
        for incident_id in ids:
            incident = self.service.load(incident_id)
            assert incident.state in State.ALL
            for name, deadline in incident.deadlines.items():
                assert self.deadlines.setdefault((incident.id, name), deadline) == deadline, "a deadline moved"
            for event in self.service.repository.event_store.get(incident.id):
                assert event.actor["facility"] == incident.facility
                if type(event).__name__ in SUBMISSIONS:
                    assert event.actor["level"] == 1

    def teardown(self) -> None:
        REACHED.update(self.succeeded)


TestIncidentWorkflow = IncidentWorkflow.TestCase
TestIncidentWorkflow.settings = settings(max_examples=100, stateful_step_count=40, deadline=None,
                                         suppress_health_check=[HealthCheck.too_slow])


def test_random_runs_reach_every_workflow_step() -> None:
    """Guards the test above against exploring too shallowly to mean anything."""
    REACHED.clear()
    run_state_machine_as_test(IncidentWorkflow, settings=settings(
        max_examples=100, stateful_step_count=40, deadline=None, database=None, derandomize=True,
        suppress_health_check=[HealthCheck.too_slow]))
    assert set(TRIGGERS) <= REACHED
