"""Every package the code imports is declared in pyproject.toml, and requirements.lock matches its pins.

Runtime code (domain, workflows, projections, adapters) may import only `[project] dependencies`; the tests may
also import the `dev` extra. A package reached only through another one's dependencies is not declared.
"""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
RUNTIME = ("domain", "workflows", "projections", "adapters")
FIRST_PARTY = {*RUNTIME, "tests"}
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
REQUIREMENT = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(\[[^\]]*\])?\s*(?:==\s*([^\s;\\]+))?")


def normalised(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def requirement(line: str) -> tuple[str, str | None]:
    match = REQUIREMENT.match(line)
    assert match, f"cannot read the requirement {line!r}"
    return normalised(match[1]), match[3]


def declared(*extras: str) -> dict[str, str | None]:
    lines = [*PROJECT["dependencies"], *(line for extra in extras for line in PROJECT["optional-dependencies"][extra])]
    return dict(requirement(line) for line in lines)


def imported_modules(folder: str) -> dict[str, set[str]]:
    """Top-level names of the absolute imports in a folder's Python files, with the files importing each."""
    found: dict[str, set[str]] = {}
    for path in sorted((ROOT / folder).rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                found.setdefault(name.partition(".")[0], set()).add(str(path.relative_to(ROOT)))
    return found


@pytest.mark.parametrize(("folder", "extras"), [*((folder, ()) for folder in RUNTIME), ("tests", ("dev",))])
def test_every_imported_package_is_declared(folder: str, extras: tuple[str, ...]) -> None:
    allowed = declared(*extras)
    distributions = packages_distributions()
    undeclared = []
    for module, files in sorted(imported_modules(folder).items()):
        if module in sys.stdlib_module_names or module in FIRST_PARTY:
            continue
        providers = {normalised(name) for name in distributions.get(module, [])}
        if not providers & allowed.keys():
            where = ", ".join(sorted(files)[:3])
            undeclared.append(f"{module} (distribution: {', '.join(sorted(providers)) or 'not installed'}; in {where})")
    section = "[project] dependencies" if not extras else "[project] dependencies or the dev extra"
    assert not undeclared, f"imported in {folder}/ but not in pyproject.toml's {section}: " + "; ".join(undeclared)


def test_every_declared_package_is_pinned_and_locked_at_that_version() -> None:
    locked = dict(requirement(line) for line in (ROOT / "requirements.lock").read_text().splitlines()
                  if line and not line[0].isspace() and not line.startswith("#"))
    wrong = {name: (pin, locked.get(name)) for name, pin in declared("dev").items() if pin is None or locked.get(name) != pin}
    assert not wrong, f"pyproject.toml pin vs requirements.lock (run `make lock`): {wrong}"
