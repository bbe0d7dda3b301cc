"""The redacted copy as a PDF (ReportLab), and where released documents are kept: a file named by its SHA-256.

The first page is the cover letter to the qualified person (Mental Hygiene Law § 33.23); the report's sections
follow. ``invariant=1`` makes the same report give the same bytes, so the hash recorded at release can be
reproduced; the bundled Vera TrueType font is embedded so names outside Latin-1 print.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path
from xml.sax.saxutils import escape

from reportlab.lib.pagesizes import LETTER
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import inch
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import KeepTogether, PageBreak, Paragraph, SimpleDocTemplate, Spacer

from workflows.redaction import RedactedReport

FONT, BOLD = "NimrsVera", "NimrsVera-Bold"
MARGIN = 0.9 * inch

MHL_33_23 = "Mental Hygiene Law § 33.23"
REMOVED_NOTICE = ("Identifying details of other patients and of employees have been removed: they appear as labels such "
                  "as “Client 2”, “Employee A” and “Witness 1”, unless the person consented to be named.")
REDISSEMINATION_NOTICE = ("This copy is confidential: you may not re-disclose it, or any information in it, to anyone else "
                          "(Mental Hygiene Law § 33.13 and the Justice Center’s confidentiality rules).")
FOOTER = "Confidential — re-dissemination prohibited (Mental Hygiene Law § 33.13)"


@dataclass(frozen=True)
class CoverLetter:
    """Who the letter is to and from; the report supplies the facility, the JC case number and the date."""

    recipient: str  # the qualified person, as the letter addresses them
    signed_by: str  # the Level 1 user who released the copy, with their title
    facility_name: str | None = None  # the provider's name for the letterhead; the facility code when None
    recipient_address: tuple[str, ...] = ()


@dataclass(frozen=True)
class StoredDocument:
    sha256: str
    size: int
    location: Path


def render_pdf(report: RedactedReport, cover: CoverLetter) -> bytes:
    """The cover letter, then the report's sections; the same arguments always give the same bytes."""
    _register_fonts()
    out = BytesIO()
    document = SimpleDocTemplate(
        out, pagesize=LETTER, invariant=1, leftMargin=MARGIN, rightMargin=MARGIN, topMargin=MARGIN, bottomMargin=MARGIN,
        title=f"Redacted incident report {report.jc_case_number or ''}".strip(), author=cover.facility_name or report.facility,
        creator="nimrs", subject="Copy for a qualified person under Mental Hygiene Law § 33.23",
    )
    story = [*_cover_page(report, cover), PageBreak(), *_report_pages(report)]

    def footer(canvas: Canvas, _document: SimpleDocTemplate) -> None:
        canvas.saveState()
        canvas.setFont(FONT, 8)
        canvas.drawString(MARGIN, 0.5 * inch, FOOTER)
        canvas.drawRightString(LETTER[0] - MARGIN, 0.5 * inch, f"Page {canvas.getPageNumber()}")
        canvas.restoreState()

    document.build(story, onFirstPage=footer, onLaterPages=footer)
    return out.getvalue()


def store_document(directory: Path, content: bytes) -> StoredDocument:
    """Write ``content`` to ``directory/<sha256>.pdf`` (a temporary file, then a rename); storing it again changes nothing."""
    digest = hashlib.sha256(content).hexdigest()
    directory.mkdir(parents=True, exist_ok=True)
    location = directory / f"{digest}.pdf"
    if location.exists() and hashlib.sha256(location.read_bytes()).hexdigest() == digest:
        return StoredDocument(digest, len(content), location)
    handle, temporary = tempfile.mkstemp(dir=directory, prefix=f".{digest}.", suffix=".tmp")  # mode 0600: PHI
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(content)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, location)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return StoredDocument(digest, len(content), location)


def _register_fonts() -> None:
    registered = pdfmetrics.getRegisteredFontNames()
    for name, file in ((FONT, "Vera.ttf"), (BOLD, "VeraBd.ttf")):
        if name not in registered:
            pdfmetrics.registerFont(TTFont(name, file))  # found on ReportLab's own font path


STYLES = {
    "body": ParagraphStyle("body", fontName=FONT, fontSize=10.5, leading=14, spaceAfter=8),
    "title": ParagraphStyle("title", fontName=BOLD, fontSize=15, leading=19, spaceAfter=10),
    "heading": ParagraphStyle("heading", fontName=BOLD, fontSize=12, leading=16, spaceBefore=10, spaceAfter=4),
    "label": ParagraphStyle("label", fontName=BOLD, fontSize=10, leading=13),
    "value": ParagraphStyle("value", fontName=FONT, fontSize=10, leading=13, leftIndent=14, spaceAfter=5),
    "notice": ParagraphStyle("notice", fontName=BOLD, fontSize=10.5, leading=14, spaceBefore=6, spaceAfter=8),
}


def _text(value: str) -> str:
    """Text for a Paragraph: its markup characters escaped, its line breaks kept."""
    return "<br/>".join(escape(line) for line in value.splitlines()) or " "


def _cover_page(report: RedactedReport, cover: CoverLetter) -> list[Paragraph | Spacer]:
    facility = cover.facility_name or report.facility
    case = report.jc_case_number or "(no JC case number)"
    body = STYLES["body"]
    return [
        Paragraph(_text(facility), STYLES["title"]),
        Paragraph(_text(report.prepared_at_text), body),
        Paragraph("<br/>".join(_text(line) for line in (cover.recipient, *cover.recipient_address)), body),
        Spacer(1, 8),
        Paragraph(_text(f"Re: incident report, Justice Center case number {case}"), STYLES["label"]),
        Spacer(1, 8),
        Paragraph(_text(f"Dear {cover.recipient},"), body),
        Paragraph(_text(f"Enclosed is a copy of the report of the incident with Justice Center case number {case} at "
                        f"{facility}, provided to you as a qualified person under {MHL_33_23}."), body),
        Paragraph(_text(REMOVED_NOTICE), body),
        Paragraph(_text(REDISSEMINATION_NOTICE), STYLES["notice"]),
        Spacer(1, 12),
        Paragraph(_text("Sincerely,"), body),
        Paragraph(_text(cover.signed_by), body),
    ]


def _report_pages(report: RedactedReport) -> list[Paragraph | KeepTogether]:
    story: list[Paragraph | KeepTogether] = [
        Paragraph(_text(f"Incident report (redacted copy) — {report.jc_case_number or report.incident_id}"), STYLES["title"]),
        Paragraph(_text(f"Prepared {report.prepared_at_text} for a qualified person under {MHL_33_23}."), STYLES["body"]),
    ]
    for section in report.sections:
        story.append(Paragraph(_text(section.title), STYLES["heading"]))
        for label, value in section.rows:
            # A short row stays on one page; a long narrative may run on, which a KeepTogether would forbid.
            rows = [Paragraph(_text(label), STYLES["label"]), Paragraph(_text(value), STYLES["value"])]
            story.extend([KeepTogether(rows)] if len(value) < 500 else rows)
    return story
