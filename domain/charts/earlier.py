"""Chart 001, the earlier OMH chart: "OMH NIMRS Definitions for Incident Types and Severity Ratings".

It differs from the current chart: significant incidents close within 50 days (abuse and
neglect within 45), deaths report to the JC from every setting, fire setting needs serious
harm, and it lists Child Missing from Staff Supervision, Choking and a fourth mistreatment
subtype (misappropriation of patient resources) that the current chart folds elsewhere.
"""

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
from domain.taxonomy import ClockRule, RuleSet, TaxonomyEntry, everywhere
from domain.vocabulary import Category, ClockName, Harm, Route, Setting

CHART = "001"
ABUSE_NEGLECT_DAYS = 45
SIGNIFICANT_DAYS = 50
SERIOUS = Harm.SERIOUS_HARM_REQUIRED
JC = Route.JC_AND_OMH

si = partial(significant, CHART, SIGNIFICANT_DAYS)
si_rows = partial(subtype_rows, CHART, SIGNIFICANT_DAYS)

ABUSE_NEGLECT = (
    ("physical-abuse", "Physical Abuse", "Non-accidental contact with a client that causes, or could cause, physical pain or harm."),
    ("psychological-abuse", "Psychological Abuse", "Verbal or nonverbal conduct intended to cause a patient emotional distress."),
    ("sexual-abuse", "Sexual Abuse", "Any sexual contact between a custodian and a patient, or sexual contact involving a patient that a custodian encourages or allows."),
    ("neglect", "Neglect", "A custodian's breach of duty, by act or omission, that injures or is likely to injure or seriously impair a patient."),
    ("deliberate-inappropriate-restraint", "Deliberate Inappropriate Use of Restraint", "Restraint used to punish, for a custodian's convenience, or with deliberate cruelty."),
    ("obstruction", "Obstruction of reports of Reportable Incidents", "A custodian's conduct meant to impede the reporting or investigation of a reportable incident."),
    ("controlled-substance", "Unlawful use/administration of a controlled substance", "A custodian's illegal use, administration or distribution of a controlled substance."),
)

MISAPPROPRIATION = (
    ("misappropriation", "Misappropriation of patient resources",
     "Taking a patient's funds, assets or property by deception, intimidation or similar means, meaning to deprive them of it."),
)



def deaths() -> list[TaxonomyEntry]:
    return [
        TaxonomyEntry(
            code="death", category=Category.DEATH, type="Death", subtype=None,
            definition="Death of a client enrolled in or served by a State operated or licensed program, "
            "including any death within 30 days of discharge.",
            chart=CHART, routes_by_setting=everywhere(JC), clocks=(ClockRule(ClockName.REPORT_OF_DEATH, 5),),
            procedure="jc_death",
        ),
        *death_subtypes(CHART, everywhere(JC)),
    ]


