"""Every type/subtype row of both charts, transcribed from ../shared/seeds independently of the data.

Columns: code | type | subtype (- for none) | route | harm (R regardless, S serious harm only) | clocks
"""

import pytest

from domain.errors import ValidationFailed
from domain.rules import RULE_SETS, rule_set
from domain.vocabulary import Harm

CURRENT = """
an.physical-abuse|Abuse and Neglect|Physical Abuse|JC_AND_OMH|R|investigation:45
an.psychological-abuse|Abuse and Neglect|Psychological Abuse|JC_AND_OMH|R|investigation:45
an.sexual-abuse|Abuse and Neglect|Sexual Abuse|JC_AND_OMH|R|investigation:45
an.neglect|Abuse and Neglect|Neglect|JC_AND_OMH|R|investigation:45
an.deliberate-inappropriate-restraint|Abuse and Neglect|Deliberate Inappropriate Use of Restraint|JC_AND_OMH|R|investigation:45
an.obstruction|Abuse and Neglect|Obstruction of reports of Reportable Incidents|JC_AND_OMH|R|investigation:45
an.controlled-substance|Abuse and Neglect|Unlawful use/administration of a controlled substance|JC_AND_OMH|R|investigation:45
an.aversive-conditioning|Abuse and Neglect|Aversive Conditioning|JC_AND_OMH|R|investigation:45
death.jc-programs|Death|OMH licensed or operated Inpatient Units, Residential Programs, or CPEP|JC_AND_OMH|R|report_of_death:5
death.outpatient|Death|OMH licensed or operated OUTPATIENT programs|OMH_ONLY|R|-
death.natural-expected|Death|Natural Causes, Expected|JC_AND_OMH|R|report_of_death:5
death.natural-unexpected|Death|Natural Causes, Unexpected|JC_AND_OMH|R|report_of_death:5
death.homicide|Death|Homicide of Client|JC_AND_OMH|R|report_of_death:5
death.suicide|Death|Suicide|JC_AND_OMH|R|report_of_death:5
death.accidental|Death|Accidental|JC_AND_OMH|R|report_of_death:5
death.lack-of-treatment|Death|Lack of Appropriate Treatment|JC_AND_OMH|R|report_of_death:5
death.restraint-seclusion|Death|Restraint or Seclusion|JC_AND_OMH|R|report_of_death:5
death.unexplained|Death|Unexplained|JC_AND_OMH|R|report_of_death:5
si.crime|Crime|-|JC_AND_OMH|R|investigation:45
si.crime.homicide-attempt|Crime|Homicide Attempt|JC_AND_OMH|R|investigation:45
si.crime.homicide-by-client|Crime|Homicide by Client|JC_AND_OMH|R|investigation:45
si.crime.narcotics|Crime|Narcotics, Sale or Possession|JC_AND_OMH|R|investigation:45
si.crime.robbery|Crime|Robbery|JC_AND_OMH|R|investigation:45
si.crime.deadly-weapon|Crime|Possession of Deadly Weapon|JC_AND_OMH|R|investigation:45
si.crime.other|Crime|Other Crime|JC_AND_OMH|R|investigation:45
si.financial-exploitation|Financial Exploitation|-|JC_AND_OMH|R|investigation:45
si.fire-setting|Fire Setting|-|JC_AND_OMH|R|investigation:45
si.injury-unknown-origin|Injury of Unknown Origin|-|JC_AND_OMH|R|investigation:45
si.missing-patient|Missing patient (Inpatient/Residential)|-|JC_AND_OMH|R|investigation:45
si.mistreatment.unauthorized-restraint-seclusion|Mistreatment|Unauthorized Restraint or Seclusion|JC_AND_OMH|R|investigation:45
si.mistreatment.time-out|Mistreatment|Inappropriate use of time out|JC_AND_OMH|R|investigation:45
si.mistreatment.improper-medication|Mistreatment|Intentional Improper Administration of medication|JC_AND_OMH|R|investigation:45
si.sexual-assault|Sexual Assault|-|JC_AND_OMH|R|investigation:45
si.sexual-assault.rape|Sexual Assault|Rape or Nonconsensual Sodomy|JC_AND_OMH|R|investigation:45
si.sexual-assault.other|Sexual Assault|Other Sexual Assault|JC_AND_OMH|R|investigation:45
si.sexual-contact-children|Sexual Contact Between Children|-|JC_AND_OMH|R|investigation:45
si.suicide-attempt|Suicide Attempt|-|JC_AND_OMH|R|investigation:45
si.wrongful-conduct|Wrongful Conduct|-|JC_AND_OMH|R|investigation:45
si.adverse-drug-reaction|Adverse Drug Reaction|-|JC_AND_OMH|S|investigation:45
si.assault|Assault|-|JC_AND_OMH|S|investigation:45
si.fall|Falls by Patients|-|JC_AND_OMH|S|investigation:45
si.fight|Fights|-|JC_AND_OMH|S|investigation:45
si.medication-error|Medication Error|-|JC_AND_OMH|S|investigation:45
si.medication-error.category-c|Medication Error|Category C|JC_AND_OMH|S|investigation:45
si.medication-error.category-d|Medication Error|Category D|JC_AND_OMH|S|investigation:45
si.medication-error.category-e|Medication Error|Category E|JC_AND_OMH|S|investigation:45
si.medication-error.category-f|Medication Error|Category F|JC_AND_OMH|S|investigation:45
si.medication-error.category-g|Medication Error|Category G|JC_AND_OMH|S|investigation:45
si.medication-error.category-h|Medication Error|Category H|JC_AND_OMH|S|investigation:45
si.other|Other Incident|-|JC_AND_OMH|S|investigation:45
si.self-abuse|Self-Abuse|-|JC_AND_OMH|S|investigation:45
si.verbal-aggression|Verbal Aggression by Patients|-|JC_AND_OMH|S|investigation:45
omh.crime-in-community|Crime in the Community|-|OMH_ONLY|R|-
omh.missing-aot|Missing Subject of AOT Court Order|-|OMH_ONLY|R|-
omh.suicide-attempt-offsite|Suicide Attempt, Off-site|-|OMH_ONLY|R|-
"""

