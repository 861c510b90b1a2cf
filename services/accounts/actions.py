"""Staff actions on one account (guide §3.2, §4.2): each checks scope and state, is audited, emits its events."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import asyncpg

from teleservices.accounts import audit, events, lifecycle
from teleservices.accounts import repository as repo
from teleservices.accounts.campaigns import establishment_header
from teleservices.accounts.domain.identifiers import normalise_part
from teleservices.accounts.domain.model import Account, AccountState, ActionRefused
from teleservices.accounts.permissions import accounts_menu, require_menu
from teleservices.accounts.settings import AccountsSettings
from teleservices.shared.db import Database
from teleservices.shared.messages.catalog import (
    Channel,
    IdentifierChanged,
    NotifyBatch,
    Population,
    Recipient,
    SendActivationEmail,
    SendFreeEmail,
    SendNotification,
)
from teleservices.shared.messages.topics import NOTIFIER_JOBS, NOTIFIER_URGENT
from teleservices.shared.security.links import LinkPurpose, issue_link_token
from teleservices.shared.security.passwords import new_temporary_password
from teleservices.shared.security.sealing import seal, unseal
from teleservices.shared.security.staff import StaffPrincipal


class Busy(RuntimeError):
    """Another action holds the account right now."""


@dataclass(frozen=True)
class Scope:
    """An account as seen from one establishment: the attachment staff act through."""

    account: Account
    row: asyncpg.Record
    uai: str
    eleve_id: str
    personne_id: str | None
    establishment: asyncpg.Record


@dataclass
class StaffActions:
    """Everything staff can do on one account, in the guide's words."""

    db: Database
    settings: AccountsSettings

    def _key(self, name: str) -> str:
        return str(getattr(self.settings.secrets, name).get_secret_value())

    @asynccontextmanager
    async def _acting(self, staff: StaffPrincipal,
                      account_id: uuid.UUID) -> AsyncIterator[tuple[asyncpg.Connection, Scope]]:
        """Open a transaction on a visible account, locked (a concurrent action gets Busy, not a wait)."""
        async with self.db.transaction() as conn:
            scope = await self._scope(conn, staff, account_id, lock=True)
            yield conn, scope

    async def _scope(self, conn: asyncpg.Connection, staff: StaffPrincipal, account_id: uuid.UUID,
                     lock: bool = False, uai: str | None = None) -> Scope:
        rows = await repo.rattachements_of(conn, account_id)
        visible = [r for r in rows if staff.may_act_on(r["uai"]) and uai in (None, r["uai"])]
        if not visible:
            raise repo.NotFound(str(account_id))
        require_menu(staff, accounts_menu(visible[0]["population"]))
        try:
            account, row = await repo.load_account(conn, account_id, for_update=lock)
        except asyncpg.LockNotAvailableError as exc:
            raise Busy(str(account_id)) from exc
        attached = [r for r in visible if r["detached_at"] is None]
        if not attached and account.closed_at is None:
            raise ActionRefused("compte", "ce compte n'est plus rattaché à un élève de l'établissement"
                                          " (élève parti, ou compte remplacé par un nouveau compte)")
        chosen = (attached or visible)[0]
        establishment = await repo.get_establishment(conn, chosen["uai"])
        if establishment["activated_at"] is None:
            raise ActionRefused("uai", "les téléservices ne sont pas activés pour cet établissement")
        if account.closed_at is not None:
            raise ActionRefused("etat", "ce compte a été supprimé")
        return Scope(account, row, chosen["uai"], chosen["eleve_id"], chosen["personne_id"], establishment)

    async def recipient(self, conn: asyncpg.Connection, scope: Scope) -> tuple[Recipient, asyncpg.Record]:
        """The person a letter goes to, with the address shown in « Adresse / Courriel »."""
        eleve = await repo.get_eleve(conn, scope.uai, scope.eleve_id)
        if scope.account.population is Population.eleve:
            person: Any = eleve
            civilite, address = None, ()
        else:
            person = await repo.get_personne(conn, scope.uai, scope.personne_id or "")
            civilite, address = person["civilite"], tuple(person["address_lines"])
        account = scope.account
        email = account.email if account.email_validated and account.email else person["email"]
        return Recipient(civilite=civilite, nom=person["nom"], prenom=person["prenom"], email=email,
                         address_lines=address), eleve

    async def notify(self, staff: StaffPrincipal, account_id: uuid.UUID, channel: Channel,
                     reset_password: bool = False) -> uuid.UUID:
        """Notify, renotify, or reset and notify: the binding table decides password and letter."""
        async with self._acting(staff, account_id) as (conn, scope):
            notification_id = await self._launch(conn, scope, channel, reset_password)
            await audit.record(conn, staff, "reinitialiser_et_notifier" if reset_password else "notifier",
                               scope.uai, account_id, mode=channel.value, notification_id=str(notification_id))
        return notification_id

    async def _launch(self, conn: asyncpg.Connection, scope: Scope, channel: Channel,
                      reset_password: bool) -> uuid.UUID:
        account = scope.account
        plan = account.plan_notification(channel, reset_password)
        recipient, eleve = await self.recipient(conn, scope)
        if channel is Channel.email and not recipient.email:
            raise ActionRefused("mode", "aucune adresse de messagerie n'est connue pour ce compte")
        password: str | None = None
        draw = plan.new_password or (plan.keeps_current_password and not scope.row["sealed_temp_password"])
        if draw:
            password = new_temporary_password()
        elif plan.keeps_current_password:
            password = unseal(self._key("at_rest_key"), scope.row["sealed_temp_password"], str(account.id))
        at_rest = seal(self._key("at_rest_key"), password, str(account.id)) if password else None
        await repo.insert_notification(conn, plan.notification_id, account.id, channel, plan.variant.value, at_rest)
        command = SendNotification(
            notification_id=plan.notification_id, account_id=account.id, uai=scope.uai,
            population=account.population, channel=channel, variant=plan.variant, identifiant=account.identifiant,
            establishment_name=scope.establishment["name"], services_url=self.settings.portal_url,
            recipient=recipient, eleve_nom=eleve["nom"], eleve_prenom=eleve["prenom"], division=eleve["division"],
            sealed_password=seal(self._key("transit_key"), password, str(plan.notification_id)) if password else None,
        )
        if channel is Channel.paper:  # printed like a campaign's letters: a one-letter job, its PDF to download
            templates = (scope.establishment["settings"] or {}).get("courriers") or {}
            job = NotifyBatch(campaign_id=plan.notification_id, uai=scope.uai, division=eleve["division"] or "",
                              chunk=0, establishment=establishment_header(scope.establishment), templates=templates,
                              letters=(command,))
            await events.emit(conn, job, str(plan.notification_id), scope.uai, topic=NOTIFIER_URGENT)
        else:
            await events.emit(conn, command, str(plan.notification_id), scope.uai, topic=NOTIFIER_URGENT)
        return plan.notification_id

    async def new_account(self, staff: StaffPrincipal, account_id: uuid.UUID, channel: Channel) -> dict[str, Any]:
        """A new identifier and temporary password, notified at once (guide §3.2, §4.2)."""
        async with self._acting(staff, account_id) as (conn, scope):
            old = scope.account
            at = lifecycle.now()
            if old.population is Population.eleve:
                await lifecycle.close_account(conn, old.id, "nouveau compte créé", actor=staff.user_id, at=at)
            else:
                await repo.detach(conn, old.id, scope.uai, scope.eleve_id, at)
            new = await lifecycle.precreate(conn, scope.uai, scope.eleve_id, old.population, scope.personne_id)
            if old.population is Population.responsable:
                await conn.execute("INSERT INTO replacements (account_id, replaced_id) VALUES ($1, $2)", new.id, old.id)
            new_scope = Scope(new, await conn.fetchrow("SELECT * FROM accounts WHERE id = $1", new.id), scope.uai,
                              scope.eleve_id, scope.personne_id, scope.establishment)
            notification_id = await self._launch(conn, new_scope, channel, reset_password=False)
            await events.emit(conn, IdentifierChanged(account_id=new.id, replaced_account_id=old.id, uai=scope.uai,
                                                      identifiant=new.identifiant), str(new.id), scope.uai)
            await audit.record(conn, staff, "nouveau_compte", scope.uai, old.id, new_account_id=str(new.id),
                               mode=channel.value)
        return {"id": new.id, "identifiant": new.identifiant, "notification_id": notification_id}

    async def simulate_access(self, staff: StaffPrincipal, account_id: uuid.UUID) -> str:
        """A short-lived read-only link to the portal as this account (Utilisé only)."""
        async with self._acting(staff, account_id) as (conn, scope):
            scope.account.ensure_can_simulate()
            token = issue_link_token(self._key("link_key"), account_id, LinkPurpose.simulation, ttl_s=600)
            await audit.record(conn, staff, "simuler_acces", scope.uai, account_id)
        return f"{self.settings.portal_url}/simulation?jeton={token}"

    async def resend_activation(self, staff: StaffPrincipal, account_id: uuid.UUID, email: str | None) -> uuid.UUID:
        """Send the activation link again, to a corrected address if given (En cours d'activation only)."""
        async with self._acting(staff, account_id) as (conn, scope):
            account = scope.account
            account.ensure_can_resend_activation()
            if email:
                account.email, account.email_validated = email, False
                await lifecycle.store(conn, account, actor=staff.user_id)
            if not account.email:
                raise ActionRefused("email", "aucune adresse de messagerie à valider n'est connue")
            token = issue_link_token(self._key("link_key"), account_id, LinkPurpose.activation,
                                     ttl_s=self.settings.activation_link_ttl_s)
            notification_id = uuid.uuid4()
            await events.emit(conn, SendActivationEmail(
                notification_id=notification_id, account_id=account_id, uai=scope.uai,
                identifiant=account.identifiant, establishment_name=scope.establishment["name"], email=account.email,
                activation_url=f"{self.settings.portal_url}/activation?jeton={token}",
            ), str(notification_id), scope.uai, topic=NOTIFIER_URGENT)
            await audit.record(conn, staff, "renvoyer_courriel_activation", scope.uai, account_id,
                               address_corrected=bool(email))
        return notification_id

    async def write_email(self, staff: StaffPrincipal, account_id: uuid.UUID, subject: str,
                          body: str) -> dict[str, Any]:
        """A free email to the account's holder, at the address shown (guide §3.2, §4.2), followed like a campaign."""
        async with self.db.transaction() as conn:
            scope = await self._scope(conn, staff, account_id)
            written = await self._write(conn, staff, scope.uai, [account_id], subject, body, relaunch_of=None)
        if not written["sent"]:
            raise ActionRefused("email", "aucune adresse de messagerie n'est connue pour ce compte")
        return {"notification_id": written["notification_ids"][0], "campaign_id": written["campaign_id"]}

    async def write_to_many(self, staff: StaffPrincipal, uai: str, account_ids: list[uuid.UUID], subject: str,
                            body: str, relaunch_of: uuid.UUID | None = None) -> dict[str, Any]:
        """« Écrire à plusieurs responsables »: the same email, sent separately to each one with an address.

        All or nothing: every account is checked before any email leaves. Those without an address are the
        campaign's failures, relaunched in one click once an address is known."""
        async with self.db.transaction() as conn:
            return await self._write(conn, staff, uai, account_ids, subject, body, relaunch_of)

    async def _write(self, conn: asyncpg.Connection, staff: StaffPrincipal, uai: str, account_ids: list[uuid.UUID],
                     subject: str, body: str, relaunch_of: uuid.UUID | None) -> dict[str, Any]:
        campaign_id = uuid.uuid4()
        scopes = [await self._scope(conn, staff, account_id, uai=uai) for account_id in dict.fromkeys(account_ids)]
        population = scopes[0].account.population if scopes else Population.responsable
        await conn.execute(
            "INSERT INTO campaigns (id, uai, population, mode, kind, message, selection, actor_id, relaunch_of)"
            " VALUES ($1, $2, $3, 'Courrier électronique seul', 'courriel_libre', $4, $5, $6, $7)",
            campaign_id, uai, population.value, {"subject": subject, "body": body},
            {"only": [str(s.account.id) for s in scopes]}, staff.user_id, relaunch_of)
        sent: list[uuid.UUID] = []
        without_address: list[uuid.UUID] = []
        contact = (scopes[0].establishment["settings"] or {}).get("contact", {}).get("adresse_contact") \
            if scopes else None
        for scope in scopes:
            recipient, eleve = await self.recipient(conn, scope)
            notification_id = uuid.uuid4() if recipient.email else None
            await conn.execute(
                "INSERT INTO campaign_items (campaign_id, account_id, notification_id, division, channel, status,"
                " reason, settled_at) VALUES ($1, $2, $3, $4, 'email', $5, $6, CASE WHEN $5 = 'echec' THEN now() END)",
                campaign_id, scope.account.id, notification_id, eleve["division"] or "",
                "en_attente" if notification_id else "echec",
                None if notification_id else "aucune adresse de messagerie")
            if notification_id is None or recipient.email is None:
                without_address.append(scope.account.id)
                continue
            await events.emit(conn, SendFreeEmail(
                notification_id=notification_id, account_id=scope.account.id, uai=uai,
                establishment_name=scope.establishment["name"], reply_to=contact, email=recipient.email,
                subject=subject, body=body), str(notification_id), uai, topic=NOTIFIER_JOBS)
            await audit.record(conn, staff, "ecrire_courriel", uai, scope.account.id,
                               notification_id=str(notification_id))
            sent.append(notification_id)
        return {"campaign_id": campaign_id, "sent": len(sent), "notification_ids": sent,
                "without_address": without_address}

    async def temporary_password(self, staff: StaffPrincipal, account_id: uuid.UUID) -> str | None:
        """The temporary password in force, readable until the account is activated (class lists)."""
        async with self.db.transaction() as conn:
            scope = await self._scope(conn, staff, account_id)
            sealed = scope.row["sealed_temp_password"]
            await audit.record(conn, staff, "consulter_mot_de_passe_provisoire", scope.uai, account_id)
        if scope.account.state is not AccountState.notifie or not sealed:
            return None
        return unseal(self._key("at_rest_key"), sealed, str(account_id))

    async def group(self, staff: StaffPrincipal, account_id: uuid.UUID, grouped_id: uuid.UUID) -> None:
        """Group another child's representative account into this one (the other is closed)."""
        async with self._acting(staff, account_id) as (conn, scope):
            if grouped_id == account_id:
                raise ActionRefused("grouped_account_id", "un compte ne se regroupe pas avec lui-même")
            other = await self._scope(conn, staff, grouped_id, lock=True)
            await self._ensure_grouping_allowed(conn, scope)
            if Population.eleve in (scope.account.population, other.account.population):
                raise ActionRefused("compte", "seuls les comptes responsables se regroupent")
            if not await self._same_person(conn, scope, other):
                raise ActionRefused("grouped_account_id", "les deux comptes ne sont pas ceux de la même personne")
            await lifecycle.group_accounts(conn, account_id, grouped_id, actor=staff.user_id, at=lifecycle.now())
            await audit.record(conn, staff, "regrouper", scope.uai, account_id, grouped_account_id=str(grouped_id))

    async def ungroup(self, staff: StaffPrincipal, account_id: uuid.UUID, eleve_id: str) -> Account:
        """Give one child of a grouped account its own account again (Non notifié, new identifier)."""
        async with self._acting(staff, account_id) as (conn, _):
            attached = [r for r in await repo.rattachements_of(conn, account_id)
                        if r["detached_at"] is None and staff.may_act_on(r["uai"])]
            row = next((r for r in attached if r["eleve_id"] == eleve_id), None)
            if row is None or len(attached) < 2:
                raise ActionRefused("eleve_id", "cet élève n'est pas regroupé sur ce compte")
            await repo.detach(conn, account_id, row["uai"], eleve_id, lifecycle.now())
            new = await lifecycle.precreate(conn, row["uai"], eleve_id, Population.responsable, row["personne_id"])
            await audit.record(conn, staff, "degrouper", row["uai"], account_id, new_account_id=str(new.id))
        return new

    async def _same_person(self, conn: asyncpg.Connection, one: Scope, other: Scope) -> bool:
        """Whether two representative accounts are held by the same person (same names in SIECLE)."""
        first = await repo.get_personne(conn, one.uai, one.personne_id or "")
        second = await repo.get_personne(conn, other.uai, other.personne_id or "")
        return all(normalise_part(first[f]) == normalise_part(second[f]) for f in ("nom", "prenom"))

    async def _ensure_grouping_allowed(self, conn: asyncpg.Connection, scope: Scope) -> None:
        academy = await repo.get_academy(conn, scope.establishment["academy"])
        if not academy["grouping_enabled"]:
            raise ActionRefused("regroupement", "le regroupement de comptes est désactivé par l'académie")
