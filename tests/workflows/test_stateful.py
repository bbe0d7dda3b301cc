"""Random command sequences; the invariants must hold after every step.

Through the service, by random users:
- no transition outside the lifecycle's table; nothing submitted by Level 2 or 3;
- nothing done across facilities; a refused command stores nothing;
- replaying the stored events gives the state the command left; deadlines never move once set.
Against the aggregate alone (no service, no permissions, no store):
- every command either moves as the table allows or raises and records nothing;
- replaying the recorded events gives the state the commands left.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any
from uuid import uuid4

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, invariant, multiple, rule, run_state_machine_as_test

from adapters.tooling.samples import complete_details, vpcr_report
from domain.errors import NimrsError
from domain.incident import Incident
from domain.lifecycle import STAYS, TABLE, State, Step, available_steps
from tests.conftest import FakeClock, actor, stored_event_count
from workflows.permissions import ALLOWED
from workflows.service import IncidentService
from workflows.store import IncidentStore

USERS = [actor(f"user-{facility}-{level}", level, facility) for facility in ("F-001", "F-002") for level in (1, 2, 3)]
# A death twice: the Report of Death needs one to get through every step before it.
# Abuse twice too: WSIR needs one under investigation.
CODES = ["an.neglect", "death.suicide", "si.fall", "si.crime", "omh.crime-in-community", "si.missing-patient", "death.suicide",
         "an.neglect"]
SETTINGS = ["inpatient", "residential", "cpep", "outpatient"]
SUBMISSIONS = {"EmailedToOmh", "ReportOfDeathSubmitted", "Closed", "Reopened", "AmendedAfterSubmission", "WsirSubmitted",
               "RecordsReleased", "SentToJc", "ObligationWaived", "ObligationExtended"}
OBLIGATIONS = st.sampled_from(["charts@1", "part524@1"])  # release 0.1.0's two clocks, or Part 524's too
EARLY = "2026-03-02T15:00:00+00:00"  # the machines' first moment: never in the future
LEDGER_ARGUMENTS: dict[Step, tuple[tuple[Any, ...], dict[str, Any]]] = {
    Step.RECORD_NOTICE_RECIPIENT: (({"recipient_id": "qp-1", "role": "qualified_person", "name": "A. Parent"},), {}),
    Step.RECORD_NOTIFICATION: (({"recipient_id": "qp-1", "notified_at": EARLY, "method": "phone", "outcome": "reached"},),
                               {}),
    Step.RECORD_REQUEST: ((), {"request_id": "r-1", "kind": "incident_report_copy", "requested_by": "qp-1",
                               "received_at": EARLY}),
    Step.RELEASE_RECORDS: ((), {"request_id": "r-1", "released_at": EARLY, "method": "letter",
                                "document": {"sha256": "0" * 64, "size": 1, "location": "copy.pdf"}, "redactions": {}}),
    Step.SEND_TO_JC: ((), {"what": "autopsy_report", "sent_at": EARLY}),
    Step.SUBMIT_WSIR: (("WSIR-1",), {}),
    Step.WAIVE_OBLIGATION: (("qualified_person_notice", "No qualified person: the patient objected."), {}),
    Step.EXTEND_OBLIGATION: (("autopsy_report", "2027-06-01T00:00:00+00:00", "The examiner's report is pending."), {}),
}
# Steps that can be refused for their own inputs even where the lifecycle offers them.
WITH_INPUTS = (Step.RECORD_DETAILS, Step.AMEND, Step.DOCUMENT_FINDINGS, *LEDGER_ARGUMENTS)
ALLOWED_MOVES = {(step, source, source if dest == STAYS else dest) for step, sources, dest, _ in TABLE for source in sources}
# A step acts as a user of a random level, usually of the incident's own facility.
ACTING = st.tuples(st.sampled_from([1, 1, 2, 3]), st.sampled_from([True, True, True, False]))
FACTS = st.fixed_dictionaries({"serious_harm": st.booleans(), "on_premises": st.booleans(), "age": st.sampled_from([12, 40]),
                               "discovered": st.just(True)})
REACHED: set[str] = set()


def _state(incident: Incident) -> dict[str, Any]:
    return {k: v for k, v in incident.__dict__.items() if k != "_pending_events"}


def _call(target: Any, step: Step, *args: Any) -> Any:
    """One step on the service (``args``: user, incident id, screen, fields) or on the aggregate (actor, time, ...)."""
    *head, screen, fields = args
    extra: dict[Step, tuple[Any, ...]] = {  # steps with inputs of their own
        Step.RECORD_DETAILS: (screen, fields), Step.AMEND: (screen, fields, "correction"),
        Step.DOCUMENT_FINDINGS: ("Findings",), Step.REOPEN: ("New information",),
    }
    arguments, keywords = LEDGER_ARGUMENTS.get(step, ((), {}))
    return getattr(target, step.value)(*head, *extra.get(step, ()), *arguments, **keywords)


def _user(level: int, facility: str, same_facility: bool = True) -> Any:
    return next(u for u in USERS if u.level == level and (u.facility == facility) == same_facility)


class IncidentWorkflow(RuleBasedStateMachine):
    incidents = Bundle("incidents")

    def __init__(self) -> None:
        super().__init__()
        self.clock = FakeClock(datetime(2026, 3, 2, 15, tzinfo=timezone.utc))
        self.service = IncidentService(IncidentStore(env={"PERSISTENCE_MODULE": "eventsourcing.popo"}), self.clock)
        self.deadlines: dict[tuple[Any, str], Any] = {}
        self.succeeded: set[str] = set()

    @rule(target=incidents, user=st.sampled_from(USERS), case=st.integers(0, 30), code=st.sampled_from(CODES),
          setting=st.sampled_from(SETTINGS), facility=st.sampled_from(["F-001", "F-002"]),
          how=st.sampled_from(["received", "received and completed", "received and completed", "new incident"]),
          facts=FACTS, obligations=OBLIGATIONS)
    def intake(self, user, case, code, setting, facility, how, facts, obligations):  # type: ignore[no-untyped-def]
        """A report from the JC or a New Incident, by a random user; perhaps also imported and filled in."""
        self.service.obligations_for = lambda _facility: obligations
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
            self._step(incident, editor, Step.IMPORT_REPORT, lambda s: s.import_report(editor, incident))
            self._fill(incident, editor, facts)
        return multiple(incident)

    @rule(incident=incidents, acting=ACTING, facts=FACTS, data=st.data(), hours=st.integers(0, 24 * 12))
    def act(self, incident, acting, facts, data, hours):  # type: ignore[no-untyped-def]
        """Mostly an action the machine offers, by a user allowed to take it; sometimes anything by anyone."""
        self.clock.advance(hours=hours)
        facility = self.service.load(incident).facility
        offered = available_steps(self.service.load(incident))
        if offered and data.draw(st.integers(0, 3)):
            # the lifecycle's own steps twice as often as the ledger's, so runs get deep enough to close and reopen
            moves = [step for step in offered if step not in LEDGER_ARGUMENTS or step is Step.SUBMIT_WSIR]
            trigger = data.draw(st.sampled_from(moves if moves and data.draw(st.integers(0, 2)) else offered))
            user = _user(data.draw(st.sampled_from(sorted(ALLOWED[trigger]))), facility)
        else:
            trigger = data.draw(st.sampled_from(list(Step)))
            user = _user(acting[0], facility, acting[1])
        screen, fields = data.draw(st.sampled_from(
            complete_details(self.clock() - timedelta(days=2), **facts) + [("severity", {"harm_rating": 9})]))
        self._step(incident, user, trigger, lambda s: _call(s, trigger, user, incident, screen, fields))

    @rule(incident=incidents)
    def answer_a_records_request(self, incident):  # type: ignore[no-untyped-def]
        """A qualified person asks for the report and gets it: four steps in a row, each of which may be refused."""
        submitter = _user(1, self.service.load(incident).facility)
        for step in (Step.RECORD_NOTICE_RECIPIENT, Step.RECORD_REQUEST, Step.RELEASE_RECORDS):
            self._step(incident, submitter, step, lambda s, t=step: _call(s, t, submitter, incident, None, None))

    @rule(incident=incidents)
    def see_it_through(self, incident):  # type: ignore[no-untyped-def]
        """The facility takes the incident as far as it will go, in order (each step may be refused): so random runs
        reach the deep steps (WSIR, closing, reopening) however many the ledger adds."""
        facility = self.service.load(incident).facility
        for step in (Step.EMAIL_OMH, Step.SUBMIT_REPORT_OF_DEATH, Step.START_INVESTIGATION, Step.EXTEND_OBLIGATION,
                     Step.SEND_TO_JC, Step.SUBMIT_WSIR, Step.DOCUMENT_FINDINGS, Step.WAIVE_OBLIGATION, Step.CLOSE,
                     Step.REOPEN):
            user = _user(min(ALLOWED[step]), facility)
            self._step(incident, user, step, lambda s, t=step, u=user: _call(s, t, u, incident, None, None))

    def _fill(self, incident, user, facts) -> None:  # type: ignore[no-untyped-def]
        for screen, fields in complete_details(self.clock() - timedelta(days=2), **facts):
            self._step(incident, user, Step.RECORD_DETAILS, lambda s, n=screen, f=fields: s.record_details(user, incident, n, f))

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
        ids = {n.originator_id for n in self.service.store.recorder.select_notifications(0, 100_000)}
        for incident_id in ids:
            incident = self.service.load(incident_id)
            assert incident.state in set(State)
            for name, deadline in incident.deadlines.items():
                if deadline.provisional:
                    continue  # a draft's clocks follow its facts until Email OMH fixes them
                fixed = (deadline.clock, deadline.start, deadline.length, deadline.unit)  # an extension moves only `due`
                assert self.deadlines.setdefault((incident.id, name), fixed) == fixed, "a deadline moved"
            for event in self.service.store.repository.event_store.get(incident.id):
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
        max_examples=200, stateful_step_count=40, deadline=None, database=None, derandomize=True,
        suppress_health_check=[HealthCheck.too_slow]))
    assert set(Step) <= REACHED


class AggregateLifecycle(RuleBasedStateMachine):
    """The aggregate alone: any command in any state, and it must guard its own lifecycle."""

    incidents = Bundle("aggregates")

    def __init__(self) -> None:
        super().__init__()
        self.clock = FakeClock(datetime(2026, 3, 2, 15, tzinfo=timezone.utc))
        self.editor, self.submitter = USERS[1], USERS[0]
        self.recorded: dict[Any, list[Any]] = {}

    @rule(target=incidents, case=st.integers(0, 10**6), code=st.sampled_from(CODES), setting=st.sampled_from(SETTINGS),
          received=st.booleans(), obligations=OBLIGATIONS)
    def intake(self, case, code, setting, received, obligations):  # type: ignore[no-untyped-def]
        if received:
            report = vpcr_report(f"2026-{case:06}", self.clock() - timedelta(days=1), code=code, setting=setting)
            incident = Incident.receive(report, self.editor, self.clock(), obligations=obligations)
        else:
            incident = Incident.create(uuid4(), self.editor, self.clock(), program="Program", setting=setting, code=code,
                                       summary="Entered directly", rules="current", obligations=obligations)
        if incident.id in self.recorded:  # the same JC case number again: the store would refuse it as a duplicate
            return multiple()
        self.recorded[incident.id] = incident.collect_events()
        return multiple(incident)

    @rule(incident=incidents, step=st.sampled_from(list(Step)), facts=FACTS, data=st.data(), hours=st.integers(0, 24 * 12))
    def act(self, incident, step, facts, data, hours):  # type: ignore[no-untyped-def]
        at = self.clock.advance(hours=hours)
        screen, fields = data.draw(st.sampled_from(
            complete_details(at - timedelta(days=2), **facts) + [("severity", {"harm_rating": 9})]))
        before, offered = _state(incident), step in available_steps(incident)
        try:
            _call(incident, step, self.submitter, at, screen, fields)
        except NimrsError:
            assert _state(incident) == before and not incident.collect_events(), "a refused command recorded something"
            assert not offered or step in WITH_INPUTS, \
                "an offered step without inputs of its own was refused"
            return
        assert offered, f"{step} succeeded but the lifecycle did not offer it"
        assert (step, before["state"], incident.state) in ALLOWED_MOVES
        self.recorded[incident.id] += incident.collect_events()

    @invariant()
    def replay_gives_the_same_incidents(self) -> None:
        for events in self.recorded.values():
            replayed = None
            for event in events:
                replayed = event.mutate(replayed)
            assert replayed is not None and replayed.state in set(State)


TestAggregateLifecycle = AggregateLifecycle.TestCase
TestAggregateLifecycle.settings = settings(max_examples=100, stateful_step_count=40, deadline=None,
                                           suppress_health_check=[HealthCheck.too_slow])
