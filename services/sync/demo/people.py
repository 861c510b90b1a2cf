"""Pupils, persons and their links, and the builder that makes whole families of them."""

from __future__ import annotations

import random
import unicodedata
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import TYPE_CHECKING

from teleservices.sync.demo import referentiel as ref

if TYPE_CHECKING:
    from teleservices.sync.demo.population import Population

SANS_FIN = date(9999, 12, 31)
"""SIECLE's "no end" DATE_SORTIE."""
_UAI_KEYS = "ABCDEFGHJKLMNPRSTUVWXYZ"
_FOLD = str.maketrans({"œ": "oe", "Œ": "OE", "æ": "ae", "Æ": "AE", "ß": "ss", "'": "", " ": ""})
_KINDS = ("couple", "separes", "mono", "accueil")
_KIND_WEIGHTS = (57, 22, 18, 3)


@dataclass(frozen=True, slots=True)
class Address:
    """A postal address; abroad, `commune_etrangere` replaces the postcode and town."""

    lignes: tuple[str, ...]
    code_postal: str | None
    commune: str | None
    commune_etrangere: str | None
    insee: str | None
    code_pays: str
    pays: str


@dataclass(frozen=True, slots=True)
class Previous:
    """SCOLARITE_AN_DERNIER: where the pupil was last year."""

    rne: str
    mef: str | None
    structure: str | None
    denomination: str


@dataclass(eq=False, slots=True)
class Person:
    """A PERSONNE of the responsables file."""

    civilite: str
    nom: str
    nom_usage: str | None
    prenom: str
    email: str | None
    adresse_id: str
    portable: str | None = None
    personnel: str | None = None
    professionnel: str | None = None
    profession: str | None = None
    self_of: bool = False
    """The person is an adult pupil himself (CODE_PARENTE 70)."""
    personne_id: str = ""


@dataclass(eq=False, slots=True)
class Pupil:
    """An ELEVE of the pupils file; `level` 0 is 6e, 3 is 3e."""

    nom: str
    nom_usage: str | None
    prenom: str
    prenom2: str | None
    sexe: int
    naissance: date
    birthplace: ref.Birthplace
    level: int
    regime: str
    doublement: bool
    date_entree: date
    previous: Previous
    email: str | None
    adresse_id: str
    adult: bool = False
    ine: str | None = None
    date_sortie: date | None = None
    division: str = ""
    groupes: list[str] = field(default_factory=list)
    groupes_first: bool = False
    """The pupil's groups are listed before his division in STRUCTURES_ELEVE."""
    latin: bool = False
    eleve_id: str = ""
    elenoet: str = ""

    def parti(self, today: date) -> bool:
        """Has left on `today` (what the parser calls `parti`)."""
        return self.date_sortie is not None and self.date_sortie < today


@dataclass(eq=False, slots=True)
class Link:
    """A RESPONSABLE_ELEVE."""

    pupil: Pupil
    person: Person
    niveau: int
    code_parente: str
    heberge: bool = False
    paie: bool = False
    prioritaire: bool = False


def uai_key(digits: str) -> str:
    """The check letter of a UAI: its 7 digits modulo 23, in an alphabet without I, O and Q (also for the INEs)."""
    return _UAI_KEYS[int(digits) % 23]


