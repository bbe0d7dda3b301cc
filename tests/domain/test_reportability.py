
import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.errors import ValidationFailed
from domain.reportability import Facts, classify
from domain.rules import RULE_SETS, rule_set
from domain.vocabulary import Harm, Location, Route, Setting

IN, RES, CPEP, OUT = Setting.INPATIENT, Setting.RESIDENTIAL, Setting.CPEP, Setting.OUTPATIENT


def route(code: str, setting: Setting, premises: bool, harm: bool, age: int | None = None, rules: str = "current") -> Route:
    return classify(rule_set(rules), code, Facts(setting, premises, harm, age)).route


def test_significant_incident_regardless_of_harm_on_premises_reports_to_jc_with_a_45_day_clock() -> None:
    result = classify(rule_set(), "si.injury-unknown-origin", Facts(IN, True, False))
    assert result.route is Route.JC_AND_OMH
    assert [(c.name.value, c.days) for c in result.clocks] == [("investigation", 45)]
    assert "regardless of harm" in " ".join(result.reasons)
    assert "within 45 days" in result.steps[-1]


def test_earlier_chart_gives_significant_incidents_50_days_and_abuse_45() -> None:
    earlier = rule_set("earlier")
    assert classify(earlier, "si.choking", Facts(IN, True, False)).clocks[0].days == 50
    assert classify(earlier, "an.neglect", Facts(IN, True, False)).clocks[0].days == 45


def test_serious_harm_types_need_serious_harm() -> None:
    assert route("si.assault", IN, True, harm=False) is Route.NOT_REPORTABLE
    assert route("si.assault", IN, True, harm=True) is Route.JC_AND_OMH
    not_reportable = classify(rule_set(), "si.assault", Facts(IN, True, False))
    assert not not_reportable.clocks
    assert any("serious injury or harm" in r for r in not_reportable.reasons)


def test_significant_incidents_off_premises_are_not_reportable_but_abuse_is() -> None:
    assert route("si.fight", IN, False, True) is Route.NOT_REPORTABLE
    assert route("an.physical-abuse", OUT, False, False) is Route.JC_AND_OMH


def test_off_site_crime_is_not_a_significant_incident_but_may_be_crime_in_the_community() -> None:
    result = classify(rule_set(), "si.crime.robbery", Facts(OUT, False, False))
    assert result.route is Route.NOT_REPORTABLE
    assert [(a.code, a.route) for a in result.alternatives] == [("omh.crime-in-community", Route.OMH_ONLY)]
    assert any("consider omh.crime-in-community" in r for r in result.reasons)


def test_omh_only_incidents_are_off_site_and_suggest_the_on_site_type() -> None:
    assert route("omh.suicide-attempt-offsite", RES, False, False) is Route.OMH_ONLY
    on_site = classify(rule_set(), "omh.suicide-attempt-offsite", Facts(RES, True, False))
    assert on_site.route is Route.NOT_REPORTABLE
    assert [a.code for a in on_site.alternatives] == ["si.suicide-attempt"]


def test_current_chart_routes_deaths_by_program_setting() -> None:
    for setting in (IN, RES, CPEP):
        result = classify(rule_set(), "death.suicide", Facts(setting, False, False))
        assert result.route is Route.JC_AND_OMH
        assert [(c.name.value, c.days) for c in result.clocks] == [("report_of_death", 5)]
    outpatient = classify(rule_set(), "death.suicide", Facts(OUT, False, False))
    assert outpatient.route is Route.OMH_ONLY
    assert outpatient.clocks == ()
    assert "New Incident" in outpatient.steps[0]


def test_earlier_chart_reports_every_death_to_the_jc() -> None:
    assert route("death", OUT, False, False, rules="earlier") is Route.JC_AND_OMH


def test_death_row_for_the_wrong_setting_points_to_the_right_row() -> None:
    result = classify(rule_set(), "death.outpatient", Facts(IN, True, False))
    assert result.route is Route.NOT_REPORTABLE
    assert [a.code for a in result.alternatives] == ["death.jc-programs"]


def test_falls_count_only_in_inpatient_and_residential_settings() -> None:
    assert route("si.fall", RES, True, True) is Route.JC_AND_OMH
    outpatient = classify(rule_set(), "si.fall", Facts(OUT, True, True))
    assert outpatient.route is Route.NOT_REPORTABLE
    assert [a.code for a in outpatient.alternatives] == ["si.other"]


def test_missing_outpatient_counts_only_under_18_and_needs_the_age() -> None:
    assert route("si.missing-patient", OUT, True, False, age=17) is Route.JC_AND_OMH
    assert route("si.missing-patient", OUT, True, False, age=18) is Route.NOT_REPORTABLE
    assert route("si.missing-patient", IN, True, False) is Route.JC_AND_OMH
    with pytest.raises(ValidationFailed, match="age is required"):
        route("si.missing-patient", OUT, True, False)


def test_earlier_chart_reports_a_missing_outpatient_child_as_child_missing() -> None:
    result = classify(rule_set("earlier"), "si.missing-patient", Facts(OUT, True, False, 12))
    assert result.route is Route.NOT_REPORTABLE
    assert [a.code for a in result.alternatives] == ["si.child-missing", "omh.missing-aot"]


def test_fire_setting_needs_serious_harm_only_under_the_earlier_chart() -> None:
    assert route("si.fire-setting", IN, True, False) is Route.JC_AND_OMH
    assert route("si.fire-setting", IN, True, False, rules="earlier") is Route.NOT_REPORTABLE


def test_sexual_contact_between_children_needs_patients_under_18() -> None:
    assert route("si.sexual-contact-children", RES, True, False, age=15) is Route.JC_AND_OMH
    assert route("si.sexual-contact-children", RES, True, False, age=19) is Route.NOT_REPORTABLE


def test_bad_input_is_named() -> None:
    with pytest.raises(ValidationFailed, match="unknown incident code 'si.nope'"):
        route("si.nope", IN, True, True)
    with pytest.raises(ValidationFailed, match="age must be"):
        Facts(IN, True, True, age=-1)


ENTRIES = [(name, entry) for name, rules in RULE_SETS.items() for entry in rules.entries]


@given(
    st.sampled_from(ENTRIES), st.sampled_from(list(Setting)), st.booleans(), st.booleans(),
    st.integers(min_value=0, max_value=100),
)
def test_every_entry_follows_its_conditions(named, setting, premises, harm, age) -> None:  # type: ignore[no-untyped-def]
    name, entry = named
    result = classify(rule_set(name), entry.code, Facts(setting, premises, harm, age))
    qualifies = (
        setting in entry.routes_by_setting
        and age < entry.under_age.get(setting, 999)
        and not (entry.location is Location.ON_PREMISES_OR_SUPERVISED and not premises)
        and not (entry.location is Location.OFF_SITE and premises)
        and not (entry.harm is Harm.SERIOUS_HARM_REQUIRED and not harm)
    )
    assert (result.route is not Route.NOT_REPORTABLE) == qualifies
    if qualifies:
        assert result.route is entry.routes_by_setting[setting]
        assert result.clocks == entry.clocks_for(result.route)
    else:
        assert result.clocks == ()
        assert all(a.code in entry.alternatives for a in result.alternatives)
    assert result.reasons


def test_classification_serialises_the_documented_shape() -> None:
    data = classify(rule_set(), "death.homicide", Facts(CPEP, True, True, 40)).as_dict()
    assert data["route"] == "JC_AND_OMH"
    assert data["clocks"] == [{"name": "report_of_death", "days": 5}]
    assert isinstance(data["reasons"], list) and data["reasons"]
