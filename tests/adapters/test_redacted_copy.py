"""The redacted copy for a qualified person: built from an incident made through its commands, rendered to a PDF
whose text pypdf extracts, and stored under its SHA-256."""

from __future__ import annotations

import hashlib
import re
from datetime import datetime, timedelta, timezone
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pypdf import PdfReader

from adapters.documents.redacted_copy import REDISSEMINATION_NOTICE, CoverLetter, render_pdf, store_document
from domain.actor import Actor
from domain.errors import ValidationFailed
from domain.incident import Incident
from domain.vocabulary import Level
from domain.vpcr import VpcrReport
from workflows.redaction import RedactedReport, redacted_report

AT = datetime(2026, 3, 10, 15, 0, tzinfo=timezone.utc)
EDITOR = Actor("clinical", "F-001", Level.EDITOR)
RECIPIENT, OTHER_CLIENT = "C-1042", "C-2077"
STAFF = ["John Smith", "Maria Garcia-Lopez"]
WITNESS = "Dana Okafor"
NARRATIVE = ("At 9 pm John Smith saw c-2077 push C-1042 in the day room. SMITH called for help, and garcia-lopez and maria "
             "separated the clients while Dana Okafor watched; okafor later said that Smith's shift had just begun. "
             "Maria Garcia-Lopez checked C-2077 for injuries.")
COVER = CoverLetter(recipient="Ms. Ada Client-Parent", signed_by="R. Level-One, Risk Manager",
                    facility_name="Riverside Psychiatric Center", recipient_address=("12 Elm Street", "Albany, NY 12207"))


def incident_with(*, staff: list[str] = STAFF, witnesses: list[str] = [WITNESS], narrative: str = NARRATIVE) -> Incident:  # noqa: B006
    report = VpcrReport.from_mapping({
        "jc_case_number": "2026-000777", "jc_reported_at": (AT - timedelta(hours=2)).isoformat(), "facility": "F-001",
        "program": "Adult Inpatient Unit 3", "setting": "inpatient", "reported_type": "an.physical-abuse",
        "summary": "Peer altercation involving C-2077, reported by Smith."})
    incident = Incident.receive(report, EDITOR, AT - timedelta(hours=1))
    incident.import_report(EDITOR, AT - timedelta(minutes=50))
    screens: list[tuple[str, dict[str, Any]]] = [
        ("incident", {"occurred_at": (AT - timedelta(hours=3)).isoformat(), "location": "Day room by John's office",
                      "on_premises_or_supervised": True}),
        ("clients", {"clients": [{"client_id": RECIPIENT, "age": 34, "role": "subject"},
                                 {"client_id": OTHER_CLIENT, "age": 51, "role": "alleged perpetrator"}]}),
        ("staff", {"staff_involved": staff, "witnesses": witnesses}),
        ("narrative", {"narrative": narrative, "immediate_actions": "Okafor called the nurse; GARCIA stayed with c-1042."}),
        ("notifications", {"notifications_made": [
            {"party": "Mother of C-1042, called by Smith", "notified_at": (AT - timedelta(hours=2, minutes=30)).isoformat()}]}),
        ("severity", {"harm_rating": 1, "risk_rating": 2, "serious_harm": False}),
    ]
    for screen, fields in screens:
        incident.record_details(EDITOR, AT - timedelta(minutes=40), screen, fields)
    return incident


def report_for(incident: Incident, consents: frozenset[str] = frozenset()) -> RedactedReport:
    return redacted_report(incident, recipient_client_id=RECIPIENT, consents=consents, prepared_at=AT)


def pdf_text(content: bytes) -> str:
    return " ".join(" ".join(page.extract_text() for page in PdfReader(BytesIO(content)).pages).split())


def words_present(text: str, *terms: str) -> list[str]:
    return [term for term in terms if re.search(rf"(?<!\w){re.escape(term)}(?!\w)", text, re.IGNORECASE)]


def test_the_pdf_keeps_the_recipients_client_and_removes_everyone_else() -> None:
    text = pdf_text(render_pdf(report_for(incident_with()), COVER))
    assert RECIPIENT in text
    assert words_present(text, OTHER_CLIENT, "John", "Smith", "Maria", "Garcia", "Lopez", "Garcia-Lopez", "Dana", "Okafor") == []
    for label in ("Client 2", "Employee A", "Employee B", "Witness 1"):
        assert label in text
    assert "saw Client 2 push C-1042" in text  # the structure of the narrative survives
    assert "Employee A's shift" in text and "by Employee A's office" in text
    assert "age 51" not in text and "age 34" in text  # the other client's age is an identifying detail too


def test_the_cover_letter_comes_first_and_restricts_re_dissemination() -> None:
    pages = PdfReader(BytesIO(render_pdf(report_for(incident_with()), COVER))).pages
    cover = " ".join(pages[0].extract_text().split())
    assert " ".join(REDISSEMINATION_NOTICE.split()) in cover
    assert "Mental Hygiene Law § 33.23" in cover and "2026-000777" in cover
    assert "Riverside Psychiatric Center" in cover and "Dear Ms. Ada Client-Parent," in cover
    assert "Tue 10 Mar 2026, 11:00 am EDT" in cover  # prepared_at in New York time, with the zone
    assert "Narrative" not in cover  # the report starts on the next page


