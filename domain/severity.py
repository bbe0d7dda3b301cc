"""Severity ratings (earlier chart) and the definition of serious injury or harm (current chart)."""

from dataclasses import dataclass
from typing import TypedDict

from domain.errors import ValidationFailed


@dataclass(frozen=True)
class Rating:
    factor: str  # "harm" or "risk"
    value: int
    label: str
    descriptors: tuple[str, ...]


HARM_GUIDANCE = (
    "Select the rating that reflects the physical and/or psychological harm, and the medical "
    "and/or psychiatric intervention needed as a result of the incident."
)
RISK_GUIDANCE = (
    "Select the rating that reflects the potential for harm, given the actions taken and the "
    "motivation of the people involved."
)

HARM_RATINGS = (
    Rating("harm", 1, "Low", (
        "No physical harm or minor harm, e.g. bruise, minor laceration",
        "Medical intervention limited to first aid or less",
        "No or little psychological harm",
        "No psychiatric treatment beyond reassurance and support",
    )),
    Rating("harm", 2, "Moderate", (
        "Moderate physical harm",
        "Medical intervention and treatment beyond first aid, e.g. sutures",
        "Moderate psychological harm, e.g. negative changes in affect, behavior or cognition",
        "Change in psychotropic or psychotherapeutic intervention",
    )),
    Rating("harm", 3, "Severe", (
        "Serious physical injuries",
        "Emergency life-saving procedures, admission to hospital, or treatment in ER",
        "Life threatening psychiatric conditions",
        "Major change in treatment, e.g. admission to a more intensive treatment setting or level of supervision",
    )),
)

RISK_RATINGS = (
    Rating("risk", 1, "Low", ("No risk or slight risk of complications or serious harm",)),
    Rating("risk", 2, "Moderate", ("Potential for moderate injury",)),
    Rating("risk", 3, "Severe", ("Risk for life-threatening harm",)),
)

SERIOUS_INJURY_OR_HARM = (
    "Physical harm requiring medical treatment or intervention beyond first aid (routine diagnostic "
    "tests such as laboratory work, X-rays or scans do not count if no treatment is provided); "
    "psychological harm shown by negative changes in affect, behavior or cognition, or which "
    "necessitates a significant change in psychotropic or therapeutic intervention; or a risk "
    "for life-threatening physical injury or for psychiatric emergency or trauma."
)

# The three limbs of the definition, offered as the basis for a "serious harm: yes" answer.
SERIOUS_HARM_BASES = {
    "physical": "physical harm requiring treatment beyond first aid",
    "psychological": "psychological harm with negative changes or a significant change in intervention",
    "risk": "risk of life-threatening injury, psychiatric emergency or trauma",
}


def check_rating(factor: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value not in (1, 2, 3):
        raise ValidationFailed(f"{factor} rating must be 1, 2 or 3, got {value!r}")
    return value


class RatingRecord(TypedDict):
    value: int
    label: str
    descriptors: list[str]


class RatingScale(TypedDict):
    guidance: str
    ratings: list[RatingRecord]


class SeriousHarmDefinition(TypedDict):
    definition: str
    bases: dict[str, str]  # basis: what it covers


class SeverityScales(TypedDict):
    """The harm and risk ratings (chart 001) and the definition of serious injury or harm (chart 002)."""

    harm: RatingScale
    risk: RatingScale
    serious_injury_or_harm: SeriousHarmDefinition


def as_dict() -> SeverityScales:
    def ratings(rows: tuple[Rating, ...]) -> list[RatingRecord]:
        return [{"value": r.value, "label": r.label, "descriptors": list(r.descriptors)} for r in rows]

    return {
        "harm": {"guidance": HARM_GUIDANCE, "ratings": ratings(HARM_RATINGS)},
        "risk": {"guidance": RISK_GUIDANCE, "ratings": ratings(RISK_RATINGS)},
        "serious_injury_or_harm": {"definition": SERIOUS_INJURY_OR_HARM, "bases": SERIOUS_HARM_BASES},
    }
