"""Every email the notifier sends carries the data-protection notice; staff text is sent as typed."""

from __future__ import annotations

import uuid
from email.message import Message

import pytest

from teleservices.notifier import letters
from teleservices.shared.letters import CNIL_MENTION
from teleservices.shared.messages.catalog import (
    Channel,
    LetterVariant,
    Population,
    Recipient,
    SendActivationEmail,
    SendFreeEmail,
    SendNotification,
)

SENDER, DOMAIN = "Scolarité services <ne-pas-repondre@exemple.fr>", "exemple.fr"
IDS = {"notification_id": uuid.uuid4(), "account_id": uuid.uuid4(), "uai": "0540001A"}


def _text(email: Message) -> str:
    part = next(p for p in email.walk() if p.get_content_type() == "text/plain")
    payload = part.get_payload(decode=True)
    assert isinstance(payload, bytes)
    return payload.decode(part.get_content_charset() or "utf-8")


def _notification() -> Message:
    return letters.render_email(SendNotification(
        **IDS, population=Population.responsable, channel=Channel.email, variant=LetterVariant.nouveau_compte,
        identifiant="claire.dupont1", establishment_name="Collège Langevin Wallon",
        services_url="https://scolarite.exemple.fr", recipient=Recipient(nom="Dupont", prenom="Claire",
                                                                           email="claire@exemple.fr"),
        eleve_nom="Dupont", eleve_prenom="Léa", division="5B"), "k7m2p9x4", SENDER, DOMAIN)


def _activation() -> Message:
    return letters.render_activation_email(SendActivationEmail(
        **IDS, identifiant="claire.dupont1", establishment_name="Collège Langevin Wallon",
        email="claire@exemple.fr", activation_url="https://scolarite.exemple.fr/activation?jeton=abc"), SENDER, DOMAIN)


def _free() -> Message:
    return letters.render_free_email(SendFreeEmail(
        **IDS, establishment_name="Collège Langevin Wallon", reply_to=None, email="claire@exemple.fr",
        subject="Réunion", body="Jeudi 18 h. {{ pas un modèle }} [Nom]"), SENDER, DOMAIN)


@pytest.mark.parametrize("render", [_notification, _activation, _free])
def test_every_email_carries_the_data_protection_notice(render: object) -> None:
    text = _text(render())  # type: ignore[operator]
    assert CNIL_MENTION in text.replace("\r\n", "\n")
    assert "responsable du traitement" in text and "www.cnil.fr" in text


def test_a_free_email_is_sent_as_typed() -> None:
    assert "Jeudi 18 h. {{ pas un modèle }} [Nom]" in _text(_free())
