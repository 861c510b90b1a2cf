"""Secrets of the embedded default: generated once into DATA_DIR/secrets.env (mode 0600)."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

SECRET_NAMES = ("STAFF_TOKEN_KEY", "LINK_KEY", "TRANSIT_KEY", "AT_REST_KEY")


def load_secrets(data_dir: Path) -> dict[str, str]:
    """The secrets file as environment variables (empty if absent)."""
    path = data_dir / "secrets.env"
    if not path.exists():
        return {}
    pairs = (line.split("=", 1) for line in path.read_text().splitlines() if "=" in line)
    return {k.strip(): v.strip() for k, v in pairs}


def ensure_secrets(data_dir: Path) -> dict[str, str]:
    """Load the secrets, generating the missing ones."""
    values = load_secrets(data_dir)
    missing = [n for n in SECRET_NAMES if f"TELESERVICES_SECRET_{n}" not in values]
    if missing:
        for name in missing:
            values[f"TELESERVICES_SECRET_{name}"] = secrets.token_urlsafe(48)
        path = data_dir / "secrets.env"
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            out.writelines(f"{k}={v}\n" for k, v in sorted(values.items()))
    return values
