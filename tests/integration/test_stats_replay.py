"""Random histories replayed with duplicates and in any order give the figures of a direct count."""

from __future__ import annotations

import random
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import groupby
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, note, settings
from hypothesis import strategies as st

from teleservices.shared.db import Database
from teleservices.shared.kafka.consumer import HandlerContext
from teleservices.shared.messages import siecle
from teleservices.shared.messages.catalog import (
    AccountAttached,
    AccountCreated,
    AccountDetached,
    AccountStateChanged,
    EstablishmentCreated,
    Population,
    TemporaryCredentialIssued,
)
from teleservices.shared.messages.envelope import Envelope, Message
from teleservices.shared.settings import DatabaseSettings
from teleservices.stats import figures, projection, queries
from teleservices.stats.domain.tables import SANS_DIVISION, SOMME, Synthesis, eleves_figures, responsables_figures

UAI = "0540020X"
NN, N, EC, U = "Non notifié", "Notifié", "En cours d'activation", "Utilisé"
YEAR_START = datetime(2026, 9, 1, tzinfo=UTC)
DIVISIONS = ["6A", "6B", "5A", None]
MEFS = [("10110001110", "6EME"), ("10210001110", "5EME"), (None, None)]
MIGRATIONS = Path(__file__).parents[2] / "services" / "stats" / "migrations"
READ_MODELS = ("establishments, eleves, accounts, rattachements, accesses, letters, deliveries, figures, dirty,"
               " processed_messages")


@dataclass
class Account:
    population: str
    state: str = NN
    state_at: datetime | None = None
    notified_at: datetime | None = None


