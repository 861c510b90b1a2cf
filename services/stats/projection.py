"""Events into the read models: set-based upserts that keep the newest fact, whatever the delivery order.

Every handler is written for a run of messages of one type (the consumer's batches); the single-message
handler is the same code with a run of one. A row remembers the time of the fact that set it (event time,
then envelope time), so a late, repeated or reordered delivery never overwrites a newer fact.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta
from typing import Any, TypeVar

from teleservices.shared.kafka.consumer import BatchHandlers, HandlerContext, Handlers
from teleservices.shared.messages import portal, siecle
from teleservices.shared.messages.catalog import (
    AccountAttached,
    AccountCreated,
    AccountDetached,
    AccountStateChanged,
    EstablishmentCreated,
    NotificationDelivered,
    NotificationFailed,
    NotifyBatch,
    PersonalDataPurged,
    TemporaryCredentialIssued,
)
from teleservices.shared.messages.envelope import Message
from teleservices.stats import purge
from teleservices.stats.figures import mark

M = TypeVar("M", bound=Message)
NOTIFIE = "Notifié"


def _stamps(ctx: HandlerContext, count: int) -> list[datetime]:
    """Envelope-time versions of a run, one per message: a partition's messages come in order, so a later one
    (same key, same partition) never gets an earlier version, even when both were stamped in one microsecond."""
    envelopes = ctx.run or [ctx.envelope] * count
    return [e.occurred_at + timedelta(microseconds=i) for i, e in enumerate(envelopes)]


def _latest(keyed: Sequence[tuple[Any, Any]]) -> list[Any]:
    """The last value of each key, in first-seen order (one statement may not touch a row twice)."""
    return list(dict(keyed).values())


async def eleves_present(batch: Sequence[siecle.EleveArrived | siecle.EleveChanged], ctx: HandlerContext) -> None:
    """A pupil arrived or changed: his MEF and division as SIECLE says now."""
    rows = _latest([((e.uai, e.eleve.eleve_id), (e.uai, e.eleve.eleve_id, e.eleve.division, e.eleve.code_mef,
                                                 e.eleve.libelle_mef, v))
                    for e, v in zip(batch, _stamps(ctx, len(batch)), strict=True)])
    await ctx.conn.execute(
        "INSERT INTO eleves (uai, eleve_id, division, code_mef, libelle_mef, present, version)"
        " SELECT u, i, d, c, l, true, v FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[],"
        " $6::timestamptz[]) AS t(u, i, d, c, l, v)"
        " ON CONFLICT (uai, eleve_id) DO UPDATE SET division = excluded.division, code_mef = excluded.code_mef,"
        " libelle_mef = excluded.libelle_mef, present = true, version = excluded.version"
        " WHERE eleves.version < excluded.version", *_columns(rows, 6))
    await mark(ctx, (e.uai for e in batch))


async def eleves_left(batch: Sequence[siecle.EleveLeft], ctx: HandlerContext) -> None:
    """A pupil left the establishment."""
    rows = _latest([((e.uai, e.eleve_id), (e.uai, e.eleve_id, v))
                    for e, v in zip(batch, _stamps(ctx, len(batch)), strict=True)])
    await ctx.conn.execute(
        "INSERT INTO eleves (uai, eleve_id, present, version)"
        " SELECT u, i, false, v FROM unnest($1::text[], $2::text[], $3::timestamptz[]) AS t(u, i, v)"
        " ON CONFLICT (uai, eleve_id) DO UPDATE SET present = false, version = excluded.version"
        " WHERE eleves.version < excluded.version", *_columns(rows, 3))
    await mark(ctx, (e.uai for e in batch))


async def imports_applied(batch: Sequence[siecle.ImportApplied], ctx: HandlerContext) -> None:
    """The establishment's current school year, from its last applied import."""
    rows = _latest([(e.uai, (e.uai, e.annee_scolaire, v)) for e, v in zip(batch, _stamps(ctx, len(batch)),
                                                                        strict=True)])
    await ctx.conn.execute(
        "INSERT INTO establishments (uai, annee_scolaire, annee_version)"
        " SELECT * FROM unnest($1::text[], $2::int[], $3::timestamptz[])"
        " ON CONFLICT (uai) DO UPDATE SET annee_scolaire = excluded.annee_scolaire,"
        " annee_version = excluded.annee_version"
        " WHERE establishments.annee_version IS NULL OR establishments.annee_version < excluded.annee_version",
        *_columns(rows, 3))


async def establishments_created(batch: Sequence[EstablishmentCreated], ctx: HandlerContext) -> None:
    """An establishment's name and academy (never change)."""
    rows = _latest([(e.uai, (e.uai, e.name, e.academy)) for e in batch])
    await ctx.conn.execute(
        "INSERT INTO establishments (uai, name, academy) SELECT * FROM unnest($1::text[], $2::text[], $3::text[])"
        " ON CONFLICT (uai) DO UPDATE SET name = excluded.name, academy = excluded.academy", *_columns(rows, 3))
    await mark(ctx, (e.uai for e in batch))


