"""The domain stays pure: the standard library, eventsourcing.domain, transitions and itself only,
and it never reads the clock (commands are handed the time)."""

import ast
import sys
from pathlib import Path

DOMAIN = Path(__file__).resolve().parents[2] / "domain"
# transitions is pure Python: the lifecycle's transition table (domain/lifecycle.py).
ALLOWED_PACKAGES = {"domain", "transitions"}


def test_domain_imports_only_the_standard_library_eventsourcing_domain_and_transitions() -> None:
    offenders = []
    for path in DOMAIN.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) and node.level == 0 else []
            for name in names:
                top = name.split(".")[0]
                if top in sys.stdlib_module_names or top in ALLOWED_PACKAGES or name == "eventsourcing.domain":
                    continue
                offenders.append(f"{path.name}: {name}")
    assert offenders == []


def test_the_domain_never_reads_the_clock() -> None:
    """Only ``domain/clock.py`` defines the real clock, for the composition root to hand out."""
    readers = []
    for path in DOMAIN.rglob("*.py"):
        if path.name == "clock.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                    and node.func.attr in {"now", "utcnow", "today", "time", "monotonic"}:
                readers.append(f"{path.name}:{node.lineno}")
            if isinstance(node, ast.Name) and node.id == "utc_now":
                readers.append(f"{path.name}:{node.lineno}")
    assert readers == []
