"""The shell blocks of docs/quickstart.md and docs/views.md run, in order, in a fresh folder."""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run_shell_blocks(page: str, folder: Path, at_least: int) -> subprocess.CompletedProcess[str]:
    """Every ```bash block of a docs page, in order, in ``folder``, with the project's ``nimrs``."""
    blocks = re.findall(r"```bash\n(.*?)```", (ROOT / "docs" / page).read_text(), flags=re.S)
    assert len(blocks) >= at_least
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}", "COLUMNS": "200"}
    env.pop("NIMRS_DATABASE_URL", None)
    env.pop("NIMRS_USER", None)
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
    assert (tmp_path / "nimrs-views.db").exists()