EARLIER = """
an.physical-abuse|Abuse/Neglect|Physical Abuse|JC_AND_OMH|R|investigation:45
an.psychological-abuse|Abuse/Neglect|Psychological Abuse|JC_AND_OMH|R|investigation:45
an.sexual-abuse|Abuse/Neglect|Sexual Abuse|JC_AND_OMH|R|investigation:45
an.neglect|Abuse/Neglect|Neglect|JC_AND_OMH|R|investigation:45
an.deliberate-inappropriate-restraint|Abuse/Neglect|Deliberate Inappropriate Use of Restraint|JC_AND_OMH|R|investigation:45
an.obstruction|Abuse/Neglect|Obstruction of reports of Reportable Incidents|JC_AND_OMH|R|investigation:45
an.controlled-substance|Abuse/Neglect|Unlawful use/administration of a controlled substance|JC_AND_OMH|R|investigation:45
death|Death|-|JC_AND_OMH|R|report_of_death:5
death.natural-expected|Death|Natural Causes, Expected|JC_AND_OMH|R|report_of_death:5
death.natural-unexpected|Death|Natural Causes, Unexpected|JC_AND_OMH|R|report_of_death:5
death.homicide|Death|Homicide of Client|JC_AND_OMH|R|report_of_death:5
death.suicide|Death|Suicide|JC_AND_OMH|R|report_of_death:5
death.accidental|Death|Accidental|JC_AND_OMH|R|report_of_death:5
death.lack-of-treatment|Death|Lack of Appropriate Treatment|JC_AND_OMH|R|report_of_death:5
death.restraint-seclusion|Death|Restraint or Seclusion|JC_AND_OMH|R|report_of_death:5
death.unexplained|Death|Unexplained|JC_AND_OMH|R|report_of_death:5
si.adverse-drug-reaction|Adverse drug reaction, Severe|-|JC_AND_OMH|S|investigation:50
si.assault|Assault|-|JC_AND_OMH|S|investigation:50
si.child-missing|Child Missing from Staff Supervision|-|JC_AND_OMH|R|investigation:50
si.choking|Choking|-|JC_AND_OMH|R|investigation:50
si.crime|Crime|-|JC_AND_OMH|R|investigation:50
si.crime.homicide-attempt|Crime|Homicide Attempt|JC_AND_OMH|R|investigation:50
si.crime.homicide-by-client|Crime|Homicide by Client|JC_AND_OMH|R|investigation:50
si.crime.narcotics|Crime|Narcotics, Sale or Possession|JC_AND_OMH|R|investigation:50
si.crime.robbery|Crime|Robbery|JC_AND_OMH|R|investigation:50
si.crime.deadly-weapon|Crime|Possession of Deadly Weapon|JC_AND_OMH|R|investigation:50
si.crime.other|Crime|Other Crime|JC_AND_OMH|R|investigation:50
si.fall|Falls by Patients|-|JC_AND_OMH|S|investigation:50
si.fight|Fights|-|JC_AND_OMH|S|investigation:50
si.fire-setting|Fire Setting|-|JC_AND_OMH|S|investigation:50
si.injury-unknown-origin|Injury of Unknown Origin|-|JC_AND_OMH|R|investigation:50
si.medication-error|Medication Error|-|JC_AND_OMH|S|investigation:50
si.medication-error.category-c|Medication Error|Category C|JC_AND_OMH|S|investigation:50
si.medication-error.category-d|Medication Error|Category D|JC_AND_OMH|S|investigation:50
si.medication-error.category-e|Medication Error|Category E|JC_AND_OMH|S|investigation:50
si.medication-error.category-f|Medication Error|Category F|JC_AND_OMH|S|investigation:50
si.medication-error.category-g|Medication Error|Category G|JC_AND_OMH|S|investigation:50
si.medication-error.category-h|Medication Error|Category H|JC_AND_OMH|S|investigation:50
si.missing-patient|Missing patient (Inpatient/Residential)|-|JC_AND_OMH|R|investigation:50
si.mistreatment.unauthorized-restraint-seclusion|Mistreatment|Unauthorized Restraint or Seclusion|JC_AND_OMH|R|investigation:50
si.mistreatment.time-out|Mistreatment|Inappropriate use of time out|JC_AND_OMH|R|investigation:50
si.mistreatment.improper-medication|Mistreatment|Intentional Improper Administration of medication|JC_AND_OMH|R|investigation:50
si.mistreatment.misappropriation|Mistreatment|Misappropriation of patient resources|JC_AND_OMH|R|investigation:50
si.self-abuse|Self Abuse|-|JC_AND_OMH|S|investigation:50
si.sexual-assault|Sexual Assault|-|JC_AND_OMH|R|investigation:50
si.sexual-assault.rape|Sexual Assault|Rape or Nonconsensual Sodomy|JC_AND_OMH|R|investigation:50
si.sexual-assault.other|Sexual Assault|Other Sexual Assault|JC_AND_OMH|R|investigation:50
si.sexual-contact-children|Sexual Contact Between Children|-|JC_AND_OMH|R|investigation:50
si.suicide-attempt|Suicide Attempt|-|JC_AND_OMH|R|investigation:50
si.verbal-aggression|Verbal Aggression by Patients|-|JC_AND_OMH|S|investigation:50
si.other|Other Incident|-|JC_AND_OMH|S|investigation:50
omh.crime-in-community|Crime in the Community|-|OMH_ONLY|R|-
omh.missing-aot|Missing Subject of AOT Court Order|-|OMH_ONLY|R|-
omh.suicide-attempt-offsite|Suicide Attempt, Off-site|-|OMH_ONLY|R|-
"""

