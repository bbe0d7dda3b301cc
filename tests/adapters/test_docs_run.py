"""The shell blocks of docs/quickstart.md run, in order, in a fresh folder."""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_quickstart_runs_as_written(tmp_path: Path) -> None:
    blocks = re.findall(r"```bash\n(.*?)```", (ROOT / "docs" / "quickstart.md").read_text(), flags=re.S)
    assert len(blocks) >= 5
    shutil.copytree(ROOT / "docs" / "examples", tmp_path / "docs" / "examples")
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}", "COLUMNS": "200"}
    env.pop("NIMRS_DATABASE_URL", None)
    env.pop("NIMRS_USER", None)
    script = "set -euo pipefail\n" + "\n".join(blocks)
    result = subprocess.run(["bash", "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert "refused, as it should be" in result.stdout
    assert "state closed" in result.stdout
    assert (tmp_path / "nimrs.db").exists() and (tmp_path / "history.json").exists()


def test_the_supervisor_and_auditor_guide_runs_as_written(tmp_path: Path) -> None:
    blocks = re.findall(r"```bash\n(.*?)```", (ROOT / "docs" / "views.md").read_text(), flags=re.S)
    assert len(blocks) >= 8
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}", "COLUMNS": "200"}
    env.pop("NIMRS_DATABASE_URL", None)
    env.pop("NIMRS_USER", None)
    script = "set -euo pipefail\n" + "\n".join(blocks)
    result = subprocess.run(["bash", "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "JC import queue" in result.stdout and "overdue" in result.stdout
    assert (tmp_path / "risk-manager-october.csv").read_text().startswith("position,incident_id,version")
    assert (tmp_path / "incidents-by-month.csv").read_text().startswith("facility,dimension,value,label,count")
    assert (tmp_path / "nimrs-views.db").exists()
