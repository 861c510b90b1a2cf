"""The message envelope, the catalogue of message types and the topic list."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any, ClassVar

import pytest

from teleservices.shared.messages import catalog, topics
from teleservices.shared.messages.catalog import (
    Channel,
    LetterVariant,
    NotificationDelivered,
    Population,
    Recipient,
    SendNotification,
)
from teleservices.shared.messages.envelope import (
    Command,
    Envelope,
    Event,
    Message,
    UnknownMessageType,
    Upcaster,
    message,
    registered_types,
)

TEST_TYPE_PREFIX = f"tests.unit.{uuid.uuid4().hex}."
"""Wire names of the test-only messages: unique, so the process-wide registry is never confused."""


def _upcast_v1(data: dict[str, Any]) -> dict[str, Any]:
    """v1 had one `name`; v2 splits it into `prenom` and `nom`."""
    prenom, _, nom = data.pop("name").partition(" ")
    return {**data, "prenom": prenom, "nom": nom}


def _upcast_v2(data: dict[str, Any]) -> dict[str, Any]:
    """v3 adds the establishment, unknown for old messages."""
    return {**data, "uai": data.get("uai", "inconnu")}


@message(TEST_TYPE_PREFIX + "ParcelWeighed")
class ParcelWeighed(Event):
    """A test-only event at schema version 3."""

    schema_version = 3
    upcasters: ClassVar[dict[int, Upcaster]] = {1: _upcast_v1, 2: _upcast_v2}

    prenom: str
    nom: str
    uai: str


def _send_notification() -> SendNotification:
    return SendNotification(
        notification_id=uuid.uuid4(), account_id=uuid.uuid4(), uai="0750001A",
        population=Population.responsable, channel=Channel.email, variant=LetterVariant.nouveau_compte,
        identifiant="philippe.dupont1",
        establishment_name="Collège Jean Moulin", services_url="https://services.example/",
        recipient=Recipient(civilite="M.", nom="Dupont", prenom="Philippe", email="p.dupont@example.org",
                            address_lines=("3 rue des Lilas", "75011 Paris")),
        sealed_password="c2VhbGVk",
    )


def _catalogue_classes() -> dict[str, type[Message]]:
    """The platform's own message types (the test-only ones above left out)."""
    return {name: cls for name, cls in registered_types().items() if not name.startswith(TEST_TYPE_PREFIX)}


# --- envelope --------------------------------------------------------------------------------------------


def test_envelope_round_trips_through_bytes_and_opens_to_the_same_payload() -> None:
    payload = _send_notification()
    envelope = Envelope.wrap(payload, uai="0750001A", correlation_id="campagne-42")

    received = Envelope.from_bytes(envelope.to_bytes())

    assert received == envelope
    assert received.type == "notifier.SendNotification"
    assert received.schema_version == 1
    opened = received.open()
    assert type(opened) is SendNotification
    assert opened == payload


def test_wrap_keeps_identity_and_context() -> None:
    event_id = uuid.uuid4()
    delivered = NotificationDelivered(notification_id=uuid.uuid4(), account_id=uuid.uuid4(),
                                      channel=Channel.paper, delivered_at=datetime(2025, 9, 1, 8, tzinfo=UTC))

    envelope = Envelope.wrap(delivered, uai="0750001A", correlation_id="c-1", event_id=event_id)

    assert (envelope.event_id, envelope.uai, envelope.correlation_id) == (event_id, "0750001A", "c-1")
    assert envelope.occurred_at.tzinfo is not None
    assert Envelope.from_bytes(envelope.to_bytes()).open() == delivered


def test_each_new_envelope_gets_its_own_event_id() -> None:
    payload = _send_notification()
    assert Envelope.wrap(payload).event_id != Envelope.wrap(payload).event_id


def test_wire_form_is_utf8_json() -> None:
    raw = Envelope.wrap(_send_notification(), uai="0750001A").to_bytes()
    decoded = json.loads(raw.decode("utf-8"))
    assert decoded["type"] == "notifier.SendNotification"
    assert decoded["uai"] == "0750001A"
    assert decoded["payload"]["establishment_name"] == "Collège Jean Moulin"


def test_a_parsed_envelope_opens_to_a_payload_equal_to_the_one_sent_and_parses_again_the_same() -> None:
    payload = _send_notification()
    envelope = Envelope.wrap(payload, uai="0750001A")

    received = Envelope.from_bytes(envelope.to_bytes())

    assert received.open() == payload
    assert received.to_bytes() == envelope.to_bytes()
    assert Envelope.from_bytes(received.to_bytes()) == envelope


