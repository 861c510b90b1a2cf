"""The canary scanner of the log tests finds a value however a JSON line writes it, and only as a whole word."""

from __future__ import annotations

import io
import json
import logging

from teleservices.shared.logs import JsonLinesFormatter
from tests.support.privacy import captured_logs, scan_log_lines


def test_a_canary_is_found_escaped_nested_or_in_an_exception() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonLinesFormatter("test"))
    log = logging.getLogger("test.scanner")
    log.addHandler(handler)
    try:
        log.warning("refused", extra={"detail": {"to": ["Éloïse.Martin@exemple.fr"]}})
        try:
            raise ValueError("bad value 'Zoé Kervella'")
        except ValueError:
            log.exception("failed")
    finally:
        log.removeHandler(handler)
    lines = [("test", line) for line in stream.getvalue().splitlines()]
    assert json.loads(lines[0][1])["detail"]
    found = scan_log_lines(lines, ["éloïse.martin@exemple.fr", "Kervella"])
    assert {f.canary for f in found} == {"éloïse.martin@exemple.fr", "Kervella"}
    assert scan_log_lines([("x", json.dumps({"m": "Zélie"}, ensure_ascii=True))], ["Zélie"])  # \\u escapes decoded
    assert not scan_log_lines([("x", '{"m": "cléarance 7f3a"}')], ["léa"])  # whole words only


def test_captured_logs_sees_what_the_services_log() -> None:
    with captured_logs() as lines:
        logging.getLogger("teleservices.accounts.x").info("account created", extra={"identifiant": "hugo.canari1"})
    assert scan_log_lines(lines, ["hugo.canari1"])