def significant_incidents() -> list[TaxonomyEntry]:
    return [
        si("si.adverse-drug-reaction", "Adverse drug reaction, Severe", None,
           "An unintended, undesirable or excessive response to a normal dose of medication.", harm=SERIOUS),
        si("si.assault", "Assault", None, "A violent physical attack by someone other than a custodian, with a patient as victim or aggressor.", harm=SERIOUS),
        si("si.child-missing", "Child Missing from Staff Supervision", None,
           "An outpatient under 18 whose whereabouts are unknown when expected to be present or supervised.",
           where={Setting.OUTPATIENT}, under_age={Setting.OUTPATIENT: 18}, alternatives=("si.missing-patient",)),
        si("si.choking", "Choking", None,
           "A patient chokes on food or an object, with life-threatening harm or a hospital admission, while a written choking-risk directive was in place."),
        si("si.crime", "Crime", None, "An event that is or appears to be a crime and involves a patient as victim, threatens patients' health or safety, "
           "or could seriously harm the program's property or operation.", alternatives=("omh.crime-in-community",)),
        *si_rows("si.crime", "Crime", CRIME_SUBTYPES, alternatives=("omh.crime-in-community",)),
        si("si.fall", "Falls by Patients", None, "A patient trips, slips or falls in an inpatient or residential setting.",
           harm=SERIOUS, where={Setting.INPATIENT, Setting.RESIDENTIAL}, alternatives=("si.other",)),
        si("si.fight", "Fights", None, "A physical altercation between patients with no clear aggressor or victim.", harm=SERIOUS),
        si("si.fire-setting", "Fire Setting", None,
           "A patient's act, deliberate or accidental, that causes fire on program premises and serious injury, or its risk, to anyone.", harm=SERIOUS),
        si("si.injury-unknown-origin", "Injury of Unknown Origin", None, "A suspicious injury to a patient whose cause cannot be determined at once."),
        si("si.medication-error", "Medication Error", None, "An error in prescribing, dispensing or administering a drug.", harm=SERIOUS),
        *si_rows("si.medication-error", "Medication Error", MEDICATION_ERROR_CATEGORIES, harm=SERIOUS),
        si("si.missing-patient", "Missing patient (Inpatient/Residential)", None,
           "An inpatient or residential patient not accounted for when expected and not found, or who left without required permission.",
           where={Setting.INPATIENT, Setting.RESIDENTIAL}, alternatives=("si.child-missing", "omh.missing-aot")),
        *si_rows("si.mistreatment", "Mistreatment", MISTREATMENT_SUBTYPES + MISAPPROPRIATION),
        si("si.self-abuse", "Self Abuse", None, "A self-inflicted injury not meant to cause death.", harm=SERIOUS),
        si("si.sexual-assault", "Sexual Assault", None,
           "A sexual attack, including rape, sodomy and attempts, or sexual contact across the statutory age gaps, or with a patient unable to consent."),
        *si_rows("si.sexual-assault", "Sexual Assault", SEXUAL_ASSAULT_SUBTYPES),
        si("si.sexual-contact-children", "Sexual Contact Between Children", None,
           "Vaginal, anal or oral penetration by patients under 18 in around-the-clock care or on an outpatient program's premises.",
           under_age={s: 18 for s in Setting}),
        si("si.suicide-attempt", "Suicide Attempt", None, "A patient's act meant to end their own life.",
           alternatives=("omh.suicide-attempt-offsite",)),
        si("si.verbal-aggression", "Verbal Aggression by Patients", None,
           "A sustained pattern of a patient ridiculing, bullying, harassing or threatening other patients.", harm=SERIOUS),
        si("si.other", "Other Incident", None, "Any other event that harms, or creates a risk to, a patient's life, health or safety.", harm=SERIOUS),
    ]


_JC_REPORT = "Report to the JC: call 1-855-373-2122 or submit the VPCR web form."
_OMH_REPORT = ("Report to OMH: the report is transferred to the JC import queue in NIMRS; import it as a NIMRS incident "
               "and click \"Email OMH\".")

PROCEDURES = {
    "jc_abuse_neglect": (_JC_REPORT, _OMH_REPORT, "Investigate, document findings and close the report in NIMRS within 45 days."),
    "jc_significant": (_JC_REPORT, _OMH_REPORT, "Investigate, document findings and close the report in NIMRS within 50 days."),
    "jc_death": (
        "Report to the JC: call the JC Death Reporting Line at 1-855-373-2124 to make the initial report.",
        _OMH_REPORT,
        "Submit the Report of Death to the JC using NIMRS within 5 days of the initial report to the JC.",
    ),
    "omh_only": OMH_ONLY_STEPS,
    "not_reportable": NOT_REPORTABLE_STEPS,
}

RULES = RuleSet(
    name="earlier",
    chart=CHART,
    title="OMH NIMRS Definitions for Incident Types and Severity Ratings",
    entries=(*abuse_neglect(CHART, "Abuse/Neglect", ABUSE_NEGLECT_DAYS, ABUSE_NEGLECT), *deaths(), *significant_incidents(), *omh_incidents(CHART)),
    procedures=PROCEDURES,
)
