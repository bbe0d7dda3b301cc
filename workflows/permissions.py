"""Who may do what, for which facility (NIMRS FAQ security groups).

Level 1 does everything, including every submission (Email OMH, Email JC), closing,
reopening and amending a submitted report. Level 2 receives, imports, creates and edits
drafts and works investigations, but cannot submit. Level 3 only reads. Everyone acts
only within their own facility; another facility's incidents are reported as not found,
so their existence is not disclosed. A state reviewer reads every facility but acts only
within its own.
"""

from enum import StrEnum

from domain.actor import Actor
from domain.errors import IncidentNotFound, NotFound, PermissionDenied
from domain.lifecycle import Step
from domain.vocabulary import Level

L1, L2, L3 = Level.SUBMITTER, Level.EDITOR, Level.READER


class Action(StrEnum):
    """What a user may do besides the lifecycle's steps."""

    RECEIVE = "receive"
    CREATE = "create"
    READ = "read"


ALLOWED: dict[Step | Action, frozenset[Level]] = {
    Action.RECEIVE: frozenset({L1, L2}),
    Action.CREATE: frozenset({L1, L2}),
    Step.IMPORT_REPORT: frozenset({L1, L2}),
    Step.RECORD_DETAILS: frozenset({L1, L2}),
    Step.START_INVESTIGATION: frozenset({L1, L2}),
    Step.DOCUMENT_FINDINGS: frozenset({L1, L2}),
    Step.EMAIL_OMH: frozenset({L1}),
    Step.SUBMIT_REPORT_OF_DEATH: frozenset({L1}),
    Step.CLOSE: frozenset({L1}),
    Step.REOPEN: frozenset({L1}),
    Step.AMEND: frozenset({L1}),
    Step.RECORD_NOTICE_RECIPIENT: frozenset({L1, L2}),
    Step.RECORD_NOTIFICATION: frozenset({L1, L2}),
    Step.RECORD_REQUEST: frozenset({L1, L2}),
    Step.RELEASE_RECORDS: frozenset({L1}),
    Step.SEND_TO_JC: frozenset({L1}),
    Step.SUBMIT_WSIR: frozenset({L1}),
    Step.WAIVE_OBLIGATION: frozenset({L1}),
    Step.EXTEND_OBLIGATION: frozenset({L1}),
    Action.READ: frozenset({L1, L2, L3}),
}


def may(actor: Actor, action: Step | Action) -> bool:
    return actor.level in ALLOWED[action]


def require_level(actor: Actor, action: Step | Action) -> None:
    if not may(actor, action):
        levels = " or ".join(f"Level {int(level)}" for level in sorted(ALLOWED[action]))
        raise PermissionDenied(f"{action} needs {levels}; user {actor.user_id!r} is Level {int(actor.level)}")


def may_read_facility(actor: Actor, facility: str) -> bool:
    return actor.facility == facility or actor.state_reviewer


def require_facility(actor: Actor, facility: str, what: str, *, reading: bool = False) -> None:
    """Acting needs the actor's own facility; reading also allows a state reviewer any facility.

    The refusal says "not found" in the words used when there is no such thing at all.
    """
    if actor.facility != facility and not (reading and actor.state_reviewer):
        raise NotFound(f"{what} not found")


def require_incident_facility(actor: Actor, incident_id: object, facility: str, *, reading: bool = False) -> None:
    """``require_facility`` for an incident: refused exactly as an incident that does not exist."""
    if actor.facility != facility and not (reading and actor.state_reviewer):
        raise IncidentNotFound(incident_id)
