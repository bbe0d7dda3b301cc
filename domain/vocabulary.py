"""Closed sets of values used across the domain, kept as str enums.

Events store the plain ``.value`` strings (the library returns enums as plain str on
replay), so these values are part of the stored record: never rename a value.
"""

from enum import Enum, StrEnum

from domain.errors import ValidationFailed


class Route(StrEnum):
    JC_AND_OMH = "JC_AND_OMH"
    OMH_ONLY = "OMH_ONLY"
    NOT_REPORTABLE = "NOT_REPORTABLE"


class Setting(StrEnum):
    INPATIENT = "inpatient"
    RESIDENTIAL = "residential"
    CPEP = "cpep"
    OUTPATIENT = "outpatient"


ALL_SETTINGS: frozenset[Setting] = frozenset(Setting)
AROUND_THE_CLOCK = frozenset({Setting.INPATIENT, Setting.RESIDENTIAL, Setting.CPEP})


class Category(StrEnum):
    ABUSE_NEGLECT = "abuse_neglect"
    DEATH = "death"
    SIGNIFICANT_INCIDENT = "significant_incident"
    OMH_INCIDENT = "omh_incident"


class Harm(StrEnum):
    """Whether a type counts regardless of harm or only with serious injury or harm."""

    REGARDLESS = "regardless_of_harm"
    SERIOUS_HARM_REQUIRED = "only_with_serious_injury_or_harm"


class Location(StrEnum):
    """The premises/supervision condition a type sets."""

    ANY = "any"
    ON_PREMISES_OR_SUPERVISED = "on_premises_or_under_supervision"
    OFF_SITE = "off_premises_and_not_under_supervision"


class ClockName(StrEnum):
    REPORT_OF_DEATH = "report_of_death"
    INVESTIGATION = "investigation"


MAX_AGE = 130  # years: the oldest age a record may give a patient


class Level(int, Enum):
    """NIMRS security groups (FAQ): 1 submits, 2 creates but cannot submit, 3 reads."""

    SUBMITTER = 1
    EDITOR = 2
    READER = 3


def parse_setting(value: str) -> Setting:
    try:
        return Setting(value.strip().lower())
    except ValueError:
        allowed = ", ".join(s.value for s in Setting)
        raise ValidationFailed(f"unknown program setting {value!r}; expected one of: {allowed}") from None
