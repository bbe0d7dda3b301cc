"""Chart 002, the current OMH chart: "OMH NIMRS Definitions for Incident Types and Reportability"."""

from functools import partial

from domain.charts.common import (
    CRIME_SUBTYPES,
    MEDICATION_ERROR_CATEGORIES,
    MISTREATMENT_SUBTYPES,
    NOT_REPORTABLE_STEPS,
    OMH_ONLY_STEPS,
    SEXUAL_ASSAULT_SUBTYPES,
    abuse_neglect,
    death_subtypes,
    omh_incidents,
    significant,
    subtype_rows,
)
from domain.taxonomy import ClockRule, RuleSet, TaxonomyEntry, settings
from domain.vocabulary import AROUND_THE_CLOCK, Category, ClockName, Harm, Route, Setting

CHART = "002"
INVESTIGATION_DAYS = 45
SERIOUS = Harm.SERIOUS_HARM_REQUIRED
JC = Route.JC_AND_OMH

si = partial(significant, CHART, INVESTIGATION_DAYS)
si_rows = partial(subtype_rows, CHART, INVESTIGATION_DAYS)

ABUSE_NEGLECT = (
    ("physical-abuse", "Physical Abuse", "Intentional or reckless contact with a patient that causes, or is likely to cause, physical pain or harm."),
    ("psychological-abuse", "Psychological Abuse", "Verbal or nonverbal conduct that intentionally or recklessly causes a patient emotional distress."),
    ("sexual-abuse", "Sexual Abuse", "Any sexual contact between a custodian and a patient, or sexual contact involving a patient that a custodian encourages or allows."),
    ("neglect", "Neglect", "A custodian's breach of duty, by act or omission, that injures or is likely to injure or seriously impair a patient."),
    ("deliberate-inappropriate-restraint", "Deliberate Inappropriate Use of Restraint", "Restraint used for any reason other than an emergency safety intervention."),
    ("obstruction", "Obstruction of reports of Reportable Incidents", "A custodian's conduct meant to impede the reporting or investigation of a reportable incident."),
    ("controlled-substance", "Unlawful use/administration of a controlled substance", "A custodian's illegal use, administration or distribution of a controlled substance at work or on duty."),
    ("aversive-conditioning", "Aversive Conditioning", "Using an unpleasant physical stimulus to change behaviour; prohibited in every OMH facility."),
)



def deaths() -> list[TaxonomyEntry]:
    rod = (ClockRule(ClockName.REPORT_OF_DEATH, 5),)
    by_setting = {**settings(AROUND_THE_CLOCK, JC), Setting.OUTPATIENT: Route.OMH_ONLY}
    return [
        TaxonomyEntry(
            code="death.jc-programs", category=Category.DEATH, type="Death",
            subtype="OMH licensed or operated Inpatient Units, Residential Programs, or CPEP",
            definition="Death of a client of an inpatient unit, residential program or CPEP, or of someone they served in the 30 days before death.",
            chart=CHART, routes_by_setting=settings(AROUND_THE_CLOCK, JC), clocks=rod,
            alternatives=("death.outpatient",), procedure="jc_death",
        ),
        TaxonomyEntry(
            code="death.outpatient", category=Category.DEATH, type="Death",
            subtype="OMH licensed or operated OUTPATIENT programs",
            definition="Death of a patient served only by an outpatient program, or by one in the 30 days before death; entered directly in NIMRS.",
            chart=CHART, routes_by_setting=settings({Setting.OUTPATIENT}, Route.OMH_ONLY),
            alternatives=("death.jc-programs",), procedure="omh_only",
        ),
        *death_subtypes(CHART, by_setting),
    ]


