"""A lean reader of stored events for the projector, equal in result to the library's mapper.

The library decodes JSON with a Python ``object_hook`` called for every object in every event.
A rebuild reads millions of events, so this reader parses with ``orjson`` and converts the
library's transcoded values (``{"_type_": ..., "_data_": ...}``) afterwards, then builds the
same event objects (upcasting old class versions the same way). Decryption and decompression
are the application's own. ``tests/projections/test_decoding.py`` checks that every event
of a generated log decodes to an event equal to the library's.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any
from uuid import UUID

import orjson
from eventsourcing.persistence import Mapper, MapperDeserialisationError, StoredEvent
from eventsourcing.utils import resolve_topic

TRANSCODED: dict[str, Callable[[Any], Any]] = {
    "datetime_iso": datetime.fromisoformat,
    "uuid_hex": UUID,
    "decimal_str": Decimal,
}


def _restore(value: Any) -> Any:
    if isinstance(value, dict):
        if len(value) == 2 and "_type_" in value and "_data_" in value:
            return TRANSCODED[value["_type_"]](value["_data_"])
        return {key: _restore(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_restore(item) for item in value]
    return value


MARK = b'"_type_"'
IDS_KEPT = 100_000  # incident ids read as text, kept as UUIDs


@lru_cache(maxsize=256)
def event_class(topic: str) -> Any:
    return resolve_topic(topic)


class LeanDecoder:
    def __init__(self, mapper: Mapper[Any]) -> None:
        self.mapper = mapper
        self.cipher = mapper.cipher
        self.compressor = mapper.compressor
        self._classes: dict[str, tuple[Any, int]] = {}  # topic: the event class and its version
        self._ids: dict[Any, UUID] = {}

    def _id(self, text: Any) -> UUID:
        if len(self._ids) >= IDS_KEPT:
            self._ids.clear()
        made = self._ids[text] = UUID(str(text))
        return made

    def plaintext(self, data: bytes) -> bytes:
        """The stored JSON, decrypted and decompressed where the application does that."""
        if self.cipher:
            data = self.cipher.decrypt(data)
        if self.compressor:
            data = self.compressor.decompress(data)
        return data

    def __call__(self, stored: StoredEvent) -> Any:
        found = self._classes.get(stored.topic)
        if found is None:
            cls = event_class(stored.topic)
            found = self._classes[stored.topic] = (cls, getattr(cls, "class_version", 1))
        cls, class_version = found
        try:
            data = self.plaintext(stored.state) if self.cipher or self.compressor else stored.state
            state: dict[str, Any] = orjson.loads(data)
            converted = 0
            for key, value in state.items():
                if type(value) is dict and len(value) == 2 and "_type_" in value:
                    state[key] = TRANSCODED[value["_type_"]](value["_data_"])
                    converted += 1
            if converted != data.count(MARK):  # transcoded values nested deeper: walk everything
                state = {key: _restore(value) for key, value in state.items()}
        except Exception as error:
            raise MapperDeserialisationError(
                f"cannot read stored event {stored.originator_id} v{stored.originator_version}: {error}") from error
        originator_id = stored.originator_id
        if type(originator_id) is not UUID:  # read as text (a rebuild's reader): one UUID per incident
            originator_id = self._ids.get(originator_id) or self._id(originator_id)
        state["originator_id"] = originator_id
        state["originator_version"] = stored.originator_version
        from_version = state.pop("class_version", 1)
        while from_version < class_version:
            getattr(cls, f"upcast_v{from_version}_v{from_version + 1}")(state)
            from_version += 1
        event = object.__new__(cls)
        object.__setattr__(event, "__dict__", state)
        return event
