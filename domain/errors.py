"""Errors the domain and services raise; every message names the problem for a user.

Each carries a ``kind`` the adapters map to an exit code or an HTTP status.
"""


class NimrsError(Exception):
    kind = "error"

    def __init__(self, message: str, *, problems: list[str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.problems = list(problems or [])

    def __str__(self) -> str:
        if not self.problems:
            return self.message
        return self.message + "\n" + "\n".join(f"  - {p}" for p in self.problems)


class ValidationFailed(NimrsError):
    """The input is malformed or breaks a domain rule (HTTP 422)."""

    kind = "validation"


class NotFound(NimrsError):
    """No such incident, code or user, or one outside the caller's facility (HTTP 404)."""

    kind = "not_found"


class IncidentNotFound(NotFound):
    """No such incident, or one outside the caller's facility: the same words either way.

    Adapters may say it again naming the reference the user typed (a JC case number or an id).
    """

    def __init__(self, incident_id: object) -> None:
        super().__init__(f"incident {incident_id} not found")
        self.incident_id = incident_id


class Unauthenticated(NimrsError):
    """No valid credentials: a wrong password, or a missing, unknown or expired token (HTTP 401)."""

    kind = "unauthenticated"


class PermissionDenied(NimrsError):
    """The caller's security level does not allow the action (HTTP 403)."""

    kind = "forbidden"


class TransitionRefused(NimrsError):
    """The workflow does not allow the action in the incident's state (HTTP 409)."""

    kind = "conflict"


class StoredEventsUnreadable(NimrsError):
    """Stored events cannot be decoded: usually a missing or wrong encryption key."""

    kind = "unreadable"


class Conflict(NimrsError):
    """A concurrent or duplicate write (stale version, re-delivered content that differs)."""

    kind = "conflict"


class StaleVersion(Conflict):
    """The caller's expected version is not the incident's (HTTP 412 for a failed If-Match; CLI exit 6)."""


class TooManyRequests(NimrsError):
    """Too many attempts from one client or at one user name in a short time (HTTP 429 with Retry-After)."""

    kind = "rate_limited"

    def __init__(self, message: str, *, retry_after_seconds: int) -> None:
        super().__init__(message)
        self.retry_after_seconds = max(1, retry_after_seconds)
