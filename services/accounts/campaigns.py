"""Mass notification campaigns: select, preview, launch as per-division jobs, follow, relaunch the failures."""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, Protocol

import asyncpg

from teleservices.accounts import audit
from teleservices.accounts import repository as repo
from teleservices.accounts.configuration import context
from teleservices.accounts.domain.campaign import Mode, chunks, route
from teleservices.accounts.domain.model import AccountState, ActionRefused
from teleservices.accounts.domain.people import RegimeCategory, first_digits_of
from teleservices.accounts.permissions import accounts_menu, require_menu
from teleservices.accounts.settings import AccountsSettings
from teleservices.shared.db import Database
from teleservices.shared.kafka.outbox import enqueue_many
from teleservices.shared.logs import correlation_id
from teleservices.shared.messages.catalog import (
    Channel,
    EstablishmentHeader,
    NotifyBatch,
    Population,
    Recipient,
    SendNotification,
)
from teleservices.shared.messages.envelope import Envelope
from teleservices.shared.messages.topics import NOTIFIER_JOBS
from teleservices.shared.metrics import CAMPAIGN_LETTERS
from teleservices.shared.security.passwords import new_temporary_password
from teleservices.shared.security.sealing import seal, unseal
from teleservices.shared.security.staff import StaffPrincipal

_SELECTION_SQL = """
SELECT a.*, e.nom AS eleve_nom, e.prenom AS eleve_prenom, e.division, e.email AS eleve_email,
       p.civilite, p.nom AS personne_nom, p.prenom AS personne_prenom, p.email AS personne_email, p.address_lines
FROM rattachements r
JOIN accounts a ON a.id = r.account_id
JOIN eleves e ON e.uai = r.uai AND e.eleve_id = r.eleve_id
LEFT JOIN personnes p ON p.uai = r.uai AND p.personne_id = r.personne_id
WHERE r.uai = $1 AND r.population = $2 AND r.detached_at IS NULL AND a.closed_at IS NULL
  AND ($3::text[] IS NULL OR e.division = ANY($3))
  AND ($4::text[] IS NULL OR left(e.code_regime, 1) = ANY($4))
  AND ($5::text[] IS NULL OR a.state = ANY($5))
  AND ($6::uuid[] IS NULL OR NOT a.id = ANY($6))
  AND ($7::uuid[] IS NULL OR a.id = ANY($7))
ORDER BY e.division, coalesce(p.nom, e.nom), coalesce(p.prenom, e.prenom), a.identifiant
"""


class FreeEmailWriter(Protocol):
    """Sends the same free email separately to each account (StaffActions.write_to_many)."""

    async def __call__(self, staff: StaffPrincipal, uai: str, account_ids: list[uuid.UUID], subject: str, body: str,
                       relaunch_of: uuid.UUID | None = None) -> dict[str, Any]: ...


@dataclass
class CampaignRequest:
    """A staff selection (guide §3.1, §4.1): population, divisions, régimes, states, ticks, mode."""

    population: Population
    mode: Mode
    divisions: list[str] | None = None
    regimes: set[RegimeCategory] | None = None
    states: set[AccountState] | None = None
    excluded: list[uuid.UUID] = field(default_factory=list)
    only: list[uuid.UUID] | None = None
    reset_utilise: bool = False

    def args(self) -> tuple[Any, ...]:
        """The selection query's parameters after the UAI."""
        return (self.population.value, self.divisions,
                first_digits_of(self.regimes) if self.regimes else None,
                [s.value for s in self.states] if self.states else None, self.excluded or None, self.only)


def establishment_header(establishment: asyncpg.Record) -> EstablishmentHeader:
    """What the letters' header and footer print about the establishment."""
    return EstablishmentHeader(
        name=establishment["name"], academy=establishment["academy"], town=establishment["town"],
        address_lines=tuple(establishment["address_lines"]), phone=establishment["phone"],
        email=(establishment["emails"] or [None])[0],
        chef=" ".join(x for x in (establishment["chef_civilite"], establishment["chef_nom"]) if x) or None)


def _email(row: asyncpg.Record) -> str | None:
    """The address of « Adresse / Courriel »: the account's validated one, else SIECLE's."""
    if row["email"] and row["email_validated"]:
        return str(row["email"])
    value = row["personne_email"] if row["population"] == Population.responsable.value else row["eleve_email"]
    return str(value) if value else None


