"""No secret in the repository: no private key, no .env, no secret setting given a value in a tracked file."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PRIVATE_KEY = re.compile(r"-----BEGIN (?:RSA |EC |OPENSSH |DSA )?PRIVATE KEY-----")
SECRET_VALUE = re.compile(r"TELESERVICES_(?:SECRET_[A-Z_]+|[A-Z_]*PASSWORD)\s*[=:]\s*[\"']?([A-Za-z0-9_\-+/=]{16,})")
ALLOWED_PLACEHOLDERS = {"change-me", "changeme"}


def _tracked() -> list[Path]:
    names = subprocess.run(["git", "ls-files"], cwd=ROOT, check=True, capture_output=True, text=True).stdout
    return [ROOT / name for name in names.splitlines() if (ROOT / name).is_file()]


def test_no_private_key_env_file_or_secret_value_is_tracked() -> None:
    found = []
    for path in _tracked():
        if path.name == ".env" or path.suffix in (".pem", ".key", ".p12"):
            found.append(f"{path.relative_to(ROOT)}: secret file")
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue
        if PRIVATE_KEY.search(text):
            found.append(f"{path.relative_to(ROOT)}: private key")
        for match in SECRET_VALUE.finditer(text):
            if match.group(1).lower() not in ALLOWED_PLACEHOLDERS:
                found.append(f"{path.relative_to(ROOT)}: {match.group(0)[:40]}…")
    assert found == []
