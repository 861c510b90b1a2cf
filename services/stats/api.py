"""The statistics API: each screen's tables as JSON, .xlsx and CSV; the academy view for academy operators."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

from fastapi import APIRouter, FastAPI, HTTPException, Path, Query, Request, Response

from teleservices.shared.security.staff import Menu, Role, StaffPrincipal
from teleservices.shared.web import Staff, require_establishment
from teleservices.stats.domain.tables import Synthesis
from teleservices.stats.exports import XLSX_MEDIA_TYPE, csv_text, xlsx
from teleservices.stats.queries import ACADEMY_SORT_KEYS
from teleservices.stats.service import Statistics, Synthese

UAI = Annotated[str, Path(pattern=r"^[0-9]{7}[A-Z]$", description="UAI of the establishment")]
ACADEMY = Annotated[str, Path(pattern=r"^[A-Za-z0-9_-]{1,60}$", description="Academy code, e.g. NANCY-METZ")]
SyntheseParam = Annotated[Synthese, Path(description=(
    "eleves: Synthèse comptes élèves (§5.1); responsables: Synthèse comptes responsables (§5.2); "
    "acces: Synthèse accès téléservices (§5.3); activation: funnel per division; expiration: accounts due to "
    "expire; campagnes: delivery results per campaign"))]
AcademySort = StrEnum("AcademySort", {key: key for key in ACADEMY_SORT_KEYS})  # type: ignore[misc]


class Order(StrEnum):
    """Sort order."""

    asc = "asc"
    desc = "desc"


router = APIRouter(prefix="/api/v1", tags=["statistiques"])


def _statistics(request: Request) -> Statistics:
    statistics: Statistics = request.app.state.statistics
    return statistics


def _scoped(staff: StaffPrincipal, uai: str) -> None:
    """Another establishment's figures: 404; a delegate without the Statistiques menu: 403."""
    require_establishment(staff, uai)
    if not staff.may_use(Menu.statistiques):
        raise HTTPException(403, detail={"field": "menu", "reason": "le chef d'établissement n'a pas délégué le"
                                                                     " menu « Statistiques »"})


def _operator(staff: StaffPrincipal, academy: str) -> None:
    """The academy view is for the academy's operators only (403 for school staff)."""
    if staff.role is not Role.operateur_academique:
        raise HTTPException(403, detail="Réservé aux opérateurs académiques.")
    if staff.academy is not None and staff.academy != academy:
        raise HTTPException(403, detail="Réservé aux opérateurs de cette académie.")


def _download(body: bytes | str, media_type: str, filename: str) -> Response:
    return Response(body, media_type=media_type,
                    headers={"content-disposition": f'attachment; filename="{filename}"',
                             "cache-control": "no-store"})


XLSX_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {"content": {XLSX_MEDIA_TYPE: {}}, "description": "The workbook: one sheet per table."}}
CSV_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/csv": {}}, "description": "Every table, one after the other (;)."}}


@router.get("/establishments/{uai}/stats/{synthese}", response_model=Synthesis)
async def establishment_statistics(uai: UAI, synthese: SyntheseParam, staff: Staff, request: Request) -> Synthesis:
    """Every table of a statistics screen of the establishment, current within seconds of the events.

    Counts are integers; a `percent` column holds a percentage with at most two decimals (0.71 means
    « 0.71 % »). Per-structure tables (section "structure") are one per MEF with its divisions and a
    "Somme :" total; a representative account grouped over several children counts once per line.
    """
    _scoped(staff, uai)
    return await _statistics(request).establishment(uai, synthese)


@router.get("/establishments/{uai}/stats/{synthese}/xlsx", response_class=Response, responses=XLSX_RESPONSE)
async def establishment_statistics_xlsx(uai: UAI, synthese: SyntheseParam, staff: Staff,
                                        request: Request) -> Response:
    """« Exporter en Excel »: every table of the screen in one workbook (header rows frozen)."""
    _scoped(staff, uai)
    synthesis = await _statistics(request).establishment(uai, synthese)
    return _download(xlsx(synthesis), XLSX_MEDIA_TYPE, f"statistiques-{synthese.value}-{uai}.xlsx")


@router.get("/establishments/{uai}/stats/{synthese}/csv", response_class=Response, responses=CSV_RESPONSE)
async def establishment_statistics_csv(uai: UAI, synthese: SyntheseParam, staff: Staff,
                                       request: Request) -> Response:
    """Every table of the screen as CSV (semicolons, percentages as the guide prints them)."""
    _scoped(staff, uai)
    synthesis = await _statistics(request).establishment(uai, synthese)
    return _download(csv_text(synthesis), "text/csv; charset=utf-8", f"statistiques-{synthese.value}-{uai}.csv")


AcademyQuery = Annotated[AcademySort, Query(description="Column to sort the establishments by")]
OrderQuery = Annotated[Order, Query(description="asc: who is behind first (default)")]


@router.get("/academies/{academy}/stats", response_model=Synthesis)
async def academy_statistics(academy: ACADEMY, staff: Staff, request: Request,
                             sort: AcademyQuery = AcademySort("taux_activation"),
                             order: OrderQuery = Order.asc) -> Synthesis:
    """The academy view (operators only): each establishment's figures and activation rate, sortable,
    with the academy's total."""
    _operator(staff, academy)
    return await _statistics(request).academy(academy, sort.value, order is Order.desc)


@router.get("/academies/{academy}/stats/xlsx", response_class=Response, responses=XLSX_RESPONSE)
async def academy_statistics_xlsx(academy: ACADEMY, staff: Staff, request: Request,
                                  sort: AcademyQuery = AcademySort("taux_activation"),
                                  order: OrderQuery = Order.asc) -> Response:
    """The academy view as a workbook."""
    _operator(staff, academy)
    synthesis = await _statistics(request).academy(academy, sort.value, order is Order.desc)
    return _download(xlsx(synthesis), XLSX_MEDIA_TYPE, f"statistiques-academie-{academy}.xlsx")


@router.get("/academies/{academy}/stats/csv", response_class=Response, responses=CSV_RESPONSE)
async def academy_statistics_csv(academy: ACADEMY, staff: Staff, request: Request,
                                 sort: AcademyQuery = AcademySort("taux_activation"),
                                 order: OrderQuery = Order.asc) -> Response:
    """The academy view as CSV."""
    _operator(staff, academy)
    synthesis = await _statistics(request).academy(academy, sort.value, order is Order.desc)
    return _download(csv_text(synthesis), "text/csv; charset=utf-8", f"statistiques-academie-{academy}.csv")


def install(app: FastAPI) -> None:
    """Add the statistics routes."""
    app.include_router(router)
