"""The envelope every message travels in, and the registry of message types with their upcasters."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from functools import cache
from typing import Annotated, Any, ClassVar, Literal, TypeVar, Union

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, create_model

Upcaster = Callable[[dict[str, Any]], dict[str, Any]]


class Message(BaseModel):
    """A message payload; commands are named in the imperative, events in the past tense."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    message_type: ClassVar[str]
    schema_version: ClassVar[int] = 1
    upcasters: ClassVar[dict[int, Upcaster]] = {}
    """`upcasters[n]` turns a version-n payload into a version-(n+1) payload."""


class Command(Message):
    """A request for another service to act."""


class Event(Message):
    """Something that happened."""


M = TypeVar("M", bound=type[Message])
_REGISTRY: dict[str, type[Message]] = {}


def message(message_type: str) -> Callable[[M], M]:
    """Register a payload class under its wire name."""

    def register(cls: M) -> M:
        if message_type in _REGISTRY and _REGISTRY[message_type] is not cls:
            raise ValueError(f"message type {message_type!r} registered twice")
        cls.message_type = message_type
        _REGISTRY[message_type] = cls
        return cls

    return register


def registered_types() -> dict[str, type[Message]]:
    """Every registered message type by wire name."""
    return dict(_REGISTRY)


class UnknownMessageType(ValueError):
    """The envelope names a type this service does not know."""


class Envelope(BaseModel):
    """What crosses Kafka: identity, type, version, time, establishment, correlation, payload."""

    model_config = ConfigDict(frozen=True)

    event_id: uuid.UUID = Field(default_factory=uuid.uuid4)
    type: str
    schema_version: int
    occurred_at: datetime = Field(default_factory=lambda: datetime.now(UTC))
    uai: str | None = None
    correlation_id: str | None = None
    payload: dict[str, Any]

    @classmethod
    def wrap(
        cls,
        payload: Message,
        *,
        uai: str | None = None,
        correlation_id: str | None = None,
        event_id: uuid.UUID | None = None,
    ) -> Envelope:
        """Put a payload in a new envelope."""
        return cls(
            event_id=event_id or uuid.uuid4(),
            type=payload.message_type,
            schema_version=payload.schema_version,
            uai=uai,
            correlation_id=correlation_id,
            payload=payload.model_dump(mode="json"),
        )

    def open(self) -> Message:
        """The typed payload, upcast to the current schema version."""
        cls = _REGISTRY.get(self.type)
        if cls is None:
            raise UnknownMessageType(self.type)
        data, version = dict(self.payload), self.schema_version
        while version < cls.schema_version:
            data = cls.upcasters[version](data)
            version += 1
        return cls.model_validate(data)

    def __eq__(self, other: object) -> bool:
        """Equal when the same on the wire (a parsed envelope's payload may be typed, a new one's a dict)."""
        if not isinstance(other, Envelope):
            return NotImplemented
        return self.model_dump(mode="json") == other.model_dump(mode="json")

    def to_bytes(self) -> bytes:
        """Wire form (UTF-8 JSON)."""
        return self.model_dump_json().encode()

    @classmethod
    def from_bytes(cls, raw: bytes) -> Envelope:
        """Parse the wire form: envelope and typed payload in one pass of pydantic's JSON parser when the message
        is of a known type at its current version; otherwise the envelope alone (`open` upcasts, or names the
        unknown type or the invalid field)."""
        try:
            return _typed_envelopes(len(_REGISTRY)).validate_json(raw)  # type: ignore[no-any-return]
        except ValidationError:
            return cls.model_validate_json(raw)  # invalid JSON or fields: ValidationError, a ValueError


def prepare_parsers() -> None:
    """Build the typed envelopes' parsers for every registered type now (a consumer's start), not on its first
    messages."""
    _typed_envelopes(len(_REGISTRY))


@cache
def _typed_envelopes(registered: int) -> TypeAdapter[Any]:
    """One envelope class per registered type, its payload typed, chosen by the `type` field (`registered`, the
    registry's size, rebuilds the adapter when a type is added)."""
    classes = [_typed_envelope(name, cls) for name, cls in _REGISTRY.items()]
    if len(classes) < 2:
        return TypeAdapter(classes[0] if classes else Envelope)
    chosen: Any = Annotated[Union[tuple(classes)], Field(discriminator="type")]  # noqa: UP007
    return TypeAdapter(chosen)


class _TypedEnvelope(Envelope):
    """An envelope parsed with its payload already typed: opening it costs nothing."""

    def open(self) -> Message:
        return self.payload  # type: ignore[return-value]


def _typed_envelope(name: str, cls: type[Message]) -> type[Envelope]:
    wire_name: Any = Literal[name]
    version: Any = Literal[cls.schema_version]
    return create_model(f"Envelope_{cls.__name__}", __base__=_TypedEnvelope, type=(wire_name, ...),
                        schema_version=(version, ...), payload=(cls, ...))
