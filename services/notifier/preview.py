"""« Visualiser le courrier »: a letter with sample data, as the PDF will look, before anything is sent."""

from __future__ import annotations

import asyncio
from datetime import date

from fastapi import APIRouter, HTTPException, Response
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from teleservices.notifier.pdf.letter import LetterData
from teleservices.notifier.pdf.render import render_letters_pdf
from teleservices.shared import letters
from teleservices.shared.messages.catalog import EstablishmentHeader, LetterVariant, Population
from teleservices.shared.web import Staff, require_establishment

router = APIRouter(prefix="/api/v1", tags=["courriers"])


class PreviewIn(BaseModel):
    """Which letter to show, with the establishment's (possibly unsaved) texts."""

    model_config = ConfigDict(extra="forbid")

    uai: str = Field(pattern=r"^[0-9]{7}[A-Z]$")
    population: Population
    variant: LetterVariant
    establishment: EstablishmentHeader
    templates: dict[letters.TemplatePart, str] = Field(default_factory=dict)
    services_url: str = Field(default="https://scolarite-services.exemple.fr", max_length=500,
                              pattern=r"^https?://[^\s]+$")


def sample_letter(body: PreviewIn) -> LetterData:
    """The letter filled with fictional sample data."""
    header = body.establishment
    return LetterData(
        academie=header.academy, etablissement=header.name, adresse_etablissement=header.address_lines,
        telephone=header.phone, courriel_etablissement=header.email, commune_etablissement=header.town,
        chef_etablissement=header.chef, civilite="MME", nom="EXEMPLE", prenom="Dominique",
        adresse=("12 rue des Écoles",), code_postal="54000", commune="NANCY", nom_eleve="EXEMPLE",
        prenom_eleve="Camille", division="3 A", identifiant="dominique.exemple1",
        mot_de_passe="k7m2p9x4" if body.variant is LetterVariant.nouveau_compte else None,
        adresse_des_services=body.services_url, date=date.today(), population=body.population,
        variant=body.variant, templates={**letters.DEFAULTS, **body.templates},
        qr_url=f"{body.services_url}/premiere-connexion?jeton=exemple"
        if body.variant is LetterVariant.nouveau_compte else None)


@router.post("/letters/preview")
async def preview(body: PreviewIn, staff: Staff) -> Response:
    """The letter as a one-page PDF with sample data; texts that lose a required field are refused."""
    require_establishment(staff, body.uai)
    for part, text in body.templates.items():
        try:
            letters.check_template(part, text)
        except letters.TemplateRefused as refused:
            raise HTTPException(400, detail={"field": refused.field, "reason": refused.reason}) from refused
    try:
        letter = sample_letter(body)
    except ValidationError as refused:  # what the letter itself cannot print (an establishment field…)
        error = refused.errors()[0]
        field = ".".join(str(part) for part in error["loc"]) or "establishment"
        raise HTTPException(400, detail={"field": field, "reason": error["msg"]}) from refused
    pdf = await asyncio.to_thread(render_letters_pdf, [letter], title="Aperçu du courrier")
    return Response(pdf, media_type="application/pdf", headers={"cache-control": "no-store"})
