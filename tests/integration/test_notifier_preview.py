"""« Visualiser le courrier »: the edited letter with sample data as a PDF; broken texts refused, scope checked."""

from __future__ import annotations

import io

from pypdf import PdfReader

from teleservices.shared.letters import DEFAULTS, TemplatePart
from teleservices.shared.security.staff import Role, StaffPrincipal
from tests.support.platform import PlatformUnderTest

UAI = "0540001A"
HEADER = {"name": "Collège Langevin Wallon", "academy": "NANCY-METZ", "town": "BLAINVILLE",
          "address_lines": ["40 rue du Rendez-Vous"], "chef": "M. E. Martin"}


async def test_a_letter_preview_shows_the_edited_text_with_sample_data(platform: PlatformUnderTest) -> None:
    platform.start("notifier")
    body = DEFAULTS[TemplatePart.responsable_nouveau_compte] + "\nRéunion de rentrée le 4 septembre."
    request = {"uai": UAI, "population": "responsable", "variant": "nouveau_compte", "establishment": HEADER,
               "templates": {"responsable_nouveau_compte": body}}
    async with platform.client("notifier") as api:
        pdf = await api.post("/api/v1/letters/preview", json=request)
        broken = await api.post("/api/v1/letters/preview", json={
            **request, "templates": {"responsable_nouveau_compte": body.replace("[Mot de passe]", "")}})
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    text = PdfReader(io.BytesIO(pdf.content)).pages[0].extract_text()
    assert "Réunion de rentrée le 4 septembre" in text and "dominique.exemple1" in text
    assert "commission nationale de l'informatique et des libertés" in " ".join(text.split())
    assert broken.status_code == 400 and broken.json()["detail"]["field"] == "responsable_nouveau_compte"

    other = StaffPrincipal(user_id="chef-b", display_name="Chef B", role=Role.chef, uais=("0540002B",))
    async with platform.client("notifier", other) as api:
        assert (await api.post("/api/v1/letters/preview", json=request)).status_code == 404
