"""Every setting nimrs reads from the environment, in one place: ``NIMRS_*`` variables, read once per process.

``load_settings()`` reads them (or a given mapping, for tests and child processes) and checks every
value; a bad one is a ``ValidationFailed`` naming the variable and the problem (the CLI exits 3),
never a stack trace, and never showing a password or the cipher key. Database URLs are parsed with
SQLAlchemy's ``make_url``: query options (``?sslmode=require``, ``application_name``...) are kept and
reach the drivers. ``settings_markdown()`` writes docs/settings.md from the fields below.
"""

from __future__ import annotations

import binascii
import os
from base64 import b64decode
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from ipaddress import IPv4Network, IPv6Network, ip_network
from pathlib import Path
from typing import Any

from pydantic import Field, SecretStr, ValidationError, ValidationInfo, field_serializer, field_validator
from pydantic_settings import BaseSettings, EnvSettingsSource, PydanticBaseSettingsSource, SettingsConfigDict
from pydantic_settings.sources.utils import parse_env_vars
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from domain.errors import ValidationFailed
from domain.obligations.sets import OBLIGATION_SETS
from workflows.email_addresses import is_address

PREFIX = "NIMRS_"
SQLITE_SCHEMES = ("sqlite", "sqlite+pysqlite")
POSTGRES_SCHEMES = ("postgresql", "postgres", "postgresql+psycopg")
POSTGRES_DRIVER = "postgresql+psycopg"  # what SQLAlchemy's engines use for every PostgreSQL URL
DEFAULT_DATABASE_URL = "sqlite:///nimrs.db"
DEFAULT_TOKEN_MINUTES = 8 * 60
# Read by the test suite only (tests/conftest.py), not by nimrs itself: documented with the rest.
TEST_SUITE_VARIABLES = {
    "NIMRS_TEST_POSTGRES_URL": "An administrator's URL of the PostgreSQL server on which the tests create and drop "
                               "a database per test. Default `postgresql://postgres@127.0.0.1:5432/postgres`.",
}
_ENVIRON: ContextVar[Mapping[str, str] | None] = ContextVar("nimrs_environ", default=None)


def env_name(field: str) -> str:
    return PREFIX + field.upper()


def shown_url(text: str) -> str:
    """A database URL as it may be shown: without its password, even when it does not parse.

    Everything between ``user:`` and the authority's last ``@`` is hidden (a password with an unescaped
    ``@`` would otherwise show in part). Parsed URLs (``URL`` objects) are shown with
    ``render_as_string(hide_password=True)``.
    """
    scheme, separator, rest = text.partition("://")
    userinfo, at, location = rest.rpartition("@")
    if not separator or not at or ":" not in userinfo:
        return text
    return f"{scheme}://{userinfo.split(':', 1)[0]}:***@{location}"


def parse_database_url(text: str, *, postgres_only: bool = False) -> URL:
    """A SQLite or PostgreSQL URL, query options kept; ``ValueError`` with a message that hides any password."""
    try:
        url = make_url(text)
    except (ArgumentError, ValueError):
        raise ValueError(f"{shown_url(text)!r} is not a database URL; use sqlite:///path/to/nimrs.db or "
                         "postgresql://user@host:5432/dbname") from None
    schemes = POSTGRES_SCHEMES if postgres_only else SQLITE_SCHEMES + POSTGRES_SCHEMES
    if url.drivername not in schemes:
        wanted = "postgresql" if postgres_only else "sqlite or postgresql"
        raise ValueError(f"{shown_url(text)!r}: the scheme must be {wanted}")
    if url.drivername in SQLITE_SCHEMES:
        if not url.database:
            raise ValueError(f"{shown_url(text)!r} names no file; use sqlite:///path/to/nimrs.db")
        return url.set(drivername="sqlite")
    if not url.database or not url.host:
        raise ValueError(f"{shown_url(text)!r} needs a host and a database name")
    return url.set(drivername=POSTGRES_DRIVER)


def is_sqlite(url: URL) -> bool:
    return url.get_backend_name() == "sqlite"


