"""Composition root of the accounts service."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from teleservices.accounts import api
from teleservices.accounts.actions import StaffActions
from teleservices.accounts.api import portal as portal_api
from teleservices.accounts.campaigns import Campaigns
from teleservices.accounts.class_lists import ClassLists
from teleservices.accounts.configuration import Configuration
from teleservices.accounts.delivery import DeliveryResults
from teleservices.accounts.establishments import Establishments
from teleservices.accounts.expiry import Expiry
from teleservices.accounts.lifecycle import PortalActivity, SiecleChanges
from teleservices.accounts.privacy import router as privacy_router
from teleservices.accounts.purge import DeparturePurge
from teleservices.accounts.purge import router as purge_router
from teleservices.accounts.redrive import StuckCampaigns
from teleservices.accounts.settings import AccountsSettings
from teleservices.shared.kafka.consumer import BatchHandlers, Handlers
from teleservices.shared.messages import portal, siecle
from teleservices.shared.messages.catalog import NotificationDelivered, NotificationFailed
from teleservices.shared.messages.topics import NOTIFIER_EVENTS, PORTAL_EVENTS, SYNC_EVENTS
from teleservices.shared.runtime import ServiceRuntime
from teleservices.shared.web import create_service_app


def handlers(settings: AccountsSettings) -> dict[str, Handlers]:
    """Which handler serves which message, per consumer group: the table to read."""
    delivery, sync, family = DeliveryResults(settings), SiecleChanges(), PortalActivity()
    return {
        "delivery-results": {NotificationDelivered: delivery.delivered, NotificationFailed: delivery.failed},
        "siecle-changes": {
            siecle.EleveArrived: sync.eleve_arrived, siecle.EleveChanged: sync.eleve_changed,
            siecle.EleveLeft: sync.eleve_left, siecle.PersonneChanged: sync.personne_changed,
            siecle.LienAdded: sync.lien_added, siecle.LienChanged: sync.lien_changed,
            siecle.LienRemoved: sync.lien_removed,
        },
        "portal-activity": {
            portal.FirstConnectionCompleted: family.first_connection,
            portal.ActivationConfirmed: family.activation_confirmed, portal.EmailValidated: family.email_validated,
            portal.LoggedIn: family.logged_in, portal.AccountsGrouped: family.accounts_grouped,
        },
    }


def batch_handlers(settings: AccountsSettings) -> dict[str, BatchHandlers]:
    """Handlers applying a run of consecutive messages of one type at once (an import's thousands of events)."""
    sync, delivery = SiecleChanges(), DeliveryResults(settings)
    return {"delivery-results": {NotificationDelivered: delivery.delivered_many},
            "siecle-changes": {siecle.EleveArrived: sync.eleves_arrived, siecle.PersonneChanged: sync.personnes_changed,
                               siecle.LienAdded: sync.liens_added}}


TOPICS = {"delivery-results": [NOTIFIER_EVENTS], "siecle-changes": [SYNC_EVENTS], "portal-activity": [PORTAL_EVENTS]}


def create_app(settings: AccountsSettings) -> FastAPI:
    """Wire the accounts service: its runtime, its consumers, its API."""
    runtime = ServiceRuntime("accounts", settings, migrations=Path(__file__).parent / "migrations")
    batched = batch_handlers(settings)
    for group, table in handlers(settings).items():  # no outside side effect: batched transactions
        runtime.consume(group, TOPICS[group], table, batch=True, batch_handlers=batched.get(group))
    app = create_service_app(runtime, title="Téléservices — comptes")
    app.state.actions = StaffActions(runtime.db, settings)
    app.state.campaigns = Campaigns(runtime.db, settings)
    app.state.class_lists = ClassLists(runtime.db, settings)
    app.state.configuration = configuration = Configuration(runtime.db)
    app.state.establishments = Establishments(runtime.db, configuration)
    app.state.expiry = expiry = Expiry(runtime.db, settings)
    runtime.every("nightly-expiry", expiry.nightly)
    app.state.departure_purge = departure_purge = DeparturePurge(runtime.db)
    runtime.every("nightly-departure-purge", departure_purge.nightly)  # ENT regulatory act, art. 6
    runtime.every("stuck-campaigns", StuckCampaigns(runtime.db, settings).watch)
    api.install(app)
    app.include_router(privacy_router)
    app.include_router(purge_router)
    app.include_router(portal_api.router)  # read-only, for the families' portal
    return app
