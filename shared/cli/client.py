"""How CLI commands reach the platform that `teleservices up` started (or a deployed one)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer

from teleservices.shared.embedded.secrets import load_secrets
from teleservices.shared.security.staff import Role, StaffPrincipal, issue_staff_token

DataDir = Annotated[Path, typer.Option("--data-dir", envvar="TELESERVICES_DATA_DIR",
                                       help="Dossier des données de la plateforme embarquée.")]


class PlatformNotRunning(RuntimeError):
    """No platform answers where the command looked."""


def platform_file(data_dir: Path) -> Path:
    """Where `up` records the URLs of the services it started."""
    return data_dir / "run" / "platform.json"


def service_url(data_dir: Path, service: str) -> str:
    """The base URL of a service: TELESERVICES_<SERVICE>_URL, else the running embedded platform."""
    env = os.environ.get(f"TELESERVICES_{service.upper().replace('-', '_')}_URL")
    if env:
        return env.rstrip("/")
    path = platform_file(data_dir)
    if not path.exists():
        raise PlatformNotRunning(f"aucune plateforme démarrée dans {data_dir} (lancez `teleservices up`)")
    urls: dict[str, str] = json.loads(path.read_text())["services"]
    if service not in urls:
        raise PlatformNotRunning(f"le service {service} n'est pas démarré")
    return urls[service]


def operator_token(data_dir: Path) -> str:
    """A short-lived academy-operator token for the command line, signed with the platform's staff key."""
    secret = os.environ.get("TELESERVICES_SECRET_STAFF_TOKEN_KEY") or load_secrets(data_dir).get(
        "TELESERVICES_SECRET_STAFF_TOKEN_KEY", "")
    if not secret:
        raise PlatformNotRunning("clé de signature introuvable (TELESERVICES_SECRET_STAFF_TOKEN_KEY)")
    principal = StaffPrincipal(user_id="cli", display_name="Ligne de commande", role=Role.operateur_academique)
    return issue_staff_token(principal, secret, ttl_s=300)


def call(data_dir: Path, service: str, method: str, path: str, **kwargs: Any) -> httpx.Response:
    """Call a service's API as the command line; exit with a clear message if it cannot be reached."""
    try:
        url = service_url(data_dir, service)
        headers = {"authorization": f"Bearer {operator_token(data_dir)}"}
        return httpx.request(method, f"{url}{path}", headers=headers, timeout=30, **kwargs)
    except PlatformNotRunning as exc:
        typer.echo(f"Erreur : {exc}", err=True)
        raise typer.Exit(2) from exc
    except httpx.TransportError as exc:
        typer.echo(f"Erreur : le service {service} ne répond pas ({exc.__class__.__name__}); "
                   "la plateforme est-elle démarrée (`teleservices up`) ?", err=True)
        raise typer.Exit(2) from exc


def report(response: httpx.Response, success: str) -> None:
    """Print the outcome of an API call; exit 1 with the API's explanation on an error."""
    if response.status_code >= 400:
        try:
            detail = response.json().get("detail", response.text)
        except ValueError:
            detail = response.text
        typer.echo(f"Erreur {response.status_code} : {detail}", err=True)
        raise typer.Exit(1)
    typer.echo(f"{success} : {response.text}")