def test_a_consented_employee_is_named_and_the_others_stay_labelled() -> None:
    report = report_for(incident_with(), consents=frozenset({"maria garcia-lopez"}))
    text = pdf_text(render_pdf(report, COVER))
    assert "Maria Garcia-Lopez checked Client 2" in text
    assert "garcia-lopez and maria" in text  # consented parts are left as written
    assert words_present(text, "John", "Smith", "Okafor", OTHER_CLIENT) == []
    assert report.consents == ("maria garcia-lopez",)
    assert report.labels_by_kind() == {"Client 2": "client", "Employee A": "employee", "Witness 1": "witness"}


def test_labels_record_kinds_never_names() -> None:
    report = report_for(incident_with())
    assert report.labels_by_kind() == {"Client 2": "client", "Employee A": "employee", "Employee B": "employee",
                                       "Witness 1": "witness"}
    assert report.consents == ()


def test_a_shared_surname_of_two_redacted_people_is_removed_without_guessing() -> None:
    incident = incident_with(staff=["John Smith", "Alice Smith"], narrative="Smith and JOHN SMITH were there.")
    narrative = dict(next(s for s in report_for(incident).sections if s.title == "What happened").rows)["Narrative"]
    assert narrative == "[name removed] and Employee A were there."


def test_findings_are_scrubbed_too() -> None:
    incident = incident_with()
    incident.email_omh(EDITOR, AT - timedelta(minutes=30))
    incident.start_investigation(EDITOR, AT - timedelta(minutes=20))
    incident.document_findings(EDITOR, AT - timedelta(minutes=10), "Substantiated against smith; OKAFOR's account held.")
    findings = dict(next(s for s in report_for(incident).sections if s.title == "Findings").rows)["Findings"]
    assert findings == "Substantiated against Employee A; Witness 1's account held."


def test_a_client_not_in_the_incident_cannot_receive_a_copy() -> None:
    with pytest.raises(ValidationFailed) as refused:
        redacted_report(incident_with(), recipient_client_id="C-9999", consents=(), prepared_at=AT)
    assert "C-9999" not in str(refused.value)


def test_the_same_input_gives_the_same_bytes_and_hash(tmp_path: Path) -> None:
    first = render_pdf(report_for(incident_with()), COVER)
    second = render_pdf(report_for(incident_with()), COVER)
    assert first == second
    assert hashlib.sha256(first).hexdigest() == store_document(tmp_path, second).sha256
    assert render_pdf(report_for(incident_with(), consents=frozenset({"John Smith"})), COVER) != first


def test_a_consented_name_outside_latin_1_prints() -> None:
    name = "Zoë Łukasz"
    report = report_for(incident_with(witnesses=[name], narrative=f"{name} saw it; ŁUKASZ shouted."),
                        consents=frozenset({name}))
    content = render_pdf(report, COVER)
    text = pdf_text(content)
    assert f"{name} saw it; ŁUKASZ shouted." in text
    assert b"Vera" in content  # the TrueType font is embedded, not a Latin-1 standard font
    unconsented = pdf_text(render_pdf(report_for(incident_with(witnesses=[name], narrative=f"{name} saw it; ŁUKASZ."),
                                                 consents=frozenset()), COVER))
    assert words_present(unconsented, "Zoë", "Łukasz") == [] and "Witness 1 saw it; Witness 1." in unconsented


def test_store_document_names_the_file_by_its_hash_and_is_idempotent(tmp_path: Path) -> None:
    content = render_pdf(report_for(incident_with()), COVER)
    directory = tmp_path / "documents"
    stored = store_document(directory, content)
    assert stored.location == directory / f"{hashlib.sha256(content).hexdigest()}.pdf"
    assert stored.size == len(content) and stored.location.read_bytes() == content
    modified = stored.location.stat().st_mtime_ns
    assert store_document(directory, content) == stored
    assert stored.location.stat().st_mtime_ns == modified  # not written again
    assert sorted(p.name for p in directory.iterdir()) == [stored.location.name]  # no temporary file left behind


def test_store_document_repairs_a_damaged_file(tmp_path: Path) -> None:
    content = b"%PDF-1.4 example"
    stored = store_document(tmp_path, content)
    stored.location.write_bytes(b"truncated")
    assert store_document(tmp_path, content).location.read_bytes() == content


ALPHABET = "abdgklmnoprsuzöÖŁłåÅß"  # no "e": every label word has one, so no name can be a label
WORD = st.text(ALPHABET, min_size=2, max_size=7)
NAME = st.lists(WORD, min_size=1, max_size=3).map(" ".join)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(staff=st.lists(NAME, min_size=1, max_size=3), witnesses=st.lists(NAME, max_size=2))
def test_no_listed_name_survives_in_the_narrative(staff: list[str], witnesses: list[str]) -> None:
    people = [*staff, *witnesses]
    mentions = [spelling for name in people for spelling in (name, name.upper(), name.lower(), name.title())]
    mentions += [part for name in people for part in name.split() if len(part) >= 3]
    narrative = "Seen: " + ", ".join(mentions) + "; (" + " / ".join(people) + ")."
    report = report_for(incident_with(staff=staff, witnesses=witnesses, narrative=narrative))
    # The narrative alone: the report's fixed words ("Serious harm: no") may equal a drawn name.
    text = dict(next(s for s in report.sections if s.title == "What happened").rows)["Narrative"]
    parts = [part for name in people if len(name.split()) > 1 for part in name.split() if len(part) >= 3]
    assert words_present(text, *people, *[name.upper() for name in people], *parts) == []
    listed = {label for label, _ in next(s for s in report.sections if s.title == "People involved").rows}
    assert listed.isdisjoint(people)
