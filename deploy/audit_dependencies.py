"""The installed Python dependencies checked against PyPI's advisory data (the Python Packaging Advisory Database).

`pip-audit` asks PyPI for each pinned release (`/pypi/<name>/<version>/json`); where only the project pages answer
(`/pypi/<name>/json`, as behind some package mirrors), this reads the vulnerabilities PyPI lists for the latest
release, which holds for every package installed at its latest release. Exit status 1 on any known vulnerability;
packages that could not be checked are listed, and fail the audit only with `--strict`.
"""

from __future__ import annotations

import argparse
import json
import sys
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from importlib import metadata

PYPI = "https://pypi.org/pypi"


def _json(url: str) -> dict[str, object] | None:
    try:
        with urllib.request.urlopen(url, timeout=20) as answer:  # noqa: S310 — a fixed https address
            return json.load(answer)  # type: ignore[no-any-return]
    except urllib.error.HTTPError as error:
        if error.code == 404:
            return None
        raise


def check(name: str, version: str) -> tuple[str, list[str]]:
    """('ok' | 'vulnerable' | 'unchecked: why', the advisories' ids with their fixed versions)."""
    try:
        return _check(name, version)
    except (OSError, ValueError) as error:
        return f"unchecked: PyPI unreachable ({type(error).__name__})", []


def _check(name: str, version: str) -> tuple[str, list[str]]:
    release = _json(f"{PYPI}/{name}/{version}/json")
    if release is None:
        project = _json(f"{PYPI}/{name}/json")
        if project is None:
            return "unchecked: not on PyPI", []
        latest = str(project["info"]["version"])  # type: ignore[index]
        if latest != version:
            return f"unchecked: {version} installed, PyPI answers for {latest} only", []
        release = project
    found = [f"{v['id']} (corrigé en {', '.join(v.get('fixed_in') or ['?'])})"
             for v in release.get("vulnerabilities") or [] if not v.get("withdrawn")]  # type: ignore[union-attr]
    return ("vulnerable" if found else "ok"), found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--strict", action="store_true", help="fail when a package could not be checked")
    args = parser.parse_args()
    installed = sorted({(d.metadata["Name"].lower(), d.version) for d in metadata.distributions()
                        if d.metadata["Name"] and d.metadata["Name"].lower() != "teleservices"})
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda nv: (nv, check(*nv)), installed))
    vulnerable = [(nv, ids) for nv, (status, ids) in results if status == "vulnerable"]
    unchecked = [(nv, status) for nv, (status, _) in results if status.startswith("unchecked")]
    for (name, version), ids in vulnerable:
        print(f"VULNÉRABLE {name} {version}: {'; '.join(ids)}")
    for (name, version), status in unchecked:
        print(f"non vérifié {name} {version}: {status.removeprefix('unchecked: ')}")
    print(f"{len(installed)} paquets : {len(installed) - len(vulnerable) - len(unchecked)} sans vulnérabilité connue, "
          f"{len(vulnerable)} vulnérable(s), {len(unchecked)} non vérifié(s).")
    return 1 if vulnerable or (args.strict and unchecked) else 0


if __name__ == "__main__":
    sys.exit(main())
