"""A qualified person's written request, the redacted copy and its release, through the real CLI (issue 12, "Done
when"): the release event holds the stored file's SHA-256, meets the 10-day clock, and the PDF names no other
patient and no employee."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
from datetime import timedelta
from pathlib import Path

from pypdf import PdfReader

from adapters.bootstrap import Runtime
from adapters.settings import load_settings
from adapters.tooling.samples import vpcr_report
from tests.adapters.test_mail import NIMRS
from tests.conftest import L1, L2
from tests.workflows.helpers import fill

OTHER_CLIENT, STAFF, WITNESS = "C-2077", "Maria Garcia-Lopez", "John Smith"


def _text(path: Path) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(str(path)).pages)


def test_the_redacted_copy_is_released_with_its_hash_and_meets_the_request_clock(tmp_path: Path) -> None:
    documents = tmp_path / "documents"
    environ = {"NIMRS_DATABASE_URL": f"sqlite:///{tmp_path}/n.db", "NIMRS_OBLIGATIONS_DEFAULT": "part524@1",
               "NIMRS_DOCUMENTS_DIR": str(documents)}
    with Runtime(load_settings(environ)) as runtime:
        runtime.accounts.add("risk.F-001", "F-001", 1)
        runtime.accounts.add("clerk.F-001", "F-001", 2)
        service, now = runtime.service, runtime.clock()
        iid = service.receive_vpcr_report(L2, vpcr_report("2026-000321", now - timedelta(hours=5)))[0]
        service.import_report(L2, iid)
        fill(service, iid)
        service.record_details(L2, iid, "clients", {"clients": [{"client_id": "C-1042", "age": 34, "role": "subject"},
                                                                {"client_id": OTHER_CLIENT, "age": 41, "role": "peer"}]})
        service.record_details(L2, iid, "staff", {"staff_involved": [STAFF], "witnesses": [WITNESS]})
        service.record_details(L2, iid, "narrative", {
            "narrative": f"{STAFF} saw {OTHER_CLIENT} push C-1042; smith called the nurse. Garcia-Lopez wrote it up. "
                         "Mary Roe, the other client's mother, was told.",
            "immediate_actions": "Both clients were assessed."})
        service.record_details(L2, iid, "incident", {"discovered_at": (now - timedelta(hours=6)).isoformat()})
        service.email_omh(L1, iid)
        service.record_notice_recipient(L2, iid, {"recipient_id": "qp-1", "role": "qualified_person", "name": "Ana Parent",
                                                   "relationship": "mother", "client_id": "C-1042"})
        service.record_notice_recipient(L2, iid, {"recipient_id": "qp-2", "role": "qualified_person", "name": "Mary Roe",
                                                   "relationship": "mother", "client_id": OTHER_CLIENT})
        service.record_request(L2, iid, request_id="r-1", kind="incident_report_copy", requested_by="qp-1",
                               received_at=now.isoformat())
        assert "incident_report_copy:r-1" in service.load(iid).deadlines

    env = {**os.environ, **environ}

    def nimrs(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([NIMRS, *args, "--json"], env=env, capture_output=True, text=True, timeout=120)

    refused = nimrs("records", "copy", "2026-000321", "--request-id", "r-1", "--out", str(tmp_path / "x.pdf"),
                    "--as", "clerk.F-001")
    assert refused.returncode != 0 and "Level 1" in refused.stderr + refused.stdout
    preview = nimrs("records", "copy", "2026-000321", "--request-id", "r-1", "--out", str(tmp_path / "preview.pdf"),
                    "--as", "risk.F-001")
    assert preview.returncode == 0, preview.stderr
    assert set(json.loads(preview.stdout)["labels"]) == {"Client 2", "Employee A", "Witness 1", "Person 1"}
    released = nimrs("records", "release", "2026-000321", "--request-id", "r-1", "--as", "risk.F-001")
    assert released.returncode == 0, released.stderr
    shown = json.loads(released.stdout)
    assert next(c for c in shown["clocks"] if c["name"] == "incident_report_copy:r-1")["status"] == "met_on_time"

    with Runtime(load_settings(environ)) as runtime:
        [event] = [e for e in runtime.service.store.repository.event_store.get(iid)
                   if type(e).__name__ == "RecordsReleased"]
    stored = Path(event.document["location"])
    assert stored.parent == documents and stored.name == f"{event.document['sha256']}.pdf"
    assert hashlib.sha256(stored.read_bytes()).hexdigest() == event.document["sha256"]
    assert event.document["size"] == stored.stat().st_size
    assert event.redactions == {"labels": {"Client 2": "client", "Employee A": "employee", "Witness 1": "witness",
                                           "Person 1": "person"}, "consents": []}
    text = _text(stored)
    assert "C-1042" in text and "re-dissemination" in text.lower()
    for name in (OTHER_CLIENT, STAFF, WITNESS, "Garcia", "Lopez", "Smith", "smith", "Maria", "John", "Mary", "Roe"):
        assert name not in text, name
    assert (tmp_path / "preview.pdf").read_bytes().startswith(b"%PDF") and not (tmp_path / "x.pdf").exists()
