"""Rows both charts share: the NIMRS discrete subtypes and the OMH-only incidents.

The issue asks for the earlier chart's discrete subtypes (death, crime, medication error
categories C-H, mistreatment, sexual assault) in both rule sets wherever the current chart
keeps the type; they are built here once, for a given chart and clock.
"""

from domain.taxonomy import ClockRule, TaxonomyEntry, everywhere, settings
from domain.vocabulary import (
    Category,
    ClockName,
    Harm,
    Location,
    Route,
    Setting,
)

JC = Route.JC_AND_OMH
SI = Category.SIGNIFICANT_INCIDENT

OMH_ONLY_STEPS = (
    "Sign in to NIMRS and select \"New Incident\" from the home screen.",
    "Close the pop-up about the reporting process.",
    "Enter the required information on each NIMRS screen and click \"Email OMH\".",
)
NOT_REPORTABLE_STEPS = ("Not reportable to the JC or OMH as given: record it locally, document findings and close it.",)

DEATH_SUBTYPES = (
    ("natural-expected", "Natural Causes, Expected",
     "A natural death from a known medical cause that followed the expected course of the illness under standard treatment."),
    ("natural-unexpected", "Natural Causes, Unexpected", "A death from natural causes that nobody expected."),
    ("homicide", "Homicide of Client", "A death that appears to have been caused by another person's act."),
    ("suicide", "Suicide", "A death from an injury the client inflicted deliberately to end their own life."),
    ("accidental", "Accidental", "An accidental or unexplained death not related to the treatment provided."),
    ("lack-of-treatment", "Lack of Appropriate Treatment",
     "A death related to treatment not given in line with generally accepted medical standards."),
    ("restraint-seclusion", "Restraint or Seclusion", "A death associated with the use, or attempted use, of restraint or seclusion."),
    ("unexplained", "Unexplained", "A death whose cause is not known."),
)

CRIME_SUBTYPES = (
    ("homicide-attempt", "Homicide Attempt", "An act of aggression meant to kill the victim."),
    ("homicide-by-client", "Homicide by Client",
     "A homicide committed by a client (a client who is the victim of homicide is reported as a death)."),
    ("narcotics", "Narcotics, Sale or Possession", "Selling or possessing narcotics, including a client's acts that are or look like crimes."),
    ("robbery", "Robbery", "A robbery, including a client's acts that are or look like crimes."),
    ("deadly-weapon", "Possession of Deadly Weapon", "Possessing a deadly weapon unlawfully or unregistered."),
    ("other", "Other Crime", "Any other crime that endangered, or could have endangered, the life, health or welfare of a client or anyone else."),
)

MEDICATION_ERROR_CATEGORIES = (
    ("category-c", "Category C", "The error reached the patient but caused no harm."),
    ("category-d", "Category D", "The error reached the patient and needed monitoring or intervention to prevent harm."),
    ("category-e", "Category E", "The error may have caused or contributed to temporary harm and needed intervention."),
    ("category-f", "Category F", "The error may have caused or contributed to temporary harm needing initial or longer hospitalisation (normally risk level 3)."),
    ("category-g", "Category G", "The error may have caused or contributed to permanent harm."),
    ("category-h", "Category H", "The error needed an intervention to sustain life."),
)

MISTREATMENT_SUBTYPES = (
    ("unauthorized-restraint-seclusion", "Unauthorized Restraint or Seclusion",
     "Restraint or seclusion used without a valid physician's order or otherwise against the rules, short of abuse."),
    ("time-out", "Inappropriate use of time out",
     "Isolating a patient in time out for staff convenience or in place of programming."),
    ("improper-medication", "Intentional Improper Administration of medication",
     "Deliberately giving a patient a medication in a way that does not substantially follow the prescription."),
)

SEXUAL_ASSAULT_SUBTYPES = (
    ("rape", "Rape or Nonconsensual Sodomy", "A sexual assault that results in vaginal, anal or oral penetration."),
    ("other", "Other Sexual Assault",
     "A sexual attack other than rape or sodomy that meets the criteria for sexual assault (force, inability to consent, statutory age gap), including attempts."),
)


