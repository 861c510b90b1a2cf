"""The difference between what the platform holds and a new export, as the events the import emits."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from teleservices.shared.messages.envelope import Message
from teleservices.shared.messages.siecle import (
    EleveArrived,
    EleveChanged,
    EleveLeft,
    LienAdded,
    LienChanged,
    LienRemoved,
    PersonneChanged,
)
from teleservices.sync.domain.snapshot import Snapshot


@dataclass
class Difference:
    """One establishment's changes, in the order the accounts service must apply them."""

    uai: str
    changes: list[Message] = field(default_factory=list)
    moved: int = 0
    """Pupils who changed division within the establishment (they are among the EleveChanged)."""

    def counts(self) -> dict[str, int]:
        """How many changes of each kind (the report's figures)."""
        kinds = Counter(KIND[type(change)] for change in self.changes)
        return {**{kind: kinds.get(kind, 0) for kind in KIND.values()}, "eleves_changes_de_division": self.moved}

    @property
    def removed_pupils(self) -> int:
        """Pupils who leave with this import."""
        return sum(1 for c in self.changes if isinstance(c, EleveLeft))

    def __bool__(self) -> bool:
        return bool(self.changes)


KIND: dict[type[Message], str] = {
    EleveArrived: "eleves_arrives", EleveChanged: "eleves_modifies", EleveLeft: "eleves_partis",
    PersonneChanged: "personnes_nouvelles_ou_modifiees", LienAdded: "liens_ajoutes", LienChanged: "liens_modifies",
    LienRemoved: "liens_supprimes",
}


def difference(uai: str, held: Snapshot, new: Snapshot, continuity: dict[str, str] | None = None) -> Difference:
    """Persons first, then arrivals and changes, then links, then departures: each event finds what it names.

    `continuity` maps an arriving pupil's id to the establishment he certainly comes from.
    """
    continuity = continuity or {}
    diff = Difference(uai)
    add = diff.changes.append
    for personne_id, personne in new.personnes.items():
        if held.personnes.get(personne_id) != personne:
            add(PersonneChanged(uai=uai, personne=personne))
    for eleve_id, eleve in new.eleves.items():
        before = held.eleves.get(eleve_id)
        if before is None:
            add(EleveArrived(uai=uai, eleve=eleve, continuity_from=continuity.get(eleve_id)))
        elif before != eleve:
            add(EleveChanged(uai=uai, eleve=eleve))
            diff.moved += before.division != eleve.division
    for key, niveau in new.liens.items():
        if key not in held.liens:
            add(LienAdded(uai=uai, eleve_id=key[0], personne_id=key[1], niveau_responsabilite=niveau))
        elif held.liens[key] != niveau:
            add(LienChanged(uai=uai, eleve_id=key[0], personne_id=key[1], niveau_responsabilite=niveau))
    for key in held.liens.keys() - new.liens.keys():
        if key[0] in new.eleves:
            add(LienRemoved(uai=uai, eleve_id=key[0], personne_id=key[1]))
    for eleve_id in sorted(held.eleves.keys() - new.eleves.keys()):
        add(EleveLeft(uai=uai, eleve_id=eleve_id))
    return diff