def test_a_payload_invalid_for_its_type_parses_as_an_envelope_and_opening_it_names_the_field() -> None:
    raw = json.loads(Envelope.wrap(_send_notification()).to_bytes())
    raw["payload"]["channel"] = "pigeon"

    received = Envelope.from_bytes(json.dumps(raw).encode())

    with pytest.raises(ValueError, match="channel"):
        received.open()


def test_opening_an_unknown_type_raises() -> None:
    envelope = Envelope(type=TEST_TYPE_PREFIX + "NeverRegistered", schema_version=1, payload={})
    with pytest.raises(UnknownMessageType):
        envelope.open()


def test_old_payload_is_upcast_through_every_step() -> None:
    v1 = Envelope(type=ParcelWeighed.message_type, schema_version=1, payload={"name": "Éloïse N'Diaye"})

    opened = Envelope.from_bytes(v1.to_bytes()).open()

    assert opened == ParcelWeighed(prenom="Éloïse", nom="N'Diaye", uai="inconnu")


def test_version_2_payload_takes_only_the_last_step() -> None:
    v2 = Envelope(type=ParcelWeighed.message_type, schema_version=2,
                  payload={"prenom": "Jean", "nom": "Le Gall", "uai": "0290001B"})
    assert v2.open() == ParcelWeighed(prenom="Jean", nom="Le Gall", uai="0290001B")


def test_current_version_payload_is_not_upcast() -> None:
    current = ParcelWeighed(prenom="Jean", nom="Le Gall", uai="0290001B")
    envelope = Envelope.wrap(current)
    assert envelope.schema_version == 3
    assert envelope.open() == current


def test_registering_two_classes_under_one_name_raises() -> None:
    name = TEST_TYPE_PREFIX + "Duplicated"

    @message(name)
    class First(Event):
        pass

    with pytest.raises(ValueError, match="registered twice"):
        @message(name)
        class Second(Event):
            pass

    assert registered_types()[name] is First


def test_registering_the_same_class_twice_is_harmless() -> None:
    name = TEST_TYPE_PREFIX + "Reregistered"

    @message(name)
    class Once(Event):
        pass

    assert message(name)(Once) is Once
    assert registered_types()[name] is Once


# --- catalogue -------------------------------------------------------------------------------------------


def test_catalogue_registers_its_messages_under_their_own_names() -> None:
    classes = _catalogue_classes()
    assert {cls for cls in vars(catalog).values() if isinstance(cls, type) and issubclass(cls, Message)
            and cls not in (Message, Command, Event)} <= set(classes.values())
    for name, cls in classes.items():
        assert cls.message_type == name
        assert name.rsplit(".", 1)[-1] == cls.__name__


def test_every_message_is_a_command_or_an_event() -> None:
    for name, cls in _catalogue_classes().items():
        assert issubclass(cls, Command) != issubclass(cls, Event), name


def test_commands_are_named_in_the_imperative() -> None:
    commands = [cls.__name__ for cls in _catalogue_classes().values() if issubclass(cls, Command)]
    assert commands, "the catalogue has commands"
    assert [name for name in commands if name.endswith("ed")] == []


def test_events_are_named_in_the_past_tense() -> None:
    events = [cls.__name__ for cls in _catalogue_classes().values() if issubclass(cls, Event)]
    assert events, "the catalogue has events"
    irregular = ("Left", "LoggedIn")  # past tenses that do not end in -ed
    assert [name for name in events if not name.endswith(("ed", *irregular))] == []


# --- topics ----------------------------------------------------------------------------------------------


def test_topic_names_are_unique_and_every_topic_has_partitions() -> None:
    names = [topic.name for topic in topics.ALL_TOPICS]
    assert len(names) == len(set(names))
    assert all(topic.partitions > 0 for topic in topics.ALL_TOPICS)


def test_all_topics_lists_every_topic_of_the_module() -> None:
    declared = {value for value in vars(topics).values() if isinstance(value, topics.Topic)}
    assert declared == set(topics.ALL_TOPICS)


def test_full_name_adds_the_prefix() -> None:
    assert topics.NOTIFIER_JOBS.full_name() == "notifier.jobs"
    assert topics.NOTIFIER_JOBS.full_name("t1234.") == "t1234.notifier.jobs"
    prefixed = {topic.full_name("tenant.") for topic in topics.ALL_TOPICS}
    assert len(prefixed) == len(topics.ALL_TOPICS)
    assert all(name.startswith("tenant.") for name in prefixed)
