"""Settings: every NIMRS_* variable checked once, a bad one named (exit 3, no stack trace), passwords never
shown, and a database URL's query options kept all the way to the connections."""

from __future__ import annotations

import json
import os
import subprocess

import pytest
from sqlalchemy import text

from adapters.bootstrap import Runtime
from adapters.persistence.event_store import event_store_env
from adapters.settings import Settings, load_settings, settings_markdown
from domain.errors import ValidationFailed
from tests.adapters.test_cli import NIMRS
from tests.conftest import L2
from tests.workflows.helpers import draft

PASSWORD = "s3cret-Pa55word"
KEY = "not-a-key-but-still-secret"


def nimrs(*args: str, **environ: str) -> subprocess.CompletedProcess[str]:
    env = {name: value for name, value in os.environ.items() if not name.startswith("NIMRS_")}
    env |= {"NIMRS_DATABASE_URL": "sqlite:///unused.db", "COLUMNS": "200", **environ}
    return subprocess.run([NIMRS, *args], capture_output=True, text=True, env=env, timeout=120)


def refused(result: subprocess.CompletedProcess[str], code: int, *words: str) -> str:
    shown = result.stdout + result.stderr
    assert result.returncode == code, shown
    assert "Traceback" not in shown
    for word in words:
        assert word in shown, shown
    return shown


def test_a_bad_token_lifetime_names_the_variable_and_exits_3(tmp_path) -> None:  # type: ignore[no-untyped-def]
    url = f"sqlite:///{tmp_path}/n.db"
    refused(nimrs("users", "list", NIMRS_DATABASE_URL=url, NIMRS_TOKEN_MINUTES="soon"), 3,
            "NIMRS_TOKEN_MINUTES", "whole number of minutes", "'soon'")
    refused(nimrs("users", "list", NIMRS_DATABASE_URL=url, NIMRS_TOKEN_MINUTES="0"), 3,
            "NIMRS_TOKEN_MINUTES must be between 1 and 1440")
    document = json.loads(nimrs("users", "list", "--json", NIMRS_DATABASE_URL=url, NIMRS_TOKEN_MINUTES="x").stderr)
    assert document["error"] == "validation" and "NIMRS_TOKEN_MINUTES" in document["message"]
    assert nimrs("users", "list", NIMRS_DATABASE_URL=url, NIMRS_TOKEN_MINUTES="90").returncode == 0


@pytest.mark.parametrize(("variable", "value", "problem"), [
    ("NIMRS_DATABASE_URL", f"mysql://admin:{PASSWORD}@db.example/nimrs", "the scheme must be sqlite or postgresql"),
    ("NIMRS_DATABASE_URL", f"postgresql://admin:{PASSWORD}@db.example:port/nimrs", "is not a database URL"),
    ("NIMRS_DATABASE_URL", f"postgresql://admin:{PASSWORD}@db.example/", "needs a host and a database name"),
    ("NIMRS_DATABASE_URL", "sqlite://", "names no file"),
    ("NIMRS_VIEWS_URL", f"oracle://admin:{PASSWORD}@db.example/views", "the scheme must be sqlite or postgresql"),
    ("NIMRS_CIPHER_KEY", KEY, "must be base64 of 16, 24 or 32 random bytes"),
])
def test_a_bad_url_or_key_names_the_variable_exits_3_and_never_shows_a_secret(variable: str, value: str,
                                                                             problem: str) -> None:
    for command in (["users", "list"], ["show", "2026-000001", "--as", "someone"], ["projections", "status", "--json"]):
        shown = refused(nimrs(*command, **{variable: value}), 3, variable, problem)
        assert PASSWORD not in shown and KEY not in shown
    assert nimrs("taxonomy", "--json", **{variable: value}).returncode == 0  # what needs no store ignores them


def test_every_bad_variable_is_named_at_once() -> None:
    with pytest.raises(ValidationFailed) as error:
        load_settings({"NIMRS_DATABASE_URL": f"ftp://u:{PASSWORD}@h/db", "NIMRS_TOKEN_MINUTES": "-5",
                       "NIMRS_CIPHER_KEY": KEY})
    assert error.value.message == "3 settings are not valid"
    assert [problem.split()[0] for problem in error.value.problems] == \
        ["NIMRS_DATABASE_URL", "NIMRS_CIPHER_KEY", "NIMRS_TOKEN_MINUTES"]
    assert PASSWORD not in str(error.value.problems) and KEY not in str(error.value.problems)


def test_a_postgres_password_is_never_shown() -> None:
    url = f"postgresql://nimrs:{PASSWORD}@127.0.0.1:1/none?sslmode=disable"
    shown = refused(nimrs("users", "list", NIMRS_DATABASE_URL=url), 7, "cannot use the store",
                    "postgresql://nimrs:***@127.0.0.1:1/none")
    assert PASSWORD not in shown
    settings = load_settings({"NIMRS_DATABASE_URL": url, "NIMRS_VIEWS_URL": url,
                              "NIMRS_CIPHER_KEY": "a2tra2tra2tra2tra2tra2tra2tra2tra2tra2tra2s="})
    for text_shown in (repr(settings), str(settings), settings.describe_database(), settings.describe_views(),
                       repr(settings.database), str(settings.database), settings.model_dump_json()):
        assert PASSWORD not in text_shown and "a2tra2tra2" not in text_shown, text_shown


def test_unset_or_empty_variables_take_their_defaults() -> None:
    settings = load_settings({"NIMRS_DATABASE_URL": "", "NIMRS_TOKEN_MINUTES": ""})
    assert settings.database_url == "sqlite:///nimrs.db" and settings.token_minutes == 480
    assert settings.views.render_as_string() == "sqlite:///nimrs-views.db"
    assert load_settings({"NIMRS_DATABASE_URL": "postgres://db.example/nimrs"}).database.drivername == \
        "postgresql+psycopg"


def test_docs_settings_lists_every_variable() -> None:
    doc = settings_markdown()
    for name in Settings.model_fields:
        assert f"`NIMRS_{name.upper()}`" in doc
    assert "NIMRS_TEST_POSTGRES_URL" in doc


def test_query_options_reach_every_postgres_connection(postgres_url: str) -> None:
    """sslmode=disable works against the local server, on the event store's connections and the engines';
    require, which the server refuses, shows the option got through."""
    url = f"{postgres_url}?sslmode=disable&application_name=nimrs-settings-test"
    with Runtime(load_settings({"NIMRS_DATABASE_URL": url})) as runtime:
        iid = draft(runtime.service)
        assert runtime.service.incident(L2, iid).version > 1
        for engine in (runtime.engine, runtime.views_engine):
            with engine.connect() as connection:
                assert connection.execute(text("SHOW application_name")).scalar() == "nimrs-settings-test"
                assert connection.execute(text("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")).scalar() \
                    is False
        with runtime.store.recorder.datastore.get_connection() as connection:  # type: ignore[attr-defined]
            assert connection.execute("SHOW application_name").fetchone()["application_name"] == "nimrs-settings-test"
            assert connection.info.get_parameters()["sslmode"] == "disable"
        assert runtime.accounts.add("u1", "F-001", 2).status == "active"
    assert event_store_env(load_settings({"NIMRS_DATABASE_URL": url}))["POSTGRES_CONNECT_OPTIONS"] == \
        "sslmode=disable&application_name=nimrs-settings-test"

    required = load_settings({"NIMRS_DATABASE_URL": f"{postgres_url}?sslmode=require"})
    with Runtime(required) as runtime, pytest.raises(Exception, match="server does not support SSL"):
        runtime.accounts.all()
