"""How a person reads which incident a row is about: its JC case number, or the first characters of its id."""

from __future__ import annotations

SHORT_ID = 8  # characters of an incident id shown where there is no JC case number


def incident_label(incident_id: object, jc_case_number: str | None = None, wide: bool = False) -> str:
    """The JC case number, or the first characters of the id; ``wide``: the whole id."""
    text = str(incident_id)
    if wide:
        return text
    return jc_case_number or text[:SHORT_ID]
