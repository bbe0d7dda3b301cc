"""The redacted copy of an incident report for a qualified person (ADR 0014 §9, Mental Hygiene Law § 33.23).

The copy is built only from the incident's structured fields. The qualified person's own client keeps their
client id; every other client, employee and witness becomes a label ("Client 2", "Employee A", "Witness 1")
unless a recorded consent covers them. Every known name and client id in free text is replaced by its label:
whole word, case-insensitive, longest first, and each part of a multi-word name of 3 or more letters too.
Free text can still name people in no list, which is why a Level 1 user previews the copy before release.
"""

from __future__ import annotations

import re
import string
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from domain.deadlines import LOCAL_ZONE, require_aware
from domain.errors import ValidationFailed
from domain.incident import Incident

# A person reference (a client id, or a staff or witness name) that a recorded consent covers.
Consent = frozenset[str]

AMBIGUOUS = "[name removed]"  # a name part two redacted people share: neither label is the honest one
MIN_PART_LETTERS = 3
NAME_PARTS = re.compile(r"[\s\-]+")


class Kind:
    """What a label stands for; the release event records these, never the name."""

    CLIENT = "client"
    EMPLOYEE = "employee"
    WITNESS = "witness"
    PERSON = "person"  # someone else the incident names: another client's family, the director, the police


@dataclass(frozen=True)
class Section:
    title: str
    rows: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class RedactedReport:
    facility: str
    jc_case_number: str | None
    incident_id: str
    prepared_at: datetime
    prepared_at_text: str
    sections: tuple[Section, ...]
    labels: tuple[tuple[str, str], ...]  # (label, kind) in the order they were given
    consents: tuple[str, ...]  # the consents (as given) that named someone in this incident, sorted

    def labels_by_kind(self) -> dict[str, str]:
        """``{"Client 2": "client", "Employee A": "employee"}``: what the release event records."""
        return dict(self.labels)


def new_york_time(at: datetime) -> str:
    """``Mon 5 Jan 2026, 11:59 pm EST``: the same wording as ``adapters.local_time`` (which workflows may not import)."""
    local = at.astimezone(LOCAL_ZONE)
    hour = local.hour % 12 or 12
    return f"{local:%a} {local.day} {local:%b} {local.year}, {hour}:{local:%M} {'am' if local.hour < 12 else 'pm'} {local.tzname()}"


def redacted_report(incident: Incident, *, recipient_client_id: str | None, consents: Collection[str],
                    prepared_at: datetime, format_time: Callable[[datetime], str] = new_york_time,
                    others: Collection[str] = ()) -> RedactedReport:
    """The copy the qualified person of ``recipient_client_id`` may receive, with every other person labelled;
    ``others`` are more names to remove from free text (the people owed notice besides the requester)."""
    require_aware(prepared_at, "prepared_at")
    details = incident.details
    people = _People(details, recipient_client_id, consents)
    for name in others:
        if name and name.strip():
            people.other(name)
    scrub = people.scrubber()

    def when(value: Any) -> str:
        return format_time(datetime.fromisoformat(value)) if isinstance(value, str) else "(not recorded)"

    def said(value: Any) -> str:
        return scrub(value) if isinstance(value, str) and value.strip() else "(not recorded)"

    sections = [
        Section("Incident", (
            ("JC case number", incident.jc_case_number or "(none)"),
            ("Facility", incident.facility),
            ("Program", scrub(incident.program)),
            ("Setting", incident.setting),
            ("Incident type", _type_name(incident)),
            ("Occurred", when(details.get("occurred_at"))),
            ("Location", said(details.get("location"))),
            ("On premises or supervised", _yes_no(details.get("on_premises_or_supervised"))),
            ("Reported to the JC", format_time(incident.jc_reported_at) if incident.jc_reported_at else "(not reported)"),
            ("Status", str(incident.state).replace("_", " ")),
        )),
        Section("People involved", people.rows(scrub)),
        Section("What happened", (
            ("Summary", said(incident.summary)),
            ("Narrative", said(details.get("narrative"))),
            ("Immediate actions", said(details.get("immediate_actions"))),
        )),
        Section("Notifications made", tuple(
            (said(n.get("party")), when(n.get("notified_at"))) for n in details.get("notifications_made", [])
        ) or (("Notifications", "(none recorded)"),)),
        Section("Severity", (
            ("Harm rating", _number(details.get("harm_rating"))),
            ("Risk rating", _number(details.get("risk_rating"))),
            ("Serious harm", _yes_no(details.get("serious_harm"))),
            *((("Basis of serious harm", str(details["serious_harm_basis"])),) if "serious_harm_basis" in details else ()),
        )),
    ]
    if incident.findings:
        sections.append(Section("Findings", (("Findings", scrub(incident.findings)),)))
    return RedactedReport(
        facility=incident.facility, jc_case_number=incident.jc_case_number, incident_id=str(incident.id),
        prepared_at=prepared_at, prepared_at_text=format_time(prepared_at), sections=tuple(sections),
        labels=tuple(people.labels), consents=tuple(sorted(people.consents_used)),
    )


