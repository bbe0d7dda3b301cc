"""The shell blocks of docs/quickstart.md and docs/views.md run, in order, in a fresh folder."""

import os
import re
import shutil
import socket
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run_shell_blocks(page: str, folder: Path, at_least: int,
                     replace: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Every ```bash block of a docs page, in order, in ``folder``, with the project's ``nimrs``."""
    text = (ROOT / "docs" / page).read_text()
    for old, new in (replace or {}).items():
        text = text.replace(old, new)
    blocks = re.findall(r"```bash\n(.*?)```", text, flags=re.S)
    assert len(blocks) >= at_least
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}", "COLUMNS": "200"}
    env.pop("NIMRS_DATABASE_URL", None)
    env.pop("NIMRS_USER", None)
    env.pop("NIMRS_OBLIGATIONS_DEFAULT", None)  # the docs run as a new installation does: with Part 524's clocks
    script = "set -euo pipefail\n" + "\n".join(blocks)
    result = subprocess.run(["bash", "-c", script], cwd=folder, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result


def test_quickstart_runs_as_written(tmp_path: Path) -> None:
    shutil.copytree(ROOT / "docs" / "examples", tmp_path / "docs" / "examples")
    result = run_shell_blocks("quickstart.md", tmp_path, at_least=5)
    assert "refused, as it should be" in result.stdout
    assert "state closed" in result.stdout
    assert (tmp_path / "nimrs.db").exists() and (tmp_path / "history.json").exists()


def test_the_supervisor_and_auditor_guide_runs_as_written(tmp_path: Path) -> None:
    result = run_shell_blocks("views.md", tmp_path, at_least=8)
    assert "JC import queue" in result.stdout and "overdue" in result.stdout
    assert (tmp_path / "risk-manager-october.csv").read_text().startswith("position,incident_id,version")
    assert (tmp_path / "incidents-by-month.csv").read_text().startswith("facility,dimension,value,label,count")
    assert (tmp_path / "board.csv").read_text().startswith("facility,as_of,section,name,count,since,hours_in_state")
    assert (tmp_path / "clocks.csv").read_text().startswith("incident_id,jc_case_number,facility,program,code,key,clock")
    assert (tmp_path / "nimrs-views.db").exists()
    assert re.search(r"E[SD]T  analyst\.F-001 \(Level 3, F-001\) read incident \S+ \(F-001\): history, via cli",
                     result.stdout)  # who read incident X
    assert (tmp_path / "read-by-analyst.csv").read_text().startswith("at,user_id,level,facility,incident_id")
    assert "the log verifies" in result.stdout and '"ok": true' in (tmp_path / "verify.json").read_text()
    assert "does not verify at position 100 (changed)" in result.stderr and "exited with code 8" in result.stdout


def test_the_api_walkthrough_runs_as_written(tmp_path: Path) -> None:
    """A new user's first session with the HTTP API: curl against a real server on SQLite."""
    shutil.copytree(ROOT / "docs" / "examples", tmp_path / "docs" / "examples")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    try:
        result = run_shell_blocks("api.md", tmp_path, at_least=12, replace={":8000": f":{port}", "port 8000": f"port {port}"})
    finally:
        subprocess.run(["pkill", "-f", f"nimrs serve --port {port}"], check=False)
        subprocess.run(["pkill", "-f", "nimrs webhooks run --max-attempts 1 --backoff 0.1"], check=False)
    out = result.stdout
    # received with its provisional clocks in the one event (Report of Death, the qualified person's notice, autopsy)
    assert '"state":"draft","version":2' in out
    assert '{"name":"qualified_person_notice","provisional":true}' in out
    assert '["met_on_time"]' in out  # the notice, once the sister was reached
    assert '"status":412' in out and '"status":403' in out  # the stale write and Level 2 submitting
    assert '[["EmailedToOmh",true],["ReportOfDeathSubmitted",false]]' in out  # attested with the password, or not
    assert "the password is not right" in out  # a wrong one attests nothing
    assert out.count('{"state":"closed"') >= 1 and '"allowed_actions":["reopen"' in out
    assert "locked after 3 failed sign-ins" in out and '"status":"active"' in out
    assert '{"user_id":"risk.manager","status":"disabled"}' in out and "the account is disabled" in out
    assert '{"user_id":"clinical.supervisor","level":1}' in out and '"sessions_revoked":1' in out
    assert "your password was set by security.admin at " in out and "choose a new password first" in out
    assert '{"user_id":"analyst","must_change_password":false}' in out and '{"address":"127.0.0.1"' in out
    assert '"404"' in out or "\n404\n" in out
    assert '"analyst",3,"history"]' in out  # who read the incident (the analyst's reads, oldest first)
    assert '"last_error":' in out and '{"requeued":2}' in out
