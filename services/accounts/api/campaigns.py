"""« Notifier en masse » (guide §3.1, §4.1): preview, launch, live progress, recap and relaunch."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field

from teleservices.accounts.api.deps import Actions, scoped
from teleservices.accounts.campaigns import CampaignRequest, Campaigns
from teleservices.accounts.domain.campaign import Mode
from teleservices.accounts.domain.model import AccountState
from teleservices.accounts.domain.people import RegimeCategory
from teleservices.shared.messages.catalog import Population
from teleservices.shared.web import Staff

router = APIRouter(prefix="/api/v1", tags=["notification en masse"])


def _campaigns(request: Request) -> Campaigns:
    campaigns: Campaigns = request.app.state.campaigns
    return campaigns


CampaignsDep = Annotated[Campaigns, Depends(_campaigns)]


class CampaignIn(BaseModel):
    """The selection and the mode of transmission."""

    model_config = ConfigDict(extra="forbid")

    population: Population
    mode: Mode = Field(examples=["Courrier électronique et courrier papier"])
    divisions: list[str] | None = Field(default=None, description="Divisions ; absent : toutes")
    regimes: list[RegimeCategory] | None = None
    etats: list[AccountState] | None = None
    exclus: list[uuid.UUID] = Field(default_factory=list, description="Comptes décochés")
    reinitialiser_utilises: bool = Field(default=False, description="Élèves : réinitialiser les comptes Utilisé")

    def request(self) -> CampaignRequest:
        """The use case's request."""
        return CampaignRequest(population=self.population, mode=self.mode, divisions=self.divisions,
                               regimes=set(self.regimes) if self.regimes else None,
                               states=set(self.etats) if self.etats else None, excluded=self.exclus,
                               reset_utilise=self.reinitialiser_utilises)


@router.post("/establishments/{uai}/campaigns/preview")
async def preview(uai: str, body: CampaignIn, staff: Staff, campaigns: CampaignsDep) -> dict[str, Any]:
    """What a launch would do: "N compte(s) sélectionné(s) sur M", by email and by paper."""
    scoped(staff, uai)
    return await campaigns.preview(staff, uai, body.request())


@router.post("/establishments/{uai}/campaigns", status_code=202)
async def launch(uai: str, body: CampaignIn, staff: Staff, campaigns: CampaignsDep) -> dict[str, Any]:
    """Launch the notification of every selected account; follow it with GET /campaigns/{id}."""
    scoped(staff, uai)
    return {"id": await campaigns.launch(staff, uai, body.request())}


@router.get("/campaigns/{campaign_id}")
async def progress(campaign_id: uuid.UUID, staff: Staff, campaigns: CampaignsDep) -> dict[str, Any]:
    """Live progress per division and channel, and the recap of failures."""
    return await campaigns.progress(staff, campaign_id)


@router.post("/campaigns/{campaign_id}/relaunch", status_code=202)
async def relaunch(campaign_id: uuid.UUID, staff: Staff, campaigns: CampaignsDep, actions: Actions) -> dict[str, Any]:
    """Relaunch just the accounts that could not be notified (or, for a free email, could not be written to)."""
    return {"id": await campaigns.relaunch(staff, campaign_id, actions.write_to_many)}