@dataclass
class Campaigns:
    """Campaign use cases."""

    db: Database
    settings: AccountsSettings

    async def preview(self, staff: StaffPrincipal, uai: str, request: CampaignRequest) -> dict[str, Any]:
        """« N compte(s) sélectionné(s) sur M » and, per channel, how many go by email and by paper."""
        require_menu(staff, accounts_menu(request.population))
        async with self.db.connection() as conn:
            rows = await conn.fetch(_SELECTION_SQL, uai, *request.args())
            total = await conn.fetchval(
                "SELECT count(DISTINCT a.id) FROM rattachements r JOIN accounts a ON a.id = r.account_id"
                " WHERE r.uai = $1 AND r.population = $2 AND r.detached_at IS NULL AND a.closed_at IS NULL", uai,
                request.population.value)
        counts: dict[str, int] = defaultdict(int)
        rows = list({row["id"]: row for row in reversed(rows)}.values())  # one line per account
        for row in rows:
            routing = route(request.population, request.mode, _email(row))
            counts[routing.channel.value if routing.channel else "impossible"] += 1
        return {"selected": len(rows), "total": total, "summary": f"{len(rows)} compte(s) sélectionné(s) sur {total}",
                "par_courriel": counts["email"], "par_courrier": counts["paper"],
                "sans_moyen": counts["impossible"]}

    async def launch(self, staff: StaffPrincipal, uai: str, request: CampaignRequest,
                     relaunch_of: uuid.UUID | None = None) -> uuid.UUID:
        """Apply the binding rules to every selected account and fan out one job per division chunk."""
        require_menu(staff, accounts_menu(request.population))
        campaign_id = uuid.uuid4()
        async with self.db.transaction() as conn:
            ctx = await context(conn, uai)
            if ctx.establishment["activated_at"] is None:
                raise ActionRefused("uai", "les téléservices ne sont pas activés pour cet établissement")
            rows = await conn.fetch(_SELECTION_SQL + " FOR UPDATE OF a", uai, *request.args())
            if not rows:
                raise ActionRefused("selection", "aucun compte n'est sélectionné")
            await conn.execute(
                "INSERT INTO campaigns (id, uai, population, mode, reset_utilise, selection, actor_id, relaunch_of)"
                " VALUES ($1, $2, $3, $4, $5, $6, $7, $8)", campaign_id, uai, request.population.value,
                request.mode.value, request.reset_utilise,
                {"divisions": request.divisions, "excluded": [str(i) for i in request.excluded],
                 "only": [str(i) for i in request.only] if request.only else None}, staff.user_id, relaunch_of)
            letters, items = self._plan(uai, request, rows, ctx.establishment["name"])
            await self._store(conn, campaign_id, items, letters)
            CAMPAIGN_LETTERS.labels("selected").inc(len(items))
            CAMPAIGN_LETTERS.labels("failed").inc(sum(1 for item in items if item[4] == "echec"))
            await self._fan_out(conn, campaign_id, uai, ctx, letters)
            await audit.record(conn, staff, "notifier_en_masse", uai, campaign_id=str(campaign_id),
                               population=request.population.value, mode=request.mode.name, accounts=len(rows))
        return campaign_id

    def _plan(self, uai: str, request: CampaignRequest, rows: list[asyncpg.Record],
              establishment_name: str) -> tuple[dict[str, list[tuple[SendNotification, str | None]]],
                                                list[tuple[Any, ...]]]:
        letters: dict[str, list[tuple[SendNotification, str | None]]] = defaultdict(list)
        items: list[tuple[Any, ...]] = []
        at_rest = self.settings.secrets.at_rest_key.get_secret_value()
        transit = self.settings.secrets.transit_key.get_secret_value()
        seen: set[Any] = set()
        for row in rows:
            if row["id"] in seen:  # a grouped account is listed once per child: one letter for the account
                continue
            seen.add(row["id"])
            account = repo.account_from_row(row)
            division = row["division"] or ""
            routing = route(request.population, request.mode, _email(row))
            if routing.channel is None:
                items.append((account.id, None, division, None, "echec", routing.failure))
                continue
            reset = request.reset_utilise and account.state is AccountState.utilise
            plan = account.plan_notification(routing.channel, reset_password=reset)
            draw = plan.new_password or (plan.keeps_current_password and not row["sealed_temp_password"])
            password = new_temporary_password() if draw else (
                unseal(at_rest, row["sealed_temp_password"], str(account.id)) if plan.keeps_current_password
                else None)
            # The letter's password becomes the one in force when this letter is delivered, whichever it is.
            sealed_at_rest = seal(at_rest, password, str(account.id)) if password else None
            is_pupil = request.population is Population.eleve
            recipient = Recipient(
                civilite=None if is_pupil else row["civilite"],
                nom=row["eleve_nom"] if is_pupil else row["personne_nom"],
                prenom=row["eleve_prenom"] if is_pupil else row["personne_prenom"], email=_email(row),
                address_lines=() if is_pupil else tuple(row["address_lines"] or ()))
            warning = ("courrier imprimé sans adresse postale" if routing.channel is Channel.paper
                       and not is_pupil and not recipient.address_lines else None)
            letters[division].append((SendNotification(
                notification_id=plan.notification_id, account_id=account.id, uai=uai, population=request.population,
                channel=routing.channel, variant=plan.variant, identifiant=account.identifiant,
                establishment_name=establishment_name, services_url=self.settings.portal_url, recipient=recipient,
                eleve_nom=row["eleve_nom"], eleve_prenom=row["eleve_prenom"], division=row["division"],
                sealed_password=seal(transit, password, str(plan.notification_id)) if password else None,
            ), sealed_at_rest))
            items.append((account.id, plan.notification_id, division, routing.channel.value, "en_attente", warning))
        return letters, items

    async def _store(self, conn: asyncpg.Connection, campaign_id: uuid.UUID, items: list[tuple[Any, ...]],
                     letters: dict[str, list[tuple[SendNotification, str | None]]]) -> None:
        all_letters = [pair for division in letters.values() for pair in division]
        await conn.execute(
            "INSERT INTO notifications (id, account_id, channel, variant, sealed_password)"
            " SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::text[])",
            [n.notification_id for n, _ in all_letters], [n.account_id for n, _ in all_letters],
            [n.channel.value for n, _ in all_letters], [n.variant.value for n, _ in all_letters],
            [sealed for _, sealed in all_letters])
        await conn.execute(
            "INSERT INTO campaign_items (campaign_id, account_id, notification_id, division, channel, status, reason,"
            " warning, settled_at) SELECT $1, a, n, d, c, s, CASE WHEN s = 'echec' THEN w END,"
            " CASE WHEN s <> 'echec' THEN w END, CASE WHEN s = 'echec' THEN now() END"
            " FROM unnest($2::uuid[], $3::uuid[], $4::text[], $5::text[], $6::text[], $7::text[])"
            " AS t(a, n, d, c, s, w)",
            campaign_id, [i[0] for i in items], [i[1] for i in items], [i[2] for i in items],
            [i[3] for i in items], [i[4] for i in items], [i[5] for i in items])

    async def _fan_out(self, conn: asyncpg.Connection, campaign_id: uuid.UUID, uai: str, ctx: Any,
                       letters: dict[str, list[tuple[SendNotification, str | None]]]) -> None:
        header = establishment_header(ctx.establishment)
        templates = ctx.setting("courriers") or {}
        jobs = []
        cid = correlation_id.get()
        for division, pairs in letters.items():
            by_id = {str(n.notification_id): n for n, _ in pairs}
            for number, chunk in enumerate(chunks(list(by_id))):
                job = NotifyBatch(campaign_id=campaign_id, uai=uai, division=division, chunk=number,
                                  establishment=header, templates=templates,
                                  letters=tuple(by_id[i] for i in chunk))
                jobs.append((f"{campaign_id}:{division}:{number}", Envelope.wrap(job, uai=uai, correlation_id=cid)))
        await enqueue_many(conn, NOTIFIER_JOBS, jobs, spread_from=campaign_id.int % NOTIFIER_JOBS.partitions)

    async def progress(self, staff: StaffPrincipal, campaign_id: uuid.UUID) -> dict[str, Any]:
        """Done / total per division and channel, and the recap of who could not be notified and why."""
        async with self.db.connection() as conn:
            campaign = await conn.fetchrow("SELECT * FROM campaigns WHERE id = $1", campaign_id)
            if campaign is None or not staff.may_act_on(campaign["uai"]):
                raise repo.NotFound(str(campaign_id))
            rows = await conn.fetch(
                "SELECT division, channel, status, count(*) AS n FROM campaign_items WHERE campaign_id = $1"
                " GROUP BY division, channel, status ORDER BY division", campaign_id)
            failures = await conn.fetch(
                "SELECT i.account_id, i.division, i.reason, a.identifiant FROM campaign_items i"
                " JOIN accounts a ON a.id = i.account_id WHERE i.campaign_id = $1 AND i.status = 'echec'"
                " ORDER BY i.division, a.identifiant", campaign_id)
            warnings = await conn.fetchval(
                "SELECT count(*) FROM campaign_items WHERE campaign_id = $1 AND warning IS NOT NULL", campaign_id)
        divisions: dict[str, dict[str, Any]] = {}
        for row in rows:
            d = divisions.setdefault(row["division"], {"division": row["division"], "total": 0, "done": 0,
                                                       "email": 0, "paper": 0, "failed": 0})
            d["total"] += row["n"]
            if row["status"] != "en_attente":
                d["done"] += row["n"]
            if row["status"] == "envoye":
                d["email"] += row["n"]
            elif row["status"] == "imprime":
                d["paper"] += row["n"]
            elif row["status"] == "echec":
                d["failed"] += row["n"]
        total = sum(d["total"] for d in divisions.values())
        done = sum(d["done"] for d in divisions.values())
        return {"id": campaign_id, "uai": campaign["uai"], "population": campaign["population"],
                "mode": campaign["mode"], "kind": campaign["kind"], "total": total, "done": done,
                "finished": done == total,
                "percent": round(100 * done / total) if total else 100, "divisions": list(divisions.values()),
                "failures": [dict(f) for f in failures], "warnings": warnings}

    async def relaunch(self, staff: StaffPrincipal, campaign_id: uuid.UUID, free_emails: FreeEmailWriter) -> uuid.UUID:
        """A new campaign over the accounts this one could not notify (a free email: the same email again)."""
        async with self.db.connection() as conn:
            campaign = await conn.fetchrow("SELECT * FROM campaigns WHERE id = $1", campaign_id)
            if campaign is None or not staff.may_act_on(campaign["uai"]):
                raise repo.NotFound(str(campaign_id))
            failed = [r["account_id"] for r in await conn.fetch(
                "SELECT account_id FROM campaign_items WHERE campaign_id = $1 AND status = 'echec'"
                " ORDER BY division, account_id", campaign_id)]
        if not failed:
            raise ActionRefused("campaign", "aucun compte n'est en échec dans cette campagne")
        if campaign["kind"] == "courriel_libre":
            message = campaign["message"]
            written = await free_emails(staff, campaign["uai"], failed, message["subject"], message["body"],
                                        campaign_id)
            return uuid.UUID(str(written["campaign_id"]))
        request = CampaignRequest(population=Population(campaign["population"]), mode=Mode(campaign["mode"]),
                                  only=failed, reset_utilise=campaign["reset_utilise"])
        return await self.launch(staff, campaign["uai"], request, relaunch_of=campaign_id)