class _People:
    """Each person the incident lists, and how the copy names them: their label, or themselves when consented."""

    def __init__(self, details: Mapping[str, Any], recipient_client_id: str | None, consents: Collection[str]) -> None:
        self._consents = {_key(reference): reference for reference in consents}  # key -> the consent as recorded
        consented = set(self._consents)
        clients = [dict(client) for client in details.get("clients", [])]
        ids = [str(client["client_id"]) for client in clients]
        if recipient_client_id is not None and _key(recipient_client_id) not in {_key(i) for i in ids}:
            raise ValidationFailed("the qualified person's client is not among this incident's clients")
        self.labels: list[tuple[str, str]] = []
        self.consents_used: set[str] = set()
        self.kept: list[str] = []  # references printed as they are: the recipient's client and consented people
        self.redacted: list[tuple[str, str]] = []  # (reference, label)
        self._named: dict[str, str] = {}  # key -> how the copy names that person
        self.client_rows: list[tuple[str, str]] = []
        number = 2 if recipient_client_id is not None else 1
        for client in clients:
            reference = str(client["client_id"])
            if recipient_client_id is not None and _key(reference) == _key(recipient_client_id):
                self._keep(reference, consented=False)
                self.client_rows.append((reference, _client_facts(client, with_age=True, note="the person you asked about")))
                continue
            if _key(reference) in consented:
                self._keep(reference, consented=True)
                self.client_rows.append((reference, _client_facts(client, with_age=True, note="consented")))
                continue
            label = self._label(reference, f"Client {number}", Kind.CLIENT)
            if label == f"Client {number}":
                number += 1
            self.client_rows.append((label, _client_facts(client, with_age=False, note="")))
        self.staff_rows = self._listed(details.get("staff_involved", []), consented, Kind.EMPLOYEE, "staff involved")
        self.witness_rows = self._listed(details.get("witnesses", []), consented, Kind.WITNESS, "witness")

    def _listed(self, names: Iterable[str], consented: set[str], kind: str, role: str) -> list[tuple[str, str]]:
        rows = []
        for name in names:
            if _key(name) in consented:
                self._keep(name, consented=True)
                rows.append((name, f"{role} (consented)"))
                continue
            rows.append((self._label(name, self._next_label(kind), kind), role))
        return rows

    def other(self, name: str) -> None:
        """Someone named only in free text (not a client, an employee or a witness): "Person 1"."""
        if _key(name) in self._consents:
            self._keep(name, consented=True)
        else:
            self._label(name, self._next_label(Kind.PERSON), Kind.PERSON)

    def _next_label(self, kind: str) -> str:
        if kind == Kind.PERSON:
            return f"Person {sum(1 for _, k in self.labels if k == kind) + 1}"
        count = sum(1 for _, k in self.labels if k == kind)
        return f"Employee {_letters(count)}" if kind == Kind.EMPLOYEE else f"Witness {count + 1}"

    def _label(self, reference: str, label: str, kind: str) -> str:
        """The person's label; someone listed twice (staff who also witnessed) keeps their first one."""
        key = _key(reference)
        if key in self._named:
            return self._named[key]
        self._named[key] = label
        self.labels.append((label, kind))
        self.redacted.append((reference, label))
        return label

    def _keep(self, reference: str, *, consented: bool) -> None:
        self._named.setdefault(_key(reference), reference)
        self.kept.append(reference)
        if consented:
            self.consents_used.add(self._consents[_key(reference)])

    def rows(self, scrub: Callable[[str], str]) -> tuple[tuple[str, str], ...]:
        listed = [*self.client_rows, *self.staff_rows, *self.witness_rows]
        return tuple((label, scrub(text)) for label, text in listed) or (("People", "(none recorded)"),)

    def scrubber(self) -> Callable[[str], str]:
        """Replace every known reference in free text by how the copy names that person."""
        replacements: dict[str, str | None] = {}  # key -> label, or None: printed as written
        redacted_parts: dict[str, set[str]] = {}
        for reference, label in self.redacted:
            for spelling in _spellings(reference):
                replacements[spelling] = label
            for part in _parts(reference):
                for spelling in _spellings(part):
                    redacted_parts.setdefault(spelling, set()).add(label)
        for reference in self.kept:  # a kept whole name stays whole, even where a part of it is redacted elsewhere
            for spelling in _spellings(reference):
                replacements.setdefault(spelling, None)
        for part, labels in redacted_parts.items():
            replacements.setdefault(part, labels.pop() if len(labels) == 1 else AMBIGUOUS)
        if not replacements:
            return lambda text: text
        terms = sorted(replacements, key=lambda term: (-len(term), term))
        alternatives = "|".join(r"\s+".join(re.escape(word) for word in term.split()) for term in terms)
        pattern = re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)", re.IGNORECASE)

        def replace(match: re.Match[str]) -> str:
            found = match.group(0)
            # A match IGNORECASE finds but lower() spells differently (rare Unicode cases) is removed, not guessed.
            label = replacements.get(_key(found), AMBIGUOUS)
            return found if label is None else label

        return lambda text: pattern.sub(replace, text)