@dataclass
class History:
    """What the accounts and sync services would hold, and the events they would have published."""

    rnd: random.Random
    now: datetime = datetime(2026, 8, 10, tzinfo=UTC)
    events: list[Envelope] = field(default_factory=list)
    pupils: dict[str, tuple[str | None, str | None, str | None, bool]] = field(default_factory=dict)
    accounts: dict[uuid.UUID, Account] = field(default_factory=dict)
    links: dict[tuple[uuid.UUID, str], tuple[bool, datetime]] = field(default_factory=dict)
    by_account: dict[uuid.UUID, set[str]] = field(default_factory=lambda: defaultdict(set))
    by_pupil: dict[str, set[uuid.UUID]] = field(default_factory=lambda: defaultdict(set))

    def emit(self, payload: Message) -> None:
        self.now += timedelta(milliseconds=1)
        self.events.append(Envelope(type=payload.message_type, schema_version=payload.schema_version,
                                    occurred_at=self.now, uai=UAI, payload=payload.model_dump(mode="json")))

    def attached(self, account_id: uuid.UUID) -> list[str]:
        return sorted(self.by_account[account_id])

    def of_pupil(self, eleve_id: str, population: str) -> list[uuid.UUID]:
        return [a for a in sorted(self.by_pupil[eleve_id]) if self.accounts[a].population == population]

    def attach(self, account_id: uuid.UUID, eleve_id: str) -> None:
        population = Population(self.accounts[account_id].population)
        self.emit(AccountAttached(account_id=account_id, uai=UAI, eleve_id=eleve_id, population=population,
                                  personne_id=None if population is Population.eleve else f"p-{account_id.hex[:6]}",
                                  at=self.now + timedelta(milliseconds=1)))
        self.links[(account_id, eleve_id)] = (True, self.now)
        self.by_account[account_id].add(eleve_id)
        self.by_pupil[eleve_id].add(account_id)

    def detach(self, account_id: uuid.UUID, eleve_id: str) -> None:
        population = Population(self.accounts[account_id].population)
        self.emit(AccountDetached(account_id=account_id, uai=UAI, eleve_id=eleve_id, population=population,
                                  at=self.now + timedelta(milliseconds=1)))
        self.links[(account_id, eleve_id)] = (False, self.now)
        self.by_account[account_id].discard(eleve_id)
        self.by_pupil[eleve_id].discard(account_id)

    def create(self, eleve_id: str, population: str) -> uuid.UUID:
        account_id = uuid.uuid4()
        self.accounts[account_id] = Account(population)
        self.emit(AccountCreated(account_id=account_id, uai=UAI, population=Population(population),
                                 identifiant=f"x.{account_id.hex[:6]}"))
        self.attach(account_id, eleve_id)
        return account_id

    def move(self, account_id: uuid.UUID, state: str) -> None:
        account = self.accounts[account_id]
        if state == account.state:
            return
        self.emit(AccountStateChanged(account_id=account_id, uai=UAI, population=Population(account.population),
                                      previous_state=account.state, state=state, cause="histoire",
                                      changed_at=self.now + timedelta(milliseconds=1)))
        account.state, account.state_at = state, self.now
        if state == N:
            account.notified_at = self.now

    def close(self, account_id: uuid.UUID) -> None:
        for eleve_id in self.attached(account_id):
            self.detach(account_id, eleve_id)
        self.move(account_id, NN)

    # --- what may happen -------------------------------------------------------------------------------

    def arrive(self) -> None:
        eleve_id = f"e{len(self.pupils)}"
        self.place(eleve_id, siecle.EleveArrived)
        self.create(eleve_id, "eleve")
        for _ in range(self.rnd.randint(0, 2)):
            shared = [a for a, acc in self.accounts.items() if acc.population == "responsable" and self.by_account[a]]
            if shared and self.rnd.random() < 0.2:
                self.attach(self.rnd.choice(shared), eleve_id)  # one representative of several children
            else:
                self.create(eleve_id, "responsable")

    def place(self, eleve_id: str, kind: type[siecle.EleveArrived] | type[siecle.EleveChanged]) -> None:
        division, (code, libelle) = self.rnd.choice(DIVISIONS), self.rnd.choice(MEFS)
        self.emit(kind(uai=UAI, eleve=siecle.EleveData(eleve_id=eleve_id, nom="N", prenom="P", division=division,
                                                       code_mef=code, libelle_mef=libelle)))
        self.pupils[eleve_id] = (division, code, libelle, True)

    def step(self) -> None:
        self.now += timedelta(minutes=self.rnd.randint(0, 300))
        present = [e for e, p in self.pupils.items() if p[3]]
        gone = [e for e, p in self.pupils.items() if not p[3]]
        open_accounts = [a for a in self.accounts if self.by_account[a]]
        roll = self.rnd.random()
        if roll < 0.25 or not present:
            self.arrive()
        elif roll < 0.33:
            self.place(self.rnd.choice(present), siecle.EleveChanged)
        elif roll < 0.38:
            eleve_id = self.rnd.choice(present)
            self.emit(siecle.EleveLeft(uai=UAI, eleve_id=eleve_id))
            division, code, libelle, _ = self.pupils[eleve_id]
            self.pupils[eleve_id] = (division, code, libelle, False)
            for account_id in sorted(self.by_pupil[eleve_id]):
                self.detach(account_id, eleve_id)
        elif roll < 0.40 and gone:
            eleve_id = self.rnd.choice(gone)
            self.place(eleve_id, siecle.EleveArrived)
            self.create(eleve_id, "eleve")
        elif roll < 0.85 and open_accounts:
            self.advance(self.rnd.choice(open_accounts))
        elif roll < 0.92 and open_accounts:
            account_id = self.rnd.choice(open_accounts)
            pupils = self.attached(account_id)
            self.close(account_id)
            for eleve_id in pupils:  # an expired account: a new one, Non notifié, takes its place
                self.create(eleve_id, self.accounts[account_id].population)
        else:
            reps = [a for a in open_accounts if self.accounts[a].population == "responsable"]
            if len(reps) >= 2:  # grouping: the kept account takes the other's pupils, the other closes
                kept, grouped = self.rnd.sample(reps, 2)
                for eleve_id in self.attached(grouped):
                    self.detach(grouped, eleve_id)
                    if (kept, eleve_id) not in self.links or not self.links[(kept, eleve_id)][0]:
                        self.attach(kept, eleve_id)
                self.move(grouped, NN)

    def advance(self, account_id: uuid.UUID) -> None:
        account = self.accounts[account_id]
        if account.state == NN:
            self.move(account_id, N)
        elif account.state == N and self.rnd.random() < 0.3:  # renotified: a new password, the clock restarts
            at = self.now
            self.emit(TemporaryCredentialIssued(account_id=account_id, identifiant="x", password_hash="h",
                                                issued_at=at))
            account.notified_at = at
        elif account.state == N:
            self.move(account_id, EC if account.population == "responsable" else U)
        elif account.state == EC:
            self.move(account_id, U)
        else:
            self.move(account_id, N)  # « réinitialiser et notifier »


def direct_count(history: History) -> dict[tuple[Any, ...], dict[str, Any]]:
    """The syntheses counted straight from what the services hold."""
    groups: dict[tuple[str, str], list[str]] = defaultdict(list)
    for eleve_id, (division, code, _, present) in history.pupils.items():
        if present:
            groups[(code or "", division or "")].append(eleve_id)
    expected: dict[tuple[Any, ...], dict[str, Any]] = {}
    levels: dict[tuple[Any, ...], list[str]] = defaultdict(list, {("etablissement", None, None): []})
    for (code, division), pupils in groups.items():
        levels[("structure", code, division)] += pupils
        levels[("structure", code, SOMME)] += pupils
        levels[("etablissement", None, None)] += pupils
    for key, pupils in levels.items():
        own = [history.accounts[max(history.of_pupil(e, "eleve"), key=lambda a, e=e: history.links[(a, e)][1])].state
               for e in pupils if history.of_pupil(e, "eleve")]
        expected[("eleves", *key)] = eleves_figures(len(pupils), own.count(NN), own.count(N) + own.count(EC),
                                                    own.count(U))
        reps = {a for e in pupils for a in history.of_pupil(e, "responsable")}
        states = [history.accounts[a] for a in reps]
        this_year = [s for s in states if s.state in (N, EC)
                     and max(t for t in (s.notified_at, s.state_at) if t is not None) >= YEAR_START]
        with_used = [e for e in pupils if any(history.accounts[a].state == U
                                              for a in history.of_pupil(e, "responsable"))]
        expected[("responsables", *key)] = responsables_figures(
            len(pupils), len(reps), sum(s.state == NN for s in states), sum(s.state in (N, EC) for s in states),
            len(this_year), sum(s.state == U for s in states), len(with_used))
    return expected