CHARTS = {"current": ("002", CURRENT), "earlier": ("001", EARLIER)}


def rows(table: str) -> list[list[str]]:
    return [line.split("|") for line in table.strip().splitlines()]


@pytest.mark.parametrize("name", CHARTS)
def test_rule_set_has_exactly_the_charts_rows(name: str) -> None:
    expected = [row[0] for row in rows(CHARTS[name][1])]
    assert sorted(e.code for e in rule_set(name).entries) == sorted(expected)


@pytest.mark.parametrize(
    ("name", "row"), [(name, row) for name, (_, table) in CHARTS.items() for row in rows(table)],
    ids=lambda value: value if isinstance(value, str) else value[0],
)
def test_each_row_matches_the_chart(name: str, row: list[str]) -> None:
    code, type_, subtype, route, harm, clocks = row
    entry = rule_set(name).entry(code)
    assert entry.type == type_
    assert entry.subtype == (None if subtype == "-" else subtype)
    assert entry.route.value == route
    assert entry.harm is (Harm.REGARDLESS if harm == "R" else Harm.SERIOUS_HARM_REQUIRED)
    assert [f"{c.name.value}:{c.days}" for c in entry.clocks] == ([] if clocks == "-" else [clocks])
    assert entry.chart == CHARTS[name][0]
    assert len(entry.definition) > 20


def test_current_is_the_default_and_unknown_rule_sets_are_named() -> None:

    assert rule_set().name == "current"
    with pytest.raises(ValidationFailed, match="unknown rule set 'latest'"):
        rule_set("latest")
    assert set(RULE_SETS) == {"current", "earlier"}


def test_severity_ratings_and_serious_harm_are_data() -> None:
    from domain import severity

    data = severity.as_dict()
    assert [r["value"] for r in data["harm"]["ratings"]] == [1, 2, 3]  # type: ignore[index]
    assert [r["label"] for r in data["risk"]["ratings"]] == ["Low", "Moderate", "Severe"]  # type: ignore[index]
    assert "beyond first aid" in severity.SERIOUS_INJURY_OR_HARM
