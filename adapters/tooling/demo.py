"""``nimrs demo``: sample incidents walked through the workflow on a fresh SQLite file."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

from adapters.bootstrap import Runtime
from adapters.local_time import days
from adapters.settings import load_settings
from adapters.tooling.samples import complete_details, vpcr_report
from domain.errors import NimrsError
from workflows.accounts import AccountService
from workflows.screens import describe
from workflows.service import IncidentService


def _fill(service: IncidentService, actor: Any, iid: UUID, **facts: Any) -> None:
    incident = service.incident(actor, iid)
    # discovered: Part 524's 24-hour report to the JC runs from discovery (docs/obligations.md)
    for screen, fields in complete_details(incident.clock_start - timedelta(hours=1), discovered=True, **facts):
        service.record_details(actor, iid, screen, fields)


def run_demo(db: Path) -> dict[str, Any]:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    with Runtime(load_settings({"NIMRS_DATABASE_URL": f"sqlite:///{db}"})) as runtime:
        return _story(runtime.service, runtime.accounts, db)


def _story(service: IncidentService, registry: AccountService, db: Path) -> dict[str, Any]:
    risk = registry.add("risk.manager", "F-001", 1).actor
    clinical = registry.add("clinical.supervisor", "F-001", 2).actor
    now = service.clock()
    lines = [f"nimrs demo on {db}, facility F-001:",
             "  users risk.manager (Level 1) and clinical.supervisor (Level 2)"]

    death = vpcr_report("2026-DEMO-001", now - timedelta(days=2), code="death.natural-unexpected",
                        summary="Client found unresponsive; reported on the JC death line.")
    abuse = vpcr_report("2026-DEMO-002", now - timedelta(days=50), code="an.physical-abuse",
                        summary="Allegation that a staff member struck a client.")
    receipt = service.receive_vpcr_reports(clinical, [death, abuse])
    again = service.receive_vpcr_reports(clinical, [death])
    lines.append(f"received {len(receipt.received)} VPCR reports; re-delivering one added {len(again.received)}")

    for report in (death, abuse):
        service.import_report(clinical, report.incident_id)
        _fill(service, clinical, report.incident_id, serious_harm=True)
    try:
        service.email_omh(clinical, death.incident_id)
    except NimrsError as refused:
        lines += ["refused, as it should be:", f"  {refused.message}"]
    service.email_omh(risk, death.incident_id)
    service.submit_report_of_death(risk, death.incident_id)
    # Jonathan's Law: the qualified person was told within 24 hours (the abuse allegation's never was)
    service.record_notice_recipient(clinical, death.incident_id, {
        "recipient_id": "qp-1", "role": "qualified_person", "name": "Client's sister", "relationship": "sister",
        "contacts": {"phone": "555-0100"}, "preferred": ["phone"]})
    service.record_notification(clinical, death.incident_id, {
        "recipient_id": "qp-1", "notified_at": (death.jc_reported_at + timedelta(hours=3)).isoformat(),
        "method": "phone", "outcome": "reached", "note": "Told of the death and how to ask for the report."})
    service.email_omh(risk, abuse.incident_id)
    service.start_investigation(clinical, abuse.incident_id)

    crime = service.create_incident(clinical, program="Community Clinic", setting="outpatient",
                                    code="omh.crime-in-community", summary="Client arrested after a threat downtown.")
    _fill(service, clinical, crime, on_premises=False)
    service.email_omh(risk, crime)

    fall = service.create_incident(clinical, program="Adult Inpatient Unit 3", setting="inpatient", code="si.fall",
                                   summary="Client slipped in the hallway; no injury.")
    _fill(service, clinical, fall, serious_harm=False)
    service.document_findings(clinical, fall, "Floor was wet; housekeeping schedule changed.")
    service.close(risk, fall)

    views = [describe(service.incident(risk, iid), risk, service.clock())
             for iid in (death.incident_id, abuse.incident_id, crime, fall)]
    for view in views:  # to fit 80 columns: the incident, then one line per obligation
        lines.append(f"{view['jc_case_number'] or 'New Incident':14} {view['details']['code']:26} {view['route']}")
        lines.append(f"{'':14} {view['state'].replace('_', ' ')}{'' if view['clocks'] else '; no clocks'}")
        for c in view["clocks"]:
            late = f", {days(c['days_late'] * 24)} late" if c["days_late"] else ""
            lines.append(f"{'':16}{c['name'].replace('_', ' ')}: {c['status'].replace('_', ' ')}{late}")
    lines += [f"look closer:  export NIMRS_DATABASE_URL=sqlite:///{db}",
              "              .venv/bin/nimrs show 2026-DEMO-002 --as risk.manager",
              "in a browser: echo 'a passphrase of yours' | .venv/bin/nimrs users add you \\",
              "                --facility F-001 --level 1 --password-stdin",
              "              .venv/bin/nimrs serve, then http://127.0.0.1:8000/ (docs/web.md)"]
    return {"database": str(db), "incidents": views, "text": "\n".join(lines)}
