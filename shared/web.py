"""What every service's HTTP app has: health, readiness, Prometheus metrics, correlation ids, staff auth."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Annotated, Any

from fastapi import Depends, FastAPI, HTTPException, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from teleservices.shared.input_guard import CHECKED_BODIES, nul_in_body, nul_in_query, refusal
from teleservices.shared.kafka.dead_letters import NotReplayable, list_dead_letters, replay_dead_letter
from teleservices.shared.kafka.outbox import replay
from teleservices.shared.logs import correlation_id
from teleservices.shared.metrics import HTTP_LATENCY, HTTP_REQUESTS
from teleservices.shared.runtime import ServiceRuntime
from teleservices.shared.security.staff import InvalidStaffToken, Role, StaffPrincipal, read_staff_token

log = logging.getLogger(__name__)


def create_service_app(runtime: ServiceRuntime, title: str, version: str = "0.1.0") -> FastAPI:
    """A FastAPI app whose lifespan starts and stops the service runtime."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await runtime.start()
        try:
            yield
        finally:
            await runtime.stop()

    app = FastAPI(title=title, version=version, lifespan=lifespan)
    app.state.runtime = runtime
    app.state.settings = runtime.settings

    @app.middleware("http")
    async def refuse_nul_characters(request: Request,
                                    call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        location = nul_in_query(request.scope.get("query_string", b""))
        content_type = request.headers.get("content-type", "")
        if location is None and content_type.startswith(CHECKED_BODIES):  # never an upload's bytes
            location = nul_in_body(content_type, await request.body())
        if location is not None:
            return JSONResponse(refusal(location), status_code=422)
        return await call_next(request)

    @app.middleware("http")
    async def observe(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        cid = request.headers.get("x-correlation-id") or uuid.uuid4().hex
        token = correlation_id.set(cid)
        started = time.perf_counter()
        try:
            response = await call_next(request)
        finally:
            correlation_id.reset(token)
        route = getattr(request.scope.get("route"), "path", "unmatched")
        HTTP_REQUESTS.labels(runtime.name, request.method, route, str(response.status_code)).inc()
        HTTP_LATENCY.labels(runtime.name, route).observe(time.perf_counter() - started)
        response.headers["x-correlation-id"] = cid
        return response

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz", include_in_schema=False)
    async def readyz(response: Response) -> dict[str, str]:
        if await runtime.ready():
            return {"status": "ready"}
        response.status_code = 503
        return {"status": "starting"}

    @app.post("/admin/replay", tags=["exploitation"])
    async def replay_outbox(since: datetime, staff: Staff) -> dict[str, int]:
        """Publish again the messages this service emitted since a time (academy operators)."""
        _operators_only(staff)
        return {"messages": await replay(runtime.db, since)}

    @app.get("/admin/dead-letters", tags=["exploitation"])
    async def dead_letters(staff: Staff) -> list[dict[str, Any]]:
        """The messages this service's consumers gave up on (academy operators)."""
        _operators_only(staff)
        return await list_dead_letters(runtime.db)

    @app.post("/admin/dead-letters/{dead_letter_id}/replay", tags=["exploitation"])
    async def replay_dead_letter_route(dead_letter_id: int, staff: Staff) -> dict[str, str]:
        """Put a dead letter back on its topic, once its cause is fixed (academy operators)."""
        _operators_only(staff)
        try:
            topic = await replay_dead_letter(runtime.db, dead_letter_id, runtime.settings.kafka.topic_prefix)
        except NotReplayable as exc:
            raise HTTPException(409, detail={"field": "dead_letter_id", "reason": str(exc)}) from exc
        log.info("dead letter replayed", extra={"dead_letter_id": dead_letter_id, "topic": topic,
                                                "actor": staff.user_id})
        return {"topic": topic}

    @app.get("/metrics", include_in_schema=False)
    async def metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return app


def _operators_only(staff: StaffPrincipal) -> None:
    if staff.role is not Role.operateur_academique:
        raise HTTPException(403, detail="Réservé aux opérateurs académiques.")


def staff_principal(request: Request) -> StaffPrincipal:
    """The staff member behind the request's bearer token (401 without a valid one)."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise HTTPException(401, detail="Authentification requise.", headers={"WWW-Authenticate": "Bearer"})
    secret = request.app.state.settings.secrets.staff_token_key.get_secret_value()
    try:
        return read_staff_token(token, secret)
    except InvalidStaffToken as exc:
        raise HTTPException(401, detail="Jeton invalide ou expiré.", headers={"WWW-Authenticate": "Bearer"}) from exc


Staff = Annotated[StaffPrincipal, Depends(staff_principal)]


def require_establishment(principal: StaffPrincipal, uai: str) -> None:
    """Refuse (404, revealing nothing) a principal acting outside its establishments."""
    if not principal.may_act_on(uai):
        raise HTTPException(404, detail="Établissement inconnu.")