def significant_incidents() -> list[TaxonomyEntry]:
    return [
        si("si.crime", "Crime", None, "An event that is or appears to be a crime and involves a patient as victim, threatens patients' health or safety, "
           "or could seriously harm the program's property or operation.", alternatives=("omh.crime-in-community",)),
        *si_rows("si.crime", "Crime", CRIME_SUBTYPES, alternatives=("omh.crime-in-community",)),
        si("si.financial-exploitation", "Financial Exploitation", None,
           "A custodian using or taking a patient's funds, assets or property by deception, intimidation or similar means, intending to deprive them."),
        si("si.fire-setting", "Fire Setting", None, "A patient's act, deliberate or accidental, that results in fire on program premises."),
        si("si.injury-unknown-origin", "Injury of Unknown Origin", None, "A suspicious injury to a patient whose cause cannot be determined at once."),
        si("si.missing-patient", "Missing patient (Inpatient/Residential)", None,
           "An inpatient or residential patient not accounted for when expected and not found, or who left without required permission; "
           "also an outpatient under 18 whose whereabouts are unknown when expected to be present or supervised.",
           where=set(AROUND_THE_CLOCK - {Setting.CPEP}) | {Setting.OUTPATIENT}, under_age={Setting.OUTPATIENT: 18},
           alternatives=("omh.missing-aot",)),
        *si_rows("si.mistreatment", "Mistreatment", MISTREATMENT_SUBTYPES),
        si("si.sexual-assault", "Sexual Assault", None,
           "A sexual attack, including rape, sodomy and attempts, or sexual contact across the statutory age gaps, or with a patient unable to consent."),
        *si_rows("si.sexual-assault", "Sexual Assault", SEXUAL_ASSAULT_SUBTYPES),
        si("si.sexual-contact-children", "Sexual Contact Between Children", None,
           "Vaginal, anal or oral penetration by patients under 18 in around-the-clock care or on an outpatient program's premises.",
           under_age={s: 18 for s in Setting}),
        si("si.suicide-attempt", "Suicide Attempt", None, "A patient's act meant to end their own life.",
           alternatives=("omh.suicide-attempt-offsite",)),
        si("si.wrongful-conduct", "Wrongful Conduct", None,
           "A custodian's act or omission against sound judgment or training about services, safety, welfare or rights, short of abuse or neglect."),
        # Only with serious injury or harm:
        si("si.adverse-drug-reaction", "Adverse Drug Reaction", None,
           "An unintended, unexpected or excessive response to a normal dose of medication that leads to transfer to an ER or serious injury or harm.",
           harm=SERIOUS),
        si("si.assault", "Assault", None, "A violent physical attack by someone other than a custodian, with a patient as victim or aggressor.", harm=SERIOUS),
        si("si.fall", "Falls by Patients", None, "A patient trips, slips or falls in an inpatient or residential setting.",
           harm=SERIOUS, where={Setting.INPATIENT, Setting.RESIDENTIAL}, alternatives=("si.other",)),
        si("si.fight", "Fights", None, "A physical altercation between patients with no clear aggressor or victim.", harm=SERIOUS),
        si("si.medication-error", "Medication Error", None, "An error in prescribing, dispensing or administering a drug.", harm=SERIOUS),
        *si_rows("si.medication-error", "Medication Error", MEDICATION_ERROR_CATEGORIES, harm=SERIOUS),
        si("si.other", "Other Incident", None, "Any other event that harms, or creates a risk to, a patient's life, health or safety.", harm=SERIOUS),
        si("si.self-abuse", "Self-Abuse", None, "A self-inflicted injury not meant to cause death.", harm=SERIOUS),
        si("si.verbal-aggression", "Verbal Aggression by Patients", None,
           "A sustained pattern of a patient ridiculing, bullying, harassing or threatening other patients.", harm=SERIOUS),
    ]


PROCEDURES = {
    "jc_abuse_neglect": (
        "Report to the JC: call 1-855-373-2122 or submit the VPCR web form.",
        "Report to OMH: import the VPCR report from the JC import queue as a NIMRS incident, complete it and click \"Email OMH\".",
        "Investigate, document findings and submit the investigation via WSIR within 45 days.",
    ),
    "jc_significant": (
        "Report to the JC: call 1-855-373-2122 or submit the VPCR web form.",
        "Report to OMH: import the VPCR report from the JC import queue as a NIMRS incident, complete it and click \"Email OMH\".",
        "Investigate, document findings and close the report in NIMRS within 45 days.",
    ),
    "jc_death": (
        "Call the JC Death Reporting Line at 1-855-373-2124 to make the initial report.",
        "Import the VPCR report from the JC import queue, enter the required information on each screen and click \"Email OMH\".",
        "Submit the Report of Death to the JC by clicking \"Email JC\" within 5 days of the initial report to the JC.",
    ),
    "omh_only": OMH_ONLY_STEPS,
    "not_reportable": NOT_REPORTABLE_STEPS,
}

RULES = RuleSet(
    name="current",
    chart=CHART,
    title="OMH NIMRS Definitions for Incident Types and Reportability",
    entries=(*abuse_neglect(CHART, "Abuse and Neglect", INVESTIGATION_DAYS, ABUSE_NEGLECT), *deaths(), *significant_incidents(), *omh_incidents(CHART)),
    procedures=PROCEDURES,
)
