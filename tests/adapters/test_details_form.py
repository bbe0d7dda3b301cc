"""The incident page's form reads what a person typed into the screens' fields: New York times for both moments."""

from adapters.http.pages.details_form import FIELD_LABELS, fields_from_form


def test_the_incident_form_records_when_it_was_discovered_as_new_york_time() -> None:
    fields = fields_from_form("incident", {"occurred_at": "2026-11-19T06:10", "discovered_at": "2026-11-19T06:40",
                                           "location": "", "csrf_token": "x"})
    assert fields == {"occurred_at": "2026-11-19T06:10:00-05:00", "discovered_at": "2026-11-19T06:40:00-05:00"}
    assert "discovered" in FIELD_LABELS["discovered_at"].lower()