async def settle_item(conn: asyncpg.Connection, notification_id: uuid.UUID, channel: Channel | None,
                      failure: str | None) -> None:
    """Record one letter's result in its campaign (no-op for letters outside campaigns)."""
    await settle_items(conn, [(notification_id, channel, failure)])


async def settle_items(conn: asyncpg.Connection, results: list[tuple[uuid.UUID, Channel | None, str | None]]) -> None:
    """Record letters' results in their campaigns: (notification, channel, failure) each; the first result of a
    letter wins (no-op for letters outside campaigns)."""
    first: dict[uuid.UUID, tuple[str, str | None]] = {}
    for notification_id, channel, failure in results:
        status = "echec" if failure else ("envoye" if channel is Channel.email else "imprime")
        first.setdefault(notification_id, (status, failure))
    settled = await conn.fetch(
        "UPDATE campaign_items i SET status = t.status, reason = t.reason, settled_at = now()"
        " FROM unnest($1::uuid[], $2::text[], $3::text[]) AS t(id, status, reason)"
        " WHERE i.notification_id = t.id AND i.status = 'en_attente' RETURNING i.status",
        list(first), [status for status, _ in first.values()], [reason for _, reason in first.values()])
    failed = sum(1 for row in settled if row["status"] == "echec")
    if failed:
        CAMPAIGN_LETTERS.labels("failed").inc(failed)
    if len(settled) > failed:
        CAMPAIGN_LETTERS.labels("delivered").inc(len(settled) - failed)

