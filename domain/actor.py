"""Who did something: recorded on every event."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from domain.errors import ValidationFailed
from domain.vocabulary import Level


@dataclass(frozen=True)
class Actor:
    user_id: str
    facility: str
    level: Level
    # A state reviewer (NIMRS FAQ) reads every facility; it never changes what the actor may write
    # and is not recorded on events (``as_dict``).
    state_reviewer: bool = field(default=False, compare=False)

    def __post_init__(self) -> None:
        if not self.user_id or not self.facility:
            raise ValidationFailed("an actor needs a user id and a facility")
        object.__setattr__(self, "level", Level(self.level))

    def as_dict(self) -> dict[str, Any]:
        return {"user_id": self.user_id, "facility": self.facility, "level": int(self.level)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Actor:
        return cls(str(data["user_id"]), str(data["facility"]), Level(int(data["level"])))
