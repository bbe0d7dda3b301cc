"""The ADR index lists every decision record, and every record it links exists."""

import re
from pathlib import Path

ADR = Path(__file__).resolve().parents[1] / "docs" / "adr"


def test_the_adr_index_lists_every_record() -> None:
    index = (ADR / "README.md").read_text()
    linked = set(re.findall(r"\]\((\d{4}-[^)]+\.md)\)", index))
    on_disk = {path.name for path in ADR.glob("[0-9][0-9][0-9][0-9]-*.md")}
    assert linked == on_disk
    numbers = sorted(name[:4] for name in on_disk)
    assert numbers == [f"{n:04d}" for n in range(1, len(numbers) + 1)], "ADR numbers have a gap or a repeat"