def _key(reference: str) -> str:
    # casefold() can change a string's length ("ß" -> "ss"), which IGNORECASE matching does not; lower() keeps the two in step.
    return " ".join(reference.split()).lower()


def _spellings(reference: str) -> set[str]:
    """The reference's key, and its keys as written in capitals ("Strauß" is "STRAUSS"), which IGNORECASE alone misses."""
    key = _key(reference)
    return {key, _key(key.upper()), _key(key.casefold())}


def _parts(name: str) -> list[str]:
    """The parts of a multi-word name with 3 or more letters ("Smith" of "John Smith"); none for a one-word name."""
    words = name.split()
    if len(words) < 2 and "-" not in name:
        return []
    pieces = {piece for word in words for piece in (word, *NAME_PARTS.split(word))}
    cleaned = {piece.strip(string.punctuation) for piece in pieces}
    return sorted(p for p in cleaned if sum(ch.isalpha() for ch in p) >= MIN_PART_LETTERS and _key(p) != _key(name))


def _letters(index: int) -> str:
    """A, B, ... Z, AA, AB: enough labels for any staff list."""
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(ord("A") + remainder) + letters
    return letters


def _client_facts(client: Mapping[str, Any], *, with_age: bool, note: str) -> str:
    facts = [f"age {client['age']}"] if with_age and "age" in client else []
    if client.get("role"):
        facts.append(str(client["role"]))
    if note:
        facts.append(note)
    return ", ".join(facts) or "client"


def _type_name(incident: Incident) -> str:
    entry = incident.rules.entry(incident.code)
    return f"{entry.type} — {entry.subtype}" if entry.subtype else entry.type


def _yes_no(value: Any) -> str:
    return "(not recorded)" if value is None else ("yes" if value else "no")


def _number(value: Any) -> str:
    return "(not recorded)" if value is None else str(value)