class _Environment(EnvSettingsSource):
    """The process environment, or the mapping ``load_settings`` was given instead."""

    def _load_env_vars(self) -> Mapping[str, str | None]:
        environ = _ENVIRON.get()
        if environ is None:
            return super()._load_env_vars()
        return parse_env_vars(environ, self.case_sensitive, self.env_ignore_empty, self.env_parse_none_str)


class Settings(BaseSettings):
    """nimrs's settings. Each field is read from ``NIMRS_<FIELD NAME IN CAPITALS>``; unset or empty means the default."""

    model_config = SettingsConfigDict(env_prefix=PREFIX, env_ignore_empty=True, extra="ignore", frozen=True,
                                      case_sensitive=False)

    database_url: str = Field(
        default=DEFAULT_DATABASE_URL, repr=False,
        description="Where the events are stored, with the users, tokens, security log and webhooks: "
                    "`sqlite:///path/to/file.db` (an embedded SQLite file) or "
                    "`postgresql://user[:password]@host[:port]/dbname[?option=value...]` (several processes may "
                    "share it). Query options such as `sslmode=require` are passed to the driver. "
                    "Never shown with its password.")
    views_url: str | None = Field(
        default=None, repr=False,
        description="Where the read models (overdue, board, statistics, audit trail) are kept, in the same forms. "
                    "Unset: on SQLite, a second file beside the first (`nimrs.db` -> `nimrs-views.db`: rebuilding "
                    "them never holds the event store's write lock); on PostgreSQL, the same database.")
    cipher_key: SecretStr | None = Field(
        default=None,
        description="Base64 of 16, 24 or 32 random bytes (`nimrs keygen` makes one): every event payload is "
                    "encrypted at rest (AES-GCM, compressed first). Keep it: without it the events cannot be read. "
                    "Unset: not encrypted. Also encrypts the other copies of patient data: the views' columns "
                    "that hold patient details, webhook delivery payloads and signing secrets, security log details.")
    cipher_old_keys: SecretStr | None = Field(
        default=None,
        description="After a key rotation: the earlier keys, comma-separated, newest first. What they encrypted "
                    "stays readable (each is tried in turn); everything new is encrypted with `NIMRS_CIPHER_KEY`. "
                    "`nimrs keys rotate` re-encrypts all but the append-only event log with the new key.")
    webhooks_allow_http_loopback: bool = Field(
        default=False,
        description="Let webhooks go to this machine (`localhost`, 127.0.0.0/8, ::1), over plain http too: for "
                    "tests and demos only. Unset: webhook URLs must be https, and deliveries to loopback are refused.")
    webhooks_allowed_networks: str | None = Field(
        default=None,
        description="Comma-separated networks (e.g. `10.20.0.0/16,fd12::/64`) that webhook deliveries may reach "
                    "although private, link-local or reserved (a receiver inside your network). Loopback needs "
                    "`NIMRS_WEBHOOKS_ALLOW_HTTP_LOOPBACK`. Unset: only public addresses.")
    checkpoint_key: SecretStr | None = Field(
        default=None,
        description="Base64 of at least 16 random bytes (`nimrs keygen` makes one): signs (HMAC-SHA256) the "
                    "checkpoints of the event log's hash chain that `nimrs checkpoint export` writes and "
                    "`nimrs verify --from-checkpoint` checks. Keep it away from the database's administrators. "
                    "Unset: checkpoints cannot be exported or checked (the chain itself is kept regardless).")
    token_minutes: int = Field(
        default=DEFAULT_TOKEN_MINUTES,
        description="How long a bearer token from `POST /auth/token` lasts, in minutes (1-1440; 480 is 8 hours).")
    sign_in_limit_per_user: int = Field(
        default=10, ge=1, le=100_000,
        description="Sign-in attempts (and own password changes) allowed per user name per minute, from anywhere; "
                    "more are refused with 429 and `Retry-After`. Kept in the database: every server process "
                    "shares the count.")
    sign_in_limit_per_address: int = Field(
        default=30, ge=1, le=100_000,
        description="Sign-in attempts allowed per client address per minute, whatever the user names (kept in "
                    "the database, shared by every server process). Behind a proxy, run the server with uvicorn's "
                    "`--forwarded-allow-ips` so the client's address, not the proxy's, is counted.")
    anonymous_limit_per_address: int = Field(
        default=60, ge=1, le=100_000,
        description="Refused requests without a valid token (401) allowed per client address per minute before "
                    "further ones from it are refused with 429 and `Retry-After`. Counted in each server process: "
                    "with N processes an address gets at most N times this.")
    smtp_url: SecretStr | None = Field(
        default=None,
        description="Where alert mail is sent (`nimrs alerts run`): `smtp://[user:password@]host[:port]` (STARTTLS "
                    "whenever the server offers it; a password is never sent in clear except to this machine) or "
                    "`smtps://[user:password@]host[:port]` (TLS from the start). Unset: no mail is sent. "
                    "Never shown with its password.")
    mail_from: str = Field(
        default="nimrs@localhost",
        description="The `From` address of alert mail.")
    base_url: str = Field(
        default="http://127.0.0.1:8000",
        description="Where people reach the web pages: the links in alert mail start with it.")
    documents_dir: str = Field(
        default="nimrs-documents",
        description="Where released documents (the redacted copy of an incident report for a qualified person) are "
                    "kept, each named by its SHA-256, which the release event records. They hold patient details: "
                    "keep the folder as private as the database.")
    obligations_default: str = Field(
        default="part524@1",
        description="The obligation rules (docs/obligations.md) a new incident pins when its facility never chose "
                    "any (`nimrs facility obligations`): `part524@1` (the Part 524 and Jonathan's Law clocks, for new "
                    "installations), `charts@2` or `charts@1` (the charts' two clocks only, as release 0.1.0).")
    user: str | None = Field(
        default=None,
        description="Who acts on the command line when a command's `--as` is not given (a user of `nimrs users add`).")
    bench_postgres_url: str = Field(
        default="postgresql://postgres@127.0.0.1:5432/postgres", repr=False,
        description="`nimrs bench ... --store postgres`: an administrator's URL of the PostgreSQL server on which "
                    "the benchmarks create (and drop) a scratch database.")

    @classmethod
    def settings_customise_sources(cls, settings_cls: type[BaseSettings], init_settings: PydanticBaseSettingsSource,
                                   env_settings: PydanticBaseSettingsSource, dotenv_settings: PydanticBaseSettingsSource,
                                   file_secret_settings: PydanticBaseSettingsSource) -> tuple[PydanticBaseSettingsSource, ...]:
        return init_settings, _Environment(settings_cls)  # no .env files: the environment is the one source

    @field_validator("database_url", "views_url")
    @classmethod
    def _database(cls, value: str | None) -> str | None:
        if value is not None:
            _checked(parse_database_url, value)
        return value

    @field_validator("bench_postgres_url")
    @classmethod
    def _bench_database(cls, value: str) -> str:
        _checked(parse_database_url, value, postgres_only=True)
        return value

    @field_validator("cipher_key")
    @classmethod
    def _cipher_key(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None:
            return None
        if _key_size(value.get_secret_value()) not in (16, 24, 32):
            raise _Problem("must be base64 of 16, 24 or 32 random bytes (`nimrs keygen` makes one)")
        return value

    @field_validator("cipher_old_keys")
    @classmethod
    def _cipher_old_keys(cls, value: SecretStr | None, info: ValidationInfo) -> SecretStr | None:
        if value is None:
            return None
        keys = [key.strip() for key in value.get_secret_value().split(",") if key.strip()]
        if not all(_key_size(key) in (16, 24, 32) for key in keys):
            raise _Problem("must be comma-separated keys, each base64 of 16, 24 or 32 random bytes")
        if info.data.get("cipher_key", "invalid") is None:
            raise _Problem("needs NIMRS_CIPHER_KEY, the newest key, set too")
        return value

    @field_validator("webhooks_allowed_networks")
    @classmethod
    def _webhook_networks(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                _networks(value)
            except ValueError as error:
                raise _Problem(f"must be comma-separated networks such as 10.20.0.0/16: {error}") from None
        return value

    @field_validator("checkpoint_key")
    @classmethod
    def _checkpoint_key(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and _key_size(value.get_secret_value()) < 16:
            raise _Problem("must be base64 of at least 16 random bytes (`nimrs keygen` makes one)")
        return value

    @field_validator("smtp_url")
    @classmethod
    def _smtp_url(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            scheme, separator, rest = value.get_secret_value().partition("://")
            host = rest.rpartition("@")[2].split(":")[0].strip("/[]")
            if scheme not in ("smtp", "smtps") or not separator or not host:
                raise _Problem("must be smtp://[user:password@]host[:port] or smtps://[user:password@]host[:port]")
        return value

    @field_validator("mail_from")
    @classmethod
    def _mail_from(cls, value: str) -> str:
        address = value.strip()
        if not is_address(address):  # the rule every address in nimrs follows
            raise _Problem(f"must be one email address such as nimrs@example.org, got {value!r}")
        return address

    @field_validator("obligations_default")
    @classmethod
    def _obligations_default(cls, value: str) -> str:
        if value.strip() not in OBLIGATION_SETS:
            raise _Problem(f"must be one of {', '.join(OBLIGATION_SETS)}, got {value!r}")
        return value.strip()

    @field_validator("base_url")
    @classmethod
    def _base_url(cls, value: str) -> str:
        scheme, separator, rest = value.strip().partition("://")
        if scheme not in ("http", "https") or not separator or not rest.strip("/") or any(c.isspace() for c in rest):
            raise _Problem(f"must be an http or https URL such as https://nimrs.example.org, got {value!r}")
        return value.strip().rstrip("/")

    @field_validator("token_minutes", mode="before")
    @classmethod
    def _token_minutes(cls, value: Any) -> int:
        try:
            minutes = int(str(value).strip())
        except ValueError:
            raise _Problem(f"must be a whole number of minutes, got {str(value)!r}") from None
        if not 1 <= minutes <= 24 * 60:
            raise _Problem("must be between 1 and 1440")
        return minutes

    # -- what the rest of the code asks ----------------------------------------------------------

    @property
    def database(self) -> URL:
        """The event store's database as SQLAlchemy names it (``sqlite`` or ``postgresql+psycopg``), options kept."""
        return parse_database_url(self.database_url)

    @property
    def views(self) -> URL:
        """The read models' database."""
        if self.views_url:
            return parse_database_url(self.views_url)
        database = self.database
        if not is_sqlite(database):
            return database
        path = Path(database.database or "nimrs.db")
        return database.set(database=str(path.with_name(path.stem + "-views" + (path.suffix or ".db"))))

    @property
    def webhook_networks(self) -> tuple[IPv4Network | IPv6Network, ...]:
        """Private networks webhook deliveries may reach (``NIMRS_WEBHOOKS_ALLOWED_NETWORKS``)."""
        return _networks(self.webhooks_allowed_networks or "")

    @property
    def checkpoint_signing_key(self) -> bytes:
        """The key that signs checkpoints; ``ValidationFailed`` (exit 3) when ``NIMRS_CHECKPOINT_KEY`` is unset."""
        if self.checkpoint_key is None:
            raise ValidationFailed(f"{env_name('checkpoint_key')} is not set: checkpoints are signed with it "
                                   "(`nimrs keygen` makes one)")
        return b64decode(self.checkpoint_key.get_secret_value().encode())

    @property
    def store_kind(self) -> str:
        return "sqlite" if is_sqlite(self.database) else "postgres"

    def describe_database(self) -> str:
        """The event store's URL, as given but without any password: for messages and logs."""
        return shown_url(self.database_url)

    def describe_smtp(self) -> str:
        """The SMTP URL without its password (or "unset"): for messages and logs."""
        return "unset" if self.smtp_url is None else shown_url(self.smtp_url.get_secret_value())

    def describe_views(self) -> str:
        return shown_url(self.views_url) if self.views_url else self.views.render_as_string(hide_password=True)

    @field_serializer("database_url", "views_url", "bench_postgres_url")
    def _shown(self, value: str | None) -> str | None:
        """Dumped (for logs, JSON) without passwords, as the repr leaves the URLs out altogether."""
        return None if value is None else shown_url(value)


def _key_size(key: str) -> int:
    try:
        return len(b64decode(key.encode()))
    except (binascii.Error, ValueError):
        return 0


def _networks(text: str) -> tuple[IPv4Network | IPv6Network, ...]:
    return tuple(ip_network(part.strip(), strict=False) for part in text.split(",") if part.strip())


class _Problem(ValueError):
    """A problem in our words, shown as it is (``load_settings`` drops pydantic's "Value error, ")."""


def _checked(parse: Any, value: str, **options: Any) -> None:
    try:
        parse(value, **options)
    except ValueError as error:
        raise _Problem(str(error)) from None


@contextmanager
def _reading(environ: Mapping[str, str] | None) -> Iterator[None]:
    token = _ENVIRON.set(environ)
    try:
        yield
    finally:
        _ENVIRON.reset(token)


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """The settings from ``environ`` (default: the process environment); one error naming every bad variable."""
    try:
        with _reading(environ if environ is not None else dict(os.environ)):
            return Settings()
    except ValidationError as error:
        problems = [f"{env_name(str(e['loc'][0])) if e['loc'] else 'a setting'} {_problem(e)}" for e in error.errors()]
        if len(problems) == 1:
            raise ValidationFailed(problems[0]) from None
        raise ValidationFailed(f"{len(problems)} settings are not valid", problems=problems) from None


def _problem(error: Any) -> str:
    """Pydantic's own messages never carry the value (it is in ``input``, which is not shown)."""
    cause = error.get("ctx", {}).get("error")
    return str(cause) if isinstance(cause, _Problem) else f"is not valid: {error['msg']}"


def settings_markdown() -> str:
    rows = ["| variable | type | default | what it sets |", "|---|---|---|---|"]
    for name, field in Settings.model_fields.items():
        kind = {"database_url": "URL", "views_url": "URL", "bench_postgres_url": "URL", "cipher_key": "secret",
                "cipher_old_keys": "secrets", "checkpoint_key": "secret",
                "smtp_url": "secret URL", "mail_from": "address", "documents_dir": "path", "base_url": "URL", "token_minutes": "minutes", "webhooks_allow_http_loopback": "true/false",
                "webhooks_allowed_networks": "networks", "sign_in_limit_per_user": "per minute",
                "sign_in_limit_per_address": "per minute", "anonymous_limit_per_address": "per minute"}.get(name, "text")
        default = "unset" if field.default is None else f"`{field.default}`"
        rows.append(f"| `{env_name(name)}` | {kind} | {default} | {field.description} |")
    tests = ["| variable | what it sets |", "|---|---|"]
    tests += [f"| `{name}` | {text} |" for name, text in TEST_SUITE_VARIABLES.items()]
    return "\n".join([
        "# Settings", "", "<!-- generated by `make docs` (python -m adapters.tooling.docgen): do not edit by hand -->", "",
        "nimrs reads these environment variables, once per process (`adapters/settings.py`). Unset or empty means",
        "the default. A bad value stops a command with exit code 3 and a message naming the variable and the",
        "problem; passwords and the cipher key are never shown.", "",
        *rows, "",
        "Database URLs are parsed with SQLAlchemy's `make_url`: `postgres://`, `postgresql://` and",
        "`postgresql+psycopg://` all mean PostgreSQL through psycopg, and query options",
        "(`?sslmode=require&application_name=nimrs`) are passed to every connection, the event store's included.", "",
        "The eventsourcing library also reads its own variables (such as `PERSISTENCE_MODULE`), prefixed or not",
        "with `NIMRS_`; nimrs sets the ones it needs from the variables above, so leave them unset.", "",
        "## For the test suite", "",
        *tests, "",
    ])