def fold(text: str) -> str:
    """Lower-case ASCII for e-mail addresses: no accents, œ → oe, no spaces nor apostrophes."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_FOLD))
    return decomposed.encode("ascii", "ignore").decode("ascii").lower()


class Builder:
    """Makes families (persons, pupils, links) into a population, drawing from its random generator."""

    def __init__(self, population: Population, rng: random.Random) -> None:
        self.population = population
        self.rng = rng

    def family(self, levels: list[int], kind: str | None = None, *, adult: bool = False, self_link: bool = False,
               date_entree: date | None = None) -> list[Pupil]:
        """One family: its legal representatives, perhaps a grandparent or a person in charge, and its children."""
        rng = self.rng
        kind = kind or rng.choices(_KINDS, _KIND_WEIGHTS)[0]
        surname, maiden = rng.choice(ref.SURNAMES), rng.choice(ref.SURNAMES)
        home = self.home()
        child_home = home
        adults: list[tuple[Person, str, int, bool]] = []  # person, CODE_PARENTE, niveau, héberge l'élève
        if kind == "accueil":
            tuteur = self.person(rng.random() < 0.5, rng.choice(ref.SURNAMES), None, self.address_id(self.home()))
            assistante = self.person(False, rng.choice(ref.SURNAMES), None, self.address_id(home))
            adults += [(tuteur, "50", 1, False), (assistante, "42", 2, True)]
        else:
            with_mother = kind != "mono" or rng.random() < 0.8
            with_father = kind != "mono" or not with_mother
            mother_home = father_home = home
            lives_with_mother = with_mother
            if kind == "separes":
                other = self.abroad() if rng.random() < 0.1 else self.home()
                lives_with_mother = rng.random() < 0.75
                if lives_with_mother:
                    father_home = other
                else:
                    mother_home = other  # the children live with their father, at home
            shared = kind == "couple" and rng.random() < 0.5
            mother_id = self.address_id(mother_home)
            if with_mother:
                married = kind == "couple" and rng.random() < 0.7
                nom = maiden if married or rng.random() < 0.5 else surname
                mother = self.person(False, nom, surname if married else None, mother_id)
                adults.append((mother, "10", 1, lives_with_mother or kind == "couple"))
            if with_father:
                father = self.person(True, surname, None, mother_id if shared else self.address_id(father_home))
                adults.append((father, "20", 1, not lives_with_mother or kind == "couple"))
            if rng.random() < 0.5:
                adults.reverse()
        if rng.random() < 0.15:
            grand = self.person(rng.random() < 0.4, surname, None, self.address_id(self.home()), elder=True)
            adults.append((grand, "38", 3, False))
        if rng.random() < 0.03:
            adults.append((self.person(rng.random() < 0.5, maiden, None, self.address_id(home)), "39", 2, False))
        child_name = surname if rng.random() < 0.85 else rng.choice((f"{surname} {maiden}", maiden))
        children = [self.pupil(level, child_name, child_home, adult=adult, date_entree=date_entree)
                    for level in levels]
        for child in children:
            if self_link:  # an adult pupil is his own legal representative; a parent stays as contact
                me = self.person(child.sexe == 1, child.nom, None, self.address_id(child_home), given=child.prenom)
                me.self_of = True
                self.link(child, me, "70", 1, True)
                person, code, _niveau, _heberge = adults[0]
                self.link(child, person, code, 3, False)
                continue
            for rank, (person, code, niveau, heberge) in enumerate(adults):
                self.link(child, person, code, niveau, heberge, first=rank == 0)
        if self_link:
            unlinked = {id(person) for person, *_ in adults[1:]}
            self.population.persons[:] = [person for person in self.population.persons if id(person) not in unlinked]
        return children

    def link(self, pupil: Pupil, person: Person, code: str, niveau: int, heberge: bool, *, first: bool = True) -> None:
        """Add a RESPONSABLE_ELEVE."""
        self.population.links.append(Link(pupil, person, niveau, code, heberge, paie=first and niveau == 1,
                                          prioritaire=first))

    def person(self, man: bool, nom: str, nom_usage: str | None, adresse_id: str, *, elder: bool = False,
               given: str | None = None) -> Person:
        """A new person with phones, e-mail (or none, or an empty one) and profession."""
        rng = self.rng
        if given is None:
            names = (ref.GRANDFATHERS if man else ref.GRANDMOTHERS) if elder else (ref.FATHERS if man else ref.MOTHERS)
            given = rng.choice(names)
        draw = rng.random()
        email = self.email(given, nom_usage or nom) if draw < 0.72 else (None if draw < 0.9 else "")
        person = Person(
            civilite="M." if man else "MME", nom=nom, nom_usage=nom_usage, prenom=given, email=email,
            adresse_id=adresse_id,
            portable=f"+3363998{rng.randrange(10_000):04d}" if rng.random() < 0.85 else None,
            personnel=f"+3319900{rng.randrange(10_000):04d}" if rng.random() < 0.25 else None,
            professionnel=f"+3319900{rng.randrange(10_000):04d}" if rng.random() < 0.15 else None,
            profession=rng.choice(ref.PROFESSIONS) if rng.random() < 0.8 else None,
        )
        self.population.persons.append(person)
        return person

    def pupil(self, level: int, nom: str, home: Address, *, adult: bool = False,
              date_entree: date | None = None) -> Pupil:
        """A new pupil of `level` living at `home` (no ids, division nor groups yet)."""
        rng, population = self.rng, self.population
        sexe = rng.choice((1, 2))
        doublement = not adult and rng.random() < 0.04
        if adult:
            export = population.date_export
            naissance = date(export.year - 18, export.month, min(export.day, 28)) - timedelta(days=rng.randint(1, 600))
        else:
            naissance = date(population.annee - 11 - level - doublement, 1, 1) + timedelta(days=rng.randrange(365))
        newcomer = date_entree is not None or (level > 0 and rng.random() < 0.1)
        if date_entree is None:
            date_entree = population.rentree if newcomer or level == 0 else rentree(population.annee - level)
            if rng.random() < 0.02 and population.date_export > population.rentree + timedelta(days=8):
                date_entree = population.rentree + timedelta(days=rng.randint(7, (population.date_export -
                                                                                    population.rentree).days - 1))
        prenom = rng.choice(ref.BOYS if sexe == 1 else ref.GIRLS)
        draw = rng.random()
        email = self.email(prenom, nom) if draw < 0.14 else ("" if draw < 0.2 else None)
        pupil = Pupil(
            nom=nom, nom_usage=nom if rng.random() < 0.1 else None, prenom=prenom,
            prenom2=rng.choice(ref.BOYS if sexe == 1 else ref.GIRLS) if rng.random() < 0.5 else None,
            sexe=sexe, naissance=naissance, birthplace=rng.choice(ref.BIRTHPLACES), level=level,
            regime=rng.choices(ref.PUPIL_REGIMES, ref.PUPIL_REGIME_WEIGHTS)[0], doublement=doublement,
            date_entree=date_entree, previous=self.previous(level, doublement, newcomer), email=email,
            adresse_id=self.address_id(home, pupil_file=True), adult=adult,
        )
        population.pupils.append(pupil)
        return pupil

    def previous(self, level: int, doublement: bool, newcomer: bool) -> Previous:
        """Last year's schooling: a primary school before 6e, this collège or another one."""
        rng, uai = self.rng, self.population.uai
        if level == 0 and not doublement:
            digits = f"{uai[:3]}{rng.randrange(1000, 10_000)}"
            return Previous(digits + uai_key(digits), None, None, "ECOLE ELEMENTAIRE PUBLIQUE")
        last = level if doublement else level - 1
        mef = ref.COLLEGE_MEFS[last][0]
        if newcomer:
            digits = f"{uai[:3]}{rng.randrange(1000, 10_000)}"
            return Previous(digits + uai_key(digits), mef, None, "COLLEGE")
        return Previous(uai, mef, f"{ref.GRADES[last]} {chr(65 + rng.randrange(4))}", "COLLEGE")

    def address_id(self, address: Address, *, pupil_file: bool = False) -> str:
        """A new ADRESSE_ID for `address` (identical addresses get different ids, as in real files)."""
        population = self.population
        population.next_adresse_id += self.rng.randint(1, 3)
        adresse_id = str(population.next_adresse_id)
        (population.pupil_addresses if pupil_file else population.addresses)[adresse_id] = address
        return adresse_id

    def home(self) -> Address:
        """An address in the establishment's area."""
        rng = self.rng
        town = rng.choices(ref.TOWNS, ref.TOWN_WEIGHTS)[0]
        street = f"{rng.randint(1, 140)}{' BIS' if rng.random() < 0.03 else ''} {rng.choice(ref.STREETS)}"
        lignes = (rng.choice(ref.COMPLEMENTS), street) if rng.random() < 0.12 else (street,)
        return Address(lignes, town.postcode, town.name, None, town.insee, "100", "FRANCE")

    def abroad(self) -> Address:
        """An address abroad (a separated parent working across the border)."""
        place = self.rng.choice(ref.ABROAD)
        return Address((place.street,), None, None, place.commune, None, place.code_pays, place.pays)

    def email(self, given: str, nom: str) -> str:
        """A plausible valid address on a reserved example domain."""
        rng = self.rng
        first, last = fold(given), fold(nom)
        domain = rng.choice(ref.EMAIL_DOMAINS)
        return rng.choice((f"{first}.{last}@{domain}", f"{first[0]}.{last}@{domain}",
                           f"{first}{last}{rng.randint(1, 99)}@{domain}", f"{last}.{first}@{domain}"))

    def invalid_email(self, person: Person, rank: int) -> str:
        """An address SIECLE accepted but that is not one: no domain, no @, no dot, a space."""
        if rank < len(ref.INVALID_EMAILS):
            return ref.INVALID_EMAILS[rank]
        local = f"{fold(person.prenom)}.{fold(person.nom_usage or person.nom)}"
        return (f"{local}@", f"{local}.example.org", f"{local}@orange", f"{local} @example.org")[rank % 4]


def rentree(annee: int) -> date:
    """The first school day of `annee`: the first weekday on or after 1 September."""
    day = date(annee, 9, 1)
    return day + timedelta(days=7 - day.weekday()) if day.weekday() >= 5 else day
