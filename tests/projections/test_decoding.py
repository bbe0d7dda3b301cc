"""The projector's lean reader decodes every stored event exactly as the library's mapper does."""

from __future__ import annotations

from base64 import b64encode
from datetime import datetime, timezone
from uuid import uuid4

from adapters.bootstrap import open_service
from adapters.settings import load_settings
from adapters.tooling.synthetic import Generator, Plan
from projections.decoding import LeanDecoder

KEY = b64encode(b"k" * 32).decode()


def test_every_event_of_a_generated_log_decodes_as_the_library_does(tmp_path) -> None:  # type: ignore[no-untyped-def]
    for environ in ({}, {"NIMRS_CIPHER_KEY": KEY}):  # plain, and encrypted and compressed at rest
        url = f"sqlite:///{tmp_path}/{len(environ)}.db"
        service = open_service(load_settings({"NIMRS_DATABASE_URL": url, **environ}))
        for batch in Generator(Plan(incidents=80, end=datetime(2026, 3, 1, tzinfo=timezone.utc), seed=1))._batches():
            service.store.save(*batch)
        notifications = service.store.recorder.select_notifications(0, 10_000)
        lean = LeanDecoder(service.store.mapper)
        assert len(notifications) > 800
        for notification in notifications:
            ours, theirs = lean(notification), service.store.mapper.to_domain_event(notification)
            assert type(ours) is type(theirs) and vars(ours) == vars(theirs)
        service.store.close()


def test_transcoded_values_nested_anywhere_are_restored(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from domain.incident import Incident

    service = open_service(load_settings({"NIMRS_DATABASE_URL": f"sqlite:///{tmp_path}/n.db"}))
    moment = datetime(2026, 3, 1, 9, tzinfo=timezone.utc)
    event = Incident.DetailsRecorded(originator_id=uuid4(), originator_version=2, timestamp=moment,
                                     actor={"user_id": "u", "facility": "F", "level": 1}, screen="incident",
                                     fields={"nested": [{"at": moment, "id": uuid4()}]})
    stored = service.store.mapper.to_stored_event(event)
    assert vars(LeanDecoder(service.store.mapper)(stored)) == vars(service.store.mapper.to_domain_event(stored))
    service.store.close()
