from datetime import timedelta
from uuid import UUID

from adapters.tooling.samples import complete_details, vpcr_report
from tests.conftest import L2
from workflows.service import IncidentService


def received(service: IncidentService, case: str = "2026-000101", code: str = "an.physical-abuse",
             setting: str = "inpatient", facility: str = "F-001", days_ago: float = 0) -> UUID:
    report = vpcr_report(case, service.clock() - timedelta(days=days_ago), code=code, setting=setting, facility=facility)
    return service.receive_vpcr_report(L2, report)[0]


def fill(service: IncidentService, iid: UUID, **facts: object) -> None:
    start = service.load(iid).clock_start
    for screen, fields in complete_details(start - timedelta(hours=1), discovered=True, **facts):  # type: ignore[arg-type]
        service.record_details(L2, iid, screen, fields)


def draft(service: IncidentService, case: str = "2026-000101", code: str = "an.physical-abuse",
          setting: str = "inpatient", **facts: object) -> UUID:
    iid = received(service, case, code, setting)
    service.import_report(L2, iid)
    fill(service, iid, **facts)
    return iid
