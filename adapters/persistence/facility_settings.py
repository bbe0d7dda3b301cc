"""Facility settings in SQL, beside the events: an append-only history per facility and kind
(``workflows.facilities``). Values are JSON; alert rules name people's addresses, so values are encrypted
when a key is set."""

from __future__ import annotations

from typing import Any

import orjson
from sqlalchemy import insert, select
from sqlalchemy.engine import Engine

from adapters.persistence.schema import facility_settings
from projections.encryption import PLAIN, FieldCipher
from workflows.facilities import FacilitySetting, SettingKind


class SqlFacilitySettings:
    def __init__(self, engine: Engine, cipher: FieldCipher = PLAIN) -> None:
        self.engine, self.cipher = engine, cipher

    def _setting(self, row: Any) -> FacilitySetting:
        return FacilitySetting(row.facility, SettingKind(row.kind), orjson.loads(self.cipher.decrypt(row.value)),
                               row.set_by, row.set_at, self.cipher.decrypt(row.reason))

    def latest(self, facility: str, kind: SettingKind) -> FacilitySetting | None:
        c = facility_settings.c
        with self.engine.connect() as connection:
            row = connection.execute(select(facility_settings).where(c.facility == facility, c.kind == kind.value)
                                     .order_by(c.entry.desc()).limit(1)).first()
        return self._setting(row) if row is not None else None

    def history(self, facility: str, kind: SettingKind) -> list[FacilitySetting]:
        c = facility_settings.c
        with self.engine.connect() as connection:
            rows = connection.execute(select(facility_settings).where(c.facility == facility, c.kind == kind.value)
                                      .order_by(c.entry)).all()
        return [self._setting(row) for row in rows]

    def record(self, setting: FacilitySetting) -> None:
        with self.engine.begin() as connection:
            connection.execute(insert(facility_settings).values(
                facility=setting.facility, kind=setting.kind.value,
                value=self.cipher.encrypt(orjson.dumps(setting.value).decode()), set_by=setting.set_by,
                set_at=setting.set_at, reason=self.cipher.encrypt(setting.reason)))