async def accounts_created(batch: Sequence[AccountCreated], ctx: HandlerContext) -> None:
    """A new account (Non notifié until a state change says otherwise)."""
    rows = _latest([(e.account_id, (e.account_id, e.uai, e.population.value)) for e in batch])
    await ctx.conn.execute(
        "INSERT INTO accounts (account_id, uai, population) SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[])"
        " ON CONFLICT (account_id) DO UPDATE SET uai = coalesce(accounts.uai, excluded.uai),"
        " population = coalesce(accounts.population, excluded.population)", *_columns(rows, 3))


async def states_changed(batch: Sequence[AccountStateChanged], ctx: HandlerContext) -> None:
    """An account's state: the latest change wins; a notification restarts the expiry clock."""
    latest: dict[Any, tuple[Any, ...]] = {}
    notified: dict[Any, datetime] = {}
    for e, v in zip(batch, _stamps(ctx, len(batch)), strict=True):
        row = (e.account_id, e.uai, e.population.value, e.state, e.changed_at, v)
        if e.account_id not in latest or (row[4], row[5]) > (latest[e.account_id][4], latest[e.account_id][5]):
            latest[e.account_id] = row
        if e.state == NOTIFIE:
            notified[e.account_id] = max(e.changed_at, notified.get(e.account_id, e.changed_at))
    rows = [(*row, notified.get(account_id)) for account_id, row in latest.items()]
    newer = ("(excluded.state_at, excluded.state_version) > (coalesce(accounts.state_at, '-infinity'),"
             " coalesce(accounts.state_version, '-infinity'))")
    await ctx.conn.execute(
        "INSERT INTO accounts (account_id, uai, population, state, state_at, state_version, notified_at)"
        " SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::timestamptz[],"
        " $6::timestamptz[], $7::timestamptz[])"
        " ON CONFLICT (account_id) DO UPDATE SET"
        " uai = coalesce(accounts.uai, excluded.uai), population = coalesce(accounts.population, excluded.population),"
        " notified_at = greatest(accounts.notified_at, excluded.notified_at),"
        f" state = CASE WHEN {newer} THEN excluded.state ELSE accounts.state END,"
        f" state_at = CASE WHEN {newer} THEN excluded.state_at ELSE accounts.state_at END,"
        f" state_version = CASE WHEN {newer} THEN excluded.state_version ELSE accounts.state_version END",
        *_columns(rows, 7))
    await mark(ctx, await copy_states(ctx, list(latest)))


async def credentials_issued(batch: Sequence[TemporaryCredentialIssued], ctx: HandlerContext) -> None:
    """A delivered letter put a temporary password in force: the notification date moves."""
    await _greatest(ctx, "notified_at", [(e.account_id, e.issued_at) for e in batch])
    await copy_states(ctx, [e.account_id for e in batch])  # "année courante" only: not in the academy view


async def accesses_started(batch: Sequence[portal.LoggedIn | portal.FirstConnectionCompleted],
                           ctx: HandlerContext) -> None:
    """A real login or a first connection: the last access date moves."""
    await _greatest(ctx, "last_access_at", [(e.account_id, e.at) for e in batch])


async def _greatest(ctx: HandlerContext, column: str, pairs: list[tuple[Any, datetime]]) -> None:
    latest: dict[Any, datetime] = {}
    for account_id, at in pairs:
        latest[account_id] = max(at, latest.get(account_id, at))
    await ctx.conn.execute(
        f"INSERT INTO accounts (account_id, {column}) SELECT * FROM unnest($1::uuid[], $2::timestamptz[])"
        f" ON CONFLICT (account_id) DO UPDATE SET {column} = greatest(accounts.{column}, excluded.{column})",
        list(latest), list(latest.values()))


async def attachments(batch: Sequence[AccountAttached | AccountDetached], ctx: HandlerContext) -> None:
    """Which pupils an account gives access to; at the same instant a detachment wins."""
    rows = _latest([((e.account_id, e.uai, e.eleve_id),
                     (e.account_id, e.uai, e.eleve_id, getattr(e, "personne_id", None), e.population.value,
                      type(e) is AccountAttached, e.at)) for e in sorted(batch, key=_attachment_order)])
    await ctx.conn.execute(
        "INSERT INTO rattachements (account_id, uai, eleve_id, personne_id, population, attached, version)"
        " SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::boolean[],"
        " $7::timestamptz[])"
        " ON CONFLICT (account_id, uai, eleve_id) DO UPDATE SET attached = excluded.attached,"
        " version = excluded.version, personne_id = coalesce(excluded.personne_id, rattachements.personne_id)"
        " WHERE rattachements.version < excluded.version"
        " OR (rattachements.version = excluded.version AND NOT excluded.attached)", *_columns(rows, 7))
    await copy_states(ctx, [e.account_id for e in batch])
    await mark(ctx, (e.uai for e in batch))


