"""What changes between two exports of one establishment (moves, departures, arrivals…), and the exact differences.

A modification edits the population in place, drawing from its own random generator: replaying the same
modifications on the same population gives the same result, so a modified export is rebuilt from its parameters.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import astuple, dataclass
from datetime import timedelta

from teleservices.sync.demo import referentiel as ref
from teleservices.sync.demo.people import Builder, Person, Pupil
from teleservices.sync.demo.population import Population

DAYS_BETWEEN_EXPORTS = 14
"""Each modified export is dated two weeks after the one it modifies."""


@dataclass(frozen=True, slots=True)
class Modification:
    """How many changes of each kind, and the seed that picks them."""

    seed: int
    moves: int = 0
    departures: int = 0
    arrivals: int = 0
    name_changes: int = 0
    email_changes: int = 0
    links_removed: int = 0
    links_added: int = 0

    def encode(self) -> str:
        """The modification as `seed:moves:departures:…` (kept in the export's comment)."""
        return ":".join(str(value) for value in astuple(self))

    @classmethod
    def decode(cls, text: str) -> Modification:
        """Back from `encode`."""
        return cls(*(int(value) for value in text.split(":")))


@dataclass(frozen=True, slots=True)
class Snapshot:
    """What the parser will see of a population, by id: enough to compute the differences between two exports."""

    divisions: dict[str, str]
    parti: frozenset[str]
    names: dict[str, tuple[str, str, str]]
    emails: dict[str, str | None]
    links: frozenset[tuple[str, str]]


def snapshot(population: Population) -> Snapshot:
    """The population as the parser reads it on its export day (nom_usage falls back to the family name)."""
    today = population.date_export
    return Snapshot(
        divisions={pupil.eleve_id: pupil.division for pupil in population.pupils},
        parti=frozenset(pupil.eleve_id for pupil in population.pupils if pupil.parti(today)),
        names={pupil.eleve_id: (pupil.nom, pupil.nom_usage or pupil.nom, pupil.prenom) for pupil in population.pupils},
        emails={person.personne_id: person.email for person in population.persons},
        links=frozenset((link.pupil.eleve_id, link.person.personne_id) for link in population.links),
    )


def apply(population: Population, modification: Modification, index: int) -> None:
    """Apply the `index`-th modification of this population; ValueError when there are not enough candidates."""
    rng = random.Random(  # noqa: S311 - fictional data, not a secret
        f"teleservices-demo:{population.seed}:{population.uai}:modification:{index}:{modification.seed}")
    builder = Builder(population, rng)
    before = population.date_export
    population.date_export = before + timedelta(days=DAYS_BETWEEN_EXPORTS)
    active = [pupil for pupil in population.pupils if not pupil.parti(before)]
    rng.shuffle(active)
    codes = {level: [division.code for division in population.divisions_of(level)] for level in range(4)}
    touched: set[int] = set()
    for pupil in _take(active, modification.moves, "changements de division", touched,
                       lambda pupil: len(codes[pupil.level]) > 1):
        pupil.division = rng.choice([code for code in codes[pupil.level] if code != pupil.division])
    for pupil in _take(active, modification.departures, "départs", touched):
        pupil.date_sortie = before + timedelta(days=rng.randint(1, DAYS_BETWEEN_EXPORTS - 1))
    for pupil in _take(active, modification.name_changes, "changements de nom", touched):
        _rename(pupil, rng)
    known = list(population.persons)
    _remove_links(population, rng, active, modification.links_removed)
    for pupil in rng.sample(active, _enough(active, modification.links_added, "liens ajoutés")):
        grand = builder.person(rng.random() < 0.4, pupil.nom, None, builder.address_id(builder.home()), elder=True)
        builder.link(pupil, grand, "38", 3, False, first=False)
    lv2 = [group for group in population.groups if group.kind == "lv2"]
    for _ in range(modification.arrivals):
        level = rng.randrange(4)
        arrival = before + timedelta(days=rng.randint(1, DAYS_BETWEEN_EXPORTS - 1))
        for pupil in builder.family([level], date_entree=arrival):
            pupil.division = rng.choice(codes[level])
            if groups := [group.code for group in lv2 if level in group.levels]:
                pupil.groupes.append(rng.choice(groups))
    population.assign_ids(rng)
    present = {id(person) for person in population.persons}
    kept = [person for person in known if id(person) in present]
    for person in rng.sample(kept, _enough(kept, modification.email_changes, "changements d'adresse électronique")):
        _change_email(person, builder)


def _take(candidates: list[Pupil], count: int, what: str, touched: set[int],
          allowed: Callable[[Pupil], bool] | None = None) -> list[Pupil]:
    """The first `count` candidates not yet changed otherwise (each pupil changes in one way at most)."""
    taken: list[Pupil] = []
    for pupil in candidates:
        if len(taken) == count:
            break
        if id(pupil) not in touched and (allowed is None or allowed(pupil)):
            taken.append(pupil)
            touched.add(id(pupil))
    if len(taken) < count:
        raise ValueError(f"impossible de faire {count} {what} : seulement {len(taken)} élève(s) s'y prêtent")
    return taken


def _enough(candidates: list[Pupil] | list[Person], count: int, what: str) -> int:
    if count > len(candidates):
        raise ValueError(f"impossible de faire {count} {what} : seulement {len(candidates)} candidat(s)")
    return count


def _rename(pupil: Pupil, rng: random.Random) -> None:
    """A usage name added or changed, or a compound first name: what the parser reads always differs."""
    if rng.random() < 0.5:
        usage = pupil.nom_usage or pupil.nom
        while (pupil.nom_usage or pupil.nom) == usage:
            pupil.nom_usage = f"{pupil.nom}-{rng.choice(ref.SURNAMES)}"
    else:
        pupil.prenom = f"{pupil.prenom}-{rng.choice(ref.GIRLS if pupil.sexe == 2 else ref.BOYS)}"


def _remove_links(population: Population, rng: random.Random, active: list[Pupil], count: int) -> None:
    """Remove contacts first, then a second legal representative: every pupil keeps one; persons left alone go."""
    present = {id(pupil) for pupil in active}
    legal: dict[int, int] = {}
    for link in population.links:
        if link.niveau == 1:
            legal[id(link.pupil)] = legal.get(id(link.pupil), 0) + 1
    eligible = [link for link in population.links if id(link.pupil) in present and link.code_parente != "70"]
    rng.shuffle(eligible)
    eligible.sort(key=lambda link: link.niveau == 1)
    removed: set[int] = set()
    for link in eligible:
        if len(removed) == count:
            break
        if link.niveau == 1:
            if legal[id(link.pupil)] < 2:
                continue
            legal[id(link.pupil)] -= 1
        removed.add(id(link))
    if len(removed) < count:
        raise ValueError(f"impossible de retirer {count} liens : seulement {len(removed)} sans laisser d'élève "
                         f"sans représentant légal")
    population.links[:] = [link for link in population.links if id(link) not in removed]
    linked = {id(link.person) for link in population.links}
    population.persons[:] = [person for person in population.persons if id(person) in linked]


def _change_email(person: Person, builder: Builder) -> None:
    old = person.email
    while person.email == old:
        person.email = builder.email(person.prenom, person.nom_usage or person.nom)