def figures_of(synthesis: Synthesis) -> dict[tuple[Any, ...], dict[str, Any]]:
    """The synthesis keyed like the direct count."""
    out: dict[tuple[Any, ...], dict[str, Any]] = {}
    for table in synthesis.tables:
        if table.section == "etablissement":
            out[(synthesis.synthese, "etablissement", None, None)] = table.rows[0]
            continue
        for row in [*table.rows, table.total or {}]:
            division = "" if row["division"] == SANS_DIVISION else row["division"]
            out[(synthesis.synthese, "structure", table.mef or "", division)] = {
                k: v for k, v in row.items() if k != "division"}
    return out


@pytest.fixture
async def read_models(database_url: str) -> AsyncIterator[Database]:
    db = Database(DatabaseSettings(url=database_url, pool_max_size=2), schema="stats")
    await db.migrate([MIGRATIONS])
    await db.open()
    yield db
    await db.close()


async def replay_shuffled(db: Database, envelopes: list[Envelope]) -> None:
    """One message at a time, as the consumer does: its id recorded with its effect, a duplicate skipped."""
    handlers = {cls.message_type: handler for cls, handler in projection.handlers().items()}
    async with db.transaction() as conn:
        for envelope in envelopes:
            if await conn.fetchval("INSERT INTO processed_messages (consumer, event_id) VALUES ('replay', $1)"
                                   " ON CONFLICT DO NOTHING RETURNING true", envelope.event_id):
                await handlers[envelope.type](envelope.open(), HandlerContext(conn=conn, envelope=envelope))


async def replay_in_runs(db: Database, envelopes: list[Envelope]) -> None:
    """In publication order, runs of one type at once: the consumer's batched path."""
    batched = {cls.message_type: handler for cls, handler in projection.batch_handlers().items()}
    async with db.transaction() as conn:
        for run in [list(r) for _, r in groupby(envelopes, key=lambda e: e.type)]:
            await batched[run[0].type]([e.open() for e in run], HandlerContext(conn=conn, envelope=run[0]))


async def figures_in(db: Database) -> dict[tuple[Any, ...], dict[str, Any]]:
    """The two syntheses, and the establishment's line of the academy view checked against them."""
    await figures.refresh(db)
    async with db.connection() as conn:
        found = {**figures_of(await queries.eleves(conn, UAI)),
                 **figures_of(await queries.responsables(conn, UAI, YEAR_START))}
        [line] = (await queries.academy(conn, "NANCY-METZ")).tables[0].rows
    pupils = found[("eleves", "etablissement", None, None)]
    representatives = found[("responsables", "etablissement", None, None)]
    assert line == {**line, **{k: pupils[k] for k in ("eleves", "non_notifies", "notifies", "utilises")},
                    "comptes": representatives["comptes"], "r_non_notifies": representatives["non_notifies"],
                    "r_notifies": representatives["notifies"], "r_utilises": representatives["utilises"],
                    "pct_eleves_resp_utilise": representatives["pct_eleves_resp_utilise"]}
    return found


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32 - 1), steps=st.integers(20, 900), duplicates=st.floats(0, 0.3))
@example(seed=2026, steps=1500, duplicates=0.2)  # always one history of thousands of events
async def test_any_delivery_order_gives_the_direct_count(read_models: Database, seed: int, steps: int,
                                                         duplicates: float) -> None:
    rnd = random.Random(seed)  # the history drawn from a seed: thousands of events stay cheap to generate
    history = History(rnd)
    history.emit(EstablishmentCreated(uai=UAI, name="Collège", academy="NANCY-METZ"))
    for _ in range(steps):
        history.step()
    expected = direct_count(history)
    note(f"{len(history.events)} events")
    if steps == 1500:
        assert len(history.events) > 3000
    delivered = history.events + [e for e in history.events if rnd.random() < duplicates]
    rnd.shuffle(delivered)

    async with read_models.connection() as conn:
        await conn.execute(f"TRUNCATE {READ_MODELS}")
        await conn.execute("INSERT INTO establishments (uai) VALUES ($1)", UAI)  # its academy: from the events
    await replay_shuffled(read_models, delivered)
    assert await figures_in(read_models) == expected

    async with read_models.connection() as conn:  # rebuilt from scratch, in order and in batches
        await conn.execute(f"TRUNCATE {READ_MODELS}")
    await replay_in_runs(read_models, history.events)
    assert await figures_in(read_models) == expected
