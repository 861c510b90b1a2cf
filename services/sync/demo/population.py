"""The fictional establishment behind a demo export: pupils, persons, their links, divisions and groups.

Everything comes from one `random.Random` seeded by (seed, UAI), so a population is rebuilt identically from its
parameters; the writer only turns it into XML and the modifications (`changes`) only edit it.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from datetime import date, timedelta

from teleservices.sync.demo import referentiel as ref
from teleservices.sync.demo.people import SANS_FIN, Address, Builder, Link, Person, Previous, Pupil, rentree, uai_key

MAX_INES = 10_000
"""INEs are made from the UAI and a 4-digit rank (arrivals included): unique academy-wide, 10,000 per establishment."""
MAX_PUPILS = 9000
"""Room is left for arrivals in modified exports."""
DIVISION_SIZE = 28
LV2_GROUP_SIZE = 26
LATIN_GROUP_SIZE = 30
FORCED_FAMILIES = (("separes", 1), ("couple", 3), ("accueil", 1), ("couple", 2))
"""The first families of every establishment, so the quirks exist whatever the seed."""

__all__ = ["Address", "Division", "Group", "Link", "Person", "Population", "Previous", "Pupil", "generate"]


@dataclass(frozen=True, slots=True)
class Division:
    """A class of Structures.xml; `level` 0 is 6e, 3 is 3e."""

    code: str
    libelle: str
    level: int


@dataclass(frozen=True, slots=True)
class Group:
    """A teaching group of Structures.xml (its divisions are those of its members)."""

    code: str
    libelle: str
    levels: tuple[int, ...]
    kind: str
    """lv2, latin, choeur or ulis."""


@dataclass(eq=False)
class Population:
    """One establishment: what the four files of its export hold."""

    uai: str
    annee: int
    date_export: date
    seed: int
    pupils: list[Pupil] = field(default_factory=list)
    persons: list[Person] = field(default_factory=list)
    links: list[Link] = field(default_factory=list)
    addresses: dict[str, Address] = field(default_factory=dict)
    """ADRESSES of the responsables file, by ADRESSE_ID."""
    pupil_addresses: dict[str, Address] = field(default_factory=dict)
    """ADRESSES of the pupils file, by ADRESSE_ID."""
    divisions: list[Division] = field(default_factory=list)
    groups: list[Group] = field(default_factory=list)
    next_eleve_id: int = 0
    next_personne_id: int = 0
    next_adresse_id: int = 0
    next_elenoet: int = 0
    next_ine: int = 0

    @property
    def rentree(self) -> date:
        """The first school day of the school year."""
        return rentree(self.annee)

    def assign_ids(self, rng: random.Random) -> None:
        """Give ids to the pupils and persons that have none yet, in list order (ids grow, with gaps)."""
        for pupil in self.pupils:
            if not pupil.eleve_id:
                self.next_eleve_id += rng.randint(1, 3)
                self.next_elenoet += 1
                pupil.eleve_id, pupil.elenoet = str(self.next_eleve_id), str(self.next_elenoet)
                if pupil.ine is None:
                    if self.next_ine >= MAX_INES:
                        raise ValueError(f"plus de {MAX_INES} INE pour l'établissement {self.uai}")
                    pupil.ine = _ine(self.uai, self.next_ine, rng)
                    self.next_ine += 1
        for person in self.persons:
            if not person.personne_id:
                self.next_personne_id += rng.randint(1, 4)
                person.personne_id = str(self.next_personne_id)

    def divisions_of(self, level: int) -> list[Division]:
        """The divisions of one level, in order."""
        return [division for division in self.divisions if division.level == level]


def generate(uai: str, pupils: int, seed: int, annee: int, date_export: date) -> Population:
    """Build the establishment: families first (siblings share their persons), then divisions, groups and quirks."""
    rng = random.Random(f"teleservices-demo:{seed}:{uai}")  # noqa: S311 - fictional data, not a secret
    population = Population(uai, annee, date_export, seed, next_eleve_id=rng.randrange(1_000_000, 8_000_000),
                            next_personne_id=rng.randrange(1_000_000, 8_000_000),
                            next_adresse_id=rng.randrange(100_000, 800_000), next_elenoet=rng.randrange(1000, 5000))
    builder = Builder(population, rng)
    remaining = [pupils // 4 + (level < pupils % 4) for level in range(4)]
    adults = min(remaining[3] // 4, max(2, pupils // 500))
    for rank in range(adults):
        remaining[3] -= 1
        builder.family([3], "couple", adult=True, self_link=rank % 2 == 0)
    forced = list(FORCED_FAMILIES)
    while sum(remaining):
        kind, size = forced.pop(0) if forced else (None, rng.choices((1, 2, 3), (68, 25, 7))[0])
        builder.family(_pick_levels(rng, remaining, size), kind)
    rng.shuffle(population.pupils)
    rng.shuffle(population.persons)
    population.assign_ids(rng)
    _make_divisions(population, rng, [pupils // 4 + (level < pupils % 4) for level in range(4)])
    _make_groups(population, rng)
    _add_quirks(population, rng, builder)
    return population


def _pick_levels(rng: random.Random, remaining: list[int], size: int) -> list[int]:
    levels: list[int] = []
    for _ in range(min(size, sum(remaining))):
        open_levels = [level for level in range(4) if remaining[level] and level not in levels]
        open_levels = open_levels or [level for level in range(4) if remaining[level]]  # twins
        level = rng.choices(open_levels, [remaining[level] for level in open_levels])[0]
        remaining[level] -= 1
        levels.append(level)
    return levels


def _make_divisions(population: Population, rng: random.Random, per_level: list[int]) -> None:
    counts = [max(1, math.ceil(count / DIVISION_SIZE)) if count else 0 for count in per_level]
    letters = rng.random() < 0.6 and max(counts) <= 26
    for level, count in enumerate(counts):
        grade = ref.GRADES[level]
        for rank in range(count):
            if letters:
                code, libelle = f"{grade} {chr(65 + rank)}", f"{grade}ÈME {chr(65 + rank)}"
            else:
                code, libelle = f"{grade}{rank + 1:02d}", f"{grade}ÈME {rank + 1}"
            population.divisions.append(Division(code, libelle, level))
        members = [pupil for pupil in population.pupils if pupil.level == level]
        rng.shuffle(members)
        divisions = population.divisions_of(level)
        for index, pupil in enumerate(members):
            pupil.division = divisions[index % len(divisions)].code


def _make_groups(population: Population, rng: random.Random) -> None:
    groups: dict[str, Group] = {}
    order = {division.code: rank for rank, division in enumerate(population.divisions)}

    def join(members: list[Pupil], size: int, make: tuple[str, str, tuple[int, ...], str]) -> None:
        code, libelle, levels, kind = make
        chunks = max(1, math.ceil(len(members) / size)) if members else 0
        width = math.ceil(len(members) / chunks) if chunks else 0
        for chunk in range(chunks):
            suffix = f"{chunk + 1}" if chunks > 1 else ""
            group = groups.setdefault(code + suffix, Group(code + suffix, f"{libelle} {suffix}".strip(), levels, kind))
            for pupil in members[chunk * width:(chunk + 1) * width]:
                pupil.groupes.append(group.code)

    italiens: list[Pupil] = []
    for level in (1, 2, 3):
        grade = ref.GRADES[level]
        members = sorted((pupil for pupil in population.pupils if pupil.level == level),
                         key=lambda pupil: order[pupil.division])
        by_language: dict[str, list[Pupil]] = {"ESP": [], "ALL": [], "ITA": []}
        for pupil in members:
            by_language[rng.choices(("ESP", "ALL", "ITA"), (70, 25, 5))[0]].append(pupil)
            pupil.latin = rng.random() < 0.18
        join(by_language["ESP"], LV2_GROUP_SIZE, (f"{grade}ESP", f"ESPAGNOL LV2 {grade}ÈME", (level,), "lv2"))
        join(by_language["ALL"], LV2_GROUP_SIZE, (f"{grade}ALL", f"ALLEMAND LV2 {grade}ÈME", (level,), "lv2"))
        if level == 1:
            join(by_language["ITA"], 40, ("5ITA", "ITALIEN LV2 5ÈME", (1,), "lv2"))
        else:
            italiens += by_language["ITA"]
        latinistes = [pupil for pupil in members if pupil.latin]
        join(latinistes, LATIN_GROUP_SIZE, (f"{grade}LATIN", f"LATIN {grade}ÈME", (level,), "latin"))
    join(italiens, 40, ("4/3 ITA", "ITALIEN LV2 4E/3E", (2, 3), "lv2"))
    everyone = sorted(population.pupils, key=lambda pupil: order[pupil.division])
    join([pupil for pupil in everyone if rng.random() < 0.04], 200, ("CHŒUR", "CHORALE DU COLLÈGE", (0, 1, 2, 3),
                                                                     "choeur"))
    join([pupil for pupil in everyone if rng.random() < 0.01], 200, ("ULIS", "DISPOSITIF ULIS", (0, 1, 2, 3), "ulis"))
    population.groups = list(groups.values())
    for pupil in population.pupils:
        pupil.groupes_first = bool(pupil.groupes) and rng.random() < 0.15


def _add_quirks(population: Population, rng: random.Random, builder: Builder) -> None:
    pupils, persons = population.pupils, population.persons
    count = len(pupils)
    ordinary = [pupil for pupil in pupils if not pupil.adult]
    departed = rng.sample(ordinary, min(len(ordinary), max(2, count // 300) if count >= 20 else 0))
    start, end = population.rentree + timedelta(days=3), population.date_export - timedelta(days=1)
    start = min(start, end)
    for pupil in departed:
        pupil.date_sortie = start + timedelta(days=rng.randint(0, (end - start).days))
    staying = [pupil for pupil in ordinary if pupil.date_sortie is None]
    for pupil in rng.sample(staying, min(len(staying), max(2, count // 1000) if count >= 10 else 0)):
        pupil.ine = None
    for pupil in staying:
        if rng.random() < 0.1:
            pupil.date_sortie = SANS_FIN
    parents = [person for person in persons if not person.self_of]
    invalid = rng.sample(parents, min(len(parents), max(3, len(persons) // 250)))
    for rank, person in enumerate(invalid):
        person.email = builder.invalid_email(person, rank)


def _ine(uai: str, rank: int, rng: random.Random) -> str:
    # 9 digits + 2 letters (INE-RNIE, since 2018) or 10 digits + 1 letter (INE-BEA); the rank is spread by a
    # bijection of 0..9999 so that neighbouring pupils do not get neighbouring numbers. Unique for (UAI, rank).
    number = (rank * 7919 + 4231) % 10_000
    if rng.random() < 0.8:
        digits = f"{uai[1:7]}{number % 1000:03d}"
        return f"{digits}{'ABCDEFGHJK'[number // 1000]}{uai_key(digits)}"
    digits = f"{uai[1:7]}{number:04d}"
    return f"{digits}{uai_key(digits)}"
