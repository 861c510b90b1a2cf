"""Paper letters of a job: from the job's data to one PDF, rendered off the event loop in a process pool."""

from __future__ import annotations

import asyncio
from concurrent.futures import Executor
from dataclasses import dataclass, field
from datetime import date

from teleservices.notifier.pdf.letter import LetterData, recipient_address
from teleservices.notifier.pdf.render import PdfRenderer
from teleservices.notifier.pdf.slots import RenderSlots
from teleservices.shared.letters import TemplatePart
from teleservices.shared.messages.catalog import LetterVariant, NotifyBatch, SendNotification
from teleservices.shared.metrics import PDF_SECONDS
from teleservices.shared.security.links import LinkPurpose, issue_link_token

QR_LINK_TTL_S = 92 * 24 * 3600
"""The first-connection link of a letter lives as long as the temporary password it goes with."""


@dataclass
class Printing:
    """Renders a job's paper letters, alphabetically, into one PDF, in a render slot of the host."""

    executor: Executor
    link_key: str
    portal_url: str
    slots: RenderSlots
    renderer: PdfRenderer = field(default_factory=PdfRenderer)

    def letter(self, job: NotifyBatch, letter: SendNotification, password: str | None, today: date) -> LetterData:
        """What one paper letter prints."""
        header = job.establishment
        qr = None
        if letter.variant is LetterVariant.nouveau_compte:
            token = issue_link_token(self.link_key, letter.account_id, LinkPurpose.first_connection, QR_LINK_TTL_S)
            qr = f"{self.portal_url}/premiere-connexion?jeton={token}"
        return LetterData(
            academie=header.academy, etablissement=header.name, adresse_etablissement=header.address_lines,
            telephone=header.phone, courriel_etablissement=header.email, commune_etablissement=header.town,
            chef_etablissement=header.chef, civilite=letter.recipient.civilite, nom=letter.recipient.nom,
            prenom=letter.recipient.prenom, **recipient_address(letter.recipient.address_lines),
            nom_eleve=letter.eleve_nom, prenom_eleve=letter.eleve_prenom, division=letter.division,
            identifiant=letter.identifiant, mot_de_passe=password, adresse_des_services=letter.services_url,
            date=today, population=letter.population, variant=letter.variant,
            templates={TemplatePart(k): v for k, v in job.templates.items()}, qr_url=qr)

    async def __call__(self, job: NotifyBatch, letters: list[tuple[SendNotification, str | None]]) -> bytes:
        """One PDF, letters in alphabetical order of their recipients."""
        today = date.today()
        ordered = sorted(letters, key=lambda pair: (pair[0].recipient.nom.lower(), pair[0].recipient.prenom.lower()))
        data = [self.letter(job, letter, password, today) for letter, password in ordered]
        async with self.slots.held():
            with PDF_SECONDS.time():
                return await asyncio.wrap_future(self.renderer.submit(self.executor, data))