def abuse_neglect(chart: str, type_: str, days: int, rows: tuple[tuple[str, str, str], ...]) -> list[TaxonomyEntry]:
    """Allegations of abuse and neglect: reportable to the JC and OMH wherever they happen."""
    return [
        TaxonomyEntry(
            code=f"an.{slug}", category=Category.ABUSE_NEGLECT, type=type_, subtype=subtype,
            definition=definition, chart=chart, routes_by_setting=everywhere(JC),
            clocks=(ClockRule(ClockName.INVESTIGATION, days),), procedure="jc_abuse_neglect",
        )
        for slug, subtype, definition in rows
    ]


def death_subtypes(chart: str, routes: dict[Setting, Route], alternatives: tuple[str, ...] = ()) -> list[TaxonomyEntry]:
    return [
        TaxonomyEntry(
            code=f"death.{slug}", category=Category.DEATH, type="Death", subtype=subtype,
            definition=definition, chart=chart, routes_by_setting=routes,
            clocks=(ClockRule(ClockName.REPORT_OF_DEATH, 5),), alternatives=alternatives, procedure="jc_death",
        )
        for slug, subtype, definition in DEATH_SUBTYPES
    ]


def significant(
    chart: str, clock_days: int, code: str, type_: str, subtype: str | None, definition: str, *,
    harm: Harm = Harm.REGARDLESS,
    where: frozenset[Setting] | set[Setting] | None = None,
    under_age: dict[Setting, int] | None = None,
    alternatives: tuple[str, ...] = (),
) -> TaxonomyEntry:
    """A Significant Incident row: reportable to the JC and OMH on premises or under supervision."""
    return TaxonomyEntry(
        code=code, category=SI, type=type_, subtype=subtype, definition=definition, chart=chart,
        routes_by_setting=settings(where, JC) if where is not None else everywhere(JC),
        harm=harm, location=Location.ON_PREMISES_OR_SUPERVISED,
        clocks=(ClockRule(ClockName.INVESTIGATION, clock_days),),
        under_age=under_age or {}, alternatives=alternatives, procedure="jc_significant",
    )


def subtype_rows(
    chart: str, clock_days: int, prefix: str, type_: str, rows: tuple[tuple[str, str, str], ...], **conditions: object
) -> list[TaxonomyEntry]:
    return [
        significant(chart, clock_days, f"{prefix}.{slug}", type_, subtype, definition, **conditions)  # type: ignore[arg-type]
        for slug, subtype, definition in rows
    ]


def omh_incidents(chart: str) -> list[TaxonomyEntry]:
    only = Route.OMH_ONLY
    return [
        TaxonomyEntry(
            code="omh.crime-in-community", category=Category.OMH_INCIDENT, type="Crime in the Community", subtype=None,
            definition="An off-site event that is or looks like a crime and is seen as a significant danger to the community, "
            "or involves a patient whose behaviour is an imminent concern to the community.",
            chart=chart, routes_by_setting=everywhere(only), location=Location.OFF_SITE,
            alternatives=("si.crime",), procedure="omh_only",
        ),
        TaxonomyEntry(
            code="omh.missing-aot", category=Category.OMH_INCIDENT, type="Missing Subject of AOT Court Order", subtype=None,
            definition="An outpatient under an assisted outpatient treatment order who misses a scheduled appointment "
            "or cannot be found within 24 hours (inpatient and residential programs report a missing patient instead).",
            chart=chart, routes_by_setting=settings({Setting.OUTPATIENT}, only),
            alternatives=("si.missing-patient",), procedure="omh_only",
        ),
        TaxonomyEntry(
            code="omh.suicide-attempt-offsite", category=Category.OMH_INCIDENT, type="Suicide Attempt, Off-site", subtype=None,
            definition="A patient's attempt to end their own life made off program premises and not under a custodian's supervision.",
            chart=chart, routes_by_setting=everywhere(only), location=Location.OFF_SITE,
            alternatives=("si.suicide-attempt",), procedure="omh_only",
        ),
    ]