async def copy_states(ctx: HandlerContext, account_ids: Sequence[Any]) -> set[str]:
    """Each attachment carries its account's state and notification date (whichever arrived first); return the
    establishments where an attachment changed."""
    rows = await ctx.conn.fetch(
        "WITH changed AS (UPDATE rattachements r SET state = a.state, since = greatest(a.notified_at, a.state_at)"
        " FROM accounts a WHERE a.account_id = r.account_id AND r.account_id = ANY($1::uuid[])"
        " AND (r.state IS DISTINCT FROM a.state OR r.since IS DISTINCT FROM greatest(a.notified_at, a.state_at))"
        " RETURNING r.uai) SELECT DISTINCT uai FROM changed", list(set(account_ids)))
    return {r["uai"] for r in rows}


def _attachment_order(e: AccountAttached | AccountDetached) -> tuple[datetime, bool]:
    return e.at, type(e) is AccountDetached


async def services_opened(batch: Sequence[portal.ServiceOpened], ctx: HandlerContext) -> None:
    """An access to a service, counted in its month."""
    counts: dict[tuple[Any, ...], int] = {}
    for e in batch:
        key = (e.uai, e.account_id, e.service, e.at.date().replace(day=1))
        counts[key] = counts.get(key, 0) + 1
    rows = [(*key, n) for key, n in counts.items()]
    await ctx.conn.execute(
        "INSERT INTO accesses (uai, account_id, service, month, count)"
        " SELECT * FROM unnest($1::text[], $2::uuid[], $3::text[], $4::date[], $5::int[])"
        " ON CONFLICT (uai, account_id, service, month) DO UPDATE SET count = accesses.count + excluded.count",
        *_columns(rows, 5))


async def jobs_launched(batch: Sequence[NotifyBatch], ctx: HandlerContext) -> None:
    """A campaign's letters, to file their delivery results by campaign and division."""
    rows = _latest([(letter.notification_id, (letter.notification_id, job.campaign_id, job.uai, job.division,
                                              letter.channel.value, v))
                    for job, v in zip(batch, _stamps(ctx, len(batch)), strict=True) for letter in job.letters])
    await ctx.conn.execute(
        "INSERT INTO letters (notification_id, campaign_id, uai, division, channel, launched_at)"
        " SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::text[], $6::timestamptz[])"
        " ON CONFLICT DO NOTHING", *_columns(rows, 6))


async def delivery_result(event: NotificationDelivered | NotificationFailed, ctx: HandlerContext) -> None:
    """A letter's result (its establishment is on the envelope); a delivery outranks a failure."""
    delivered = isinstance(event, NotificationDelivered)
    await ctx.conn.execute(
        "INSERT INTO deliveries (notification_id, account_id, uai, channel, delivered, reason)"
        " VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (notification_id) DO UPDATE SET delivered = true,"
        " reason = NULL WHERE excluded.delivered",
        event.notification_id, event.account_id, ctx.envelope.uai, event.channel.value, delivered,
        None if delivered else getattr(event, "reason", None))


def _columns(rows: Sequence[tuple[Any, ...]], width: int) -> list[list[Any]]:
    """Rows as the column arrays `unnest` takes."""
    return [[row[i] for row in rows] for i in range(width)]


def _single(batch_handler: Callable[[list[M], HandlerContext], Awaitable[None]]
            ) -> Callable[[M, HandlerContext], Awaitable[None]]:
    async def handle(message: M, ctx: HandlerContext) -> None:
        await batch_handler([message], ctx)

    return handle


BATCHED: dict[type[Message], Callable[[list[Any], HandlerContext], Awaitable[None]]] = {
    siecle.EleveArrived: eleves_present, siecle.EleveChanged: eleves_present, siecle.EleveLeft: eleves_left,
    siecle.ImportApplied: imports_applied,
    EstablishmentCreated: establishments_created, AccountCreated: accounts_created,
    AccountStateChanged: states_changed, TemporaryCredentialIssued: credentials_issued,
    AccountAttached: attachments, AccountDetached: attachments,
    portal.LoggedIn: accesses_started, portal.FirstConnectionCompleted: accesses_started,
    portal.ServiceOpened: services_opened, NotifyBatch: jobs_launched,
    PersonalDataPurged: purge.personal_data_purged_batch,  # purge after departure: anonymous counts only
}
"""Which handler serves which message: the table to read (each takes a run of messages of its type)."""


def handlers() -> Handlers:
    """One message at a time (the consumer's fallback, and the deliveries whose UAI is on the envelope)."""
    single: dict[type[Message], Any] = {cls: _single(handler) for cls, handler in BATCHED.items()}
    return {**single, NotificationDelivered: delivery_result, NotificationFailed: delivery_result}


def batch_handlers() -> BatchHandlers:
    """Runs of consecutive messages of one type, applied in one statement."""
    return dict(BATCHED)
