"""Mass notification: which letter goes by which channel to whom (guide §3.1, §4.1; DSI slides §2.1–2.2)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from teleservices.accounts.domain.model import ActionRefused
from teleservices.shared.messages.catalog import Channel, Population

CHUNK_SIZE = 200
"""Accounts per notifier job: a division is split into jobs of at most this many letters."""


class Mode(StrEnum):
    """« Mode de transmission » (guide §3.1)."""

    email_et_papier = "Courrier électronique et courrier papier"
    email = "Courrier électronique seul"
    papier = "Courrier papier seul"


@dataclass(frozen=True)
class Routing:
    """How one selected account is notified, or why it cannot be."""

    channel: Channel | None
    failure: str | None = None


def route(population: Population, mode: Mode, email: str | None) -> Routing:
    """The channel for one account: email where known in the mixed mode, pupils always on paper."""
    if population is Population.eleve:
        if mode is not Mode.papier:
            raise ActionRefused("mode", "les élèves sont notifiés par courrier papier uniquement")
        return Routing(Channel.paper)
    if mode is Mode.papier:
        return Routing(Channel.paper)
    if email:
        return Routing(Channel.email)
    if mode is Mode.email:
        return Routing(None, "aucune adresse de messagerie (mode « courrier électronique seul »)")
    return Routing(Channel.paper)


def chunks(items: list[str], size: int = CHUNK_SIZE) -> list[list[str]]:
    """Split a division's accounts into jobs of at most `size`."""
    return [items[i:i + size] for i in range(0, len(items), size)]
