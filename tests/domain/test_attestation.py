"""Email OMH, the Report of Death and Close record whether the acting user attested them with the password."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from domain.incident import Incident
from domain.lifecycle import Step
from tests.conftest import L1
from tests.domain.test_lifecycle import T0, filled, received, then

ATTESTABLE = (Incident.EmailedToOmh, Incident.ReportOfDeathSubmitted, Incident.Closed)


@pytest.mark.parametrize("attested", [True, False, None], ids=["attested", "not attested", "not said"])
def test_each_attestable_step_records_whether_it_was_attested(attested: bool | None) -> None:
    incident = filled(then(received("death.suicide"), Step.IMPORT_REPORT))
    said: dict[str, Any] = {} if attested is None else {"attested": attested}
    incident.email_omh(L1, T0 + timedelta(hours=1), **said)
    incident.submit_report_of_death(L1, T0 + timedelta(hours=2), **said)
    incident.start_investigation(L1, T0 + timedelta(hours=3))
    incident.document_findings(L1, T0 + timedelta(hours=4), "Reviewed; care met standards.")
    incident.close(L1, T0 + timedelta(hours=5), **said)
    recorded = [e for e in incident.collect_events() if isinstance(e, ATTESTABLE)]
    assert [(type(e), e.attested) for e in recorded] == [(cls, attested is True) for cls in ATTESTABLE]


def test_a_version_1_event_is_upcast_to_not_attested() -> None:
    for cls in ATTESTABLE:
        assert cls.class_version == 2
        state: dict[str, Any] = {"to_state": "closed"}
        cls.upcast_v1_v2(state)
        assert state == {"to_state": "closed", "attested": False}
