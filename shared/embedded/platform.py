"""`teleservices up`: the whole platform on one machine, every service in its own process."""

from __future__ import annotations

import json
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import FrameType

from teleservices.shared.embedded.brokers import Broker, free_port, make_broker
from teleservices.shared.embedded.postgres import EmbeddedPostgres
from teleservices.shared.embedded.processes import ServiceProcess
from teleservices.shared.embedded.secrets import ensure_secrets

log = logging.getLogger(__name__)

DEFAULT_PORTS = {"gateway": 8000, "portal-auth": 8001, "accounts": 8010, "sync": 8011, "stats": 8012}
MAILBOX_HTTP_PORT, MAILBOX_SMTP_PORT, BROKER_PORT = 8025, 1025, 9092
START_ORDER = ("accounts", "sync", "stats", "portal-auth", "gateway")


def _port(env_name: str, default: int) -> int:
    return int(os.environ.get(env_name, default))


def _port_free(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) != 0


def _say(text: str) -> None:
    print(text, flush=True)


class EmbeddedPlatform:
    """PostgreSQL, a Kafka-protocol broker, the mailbox and every service, stopped together by Ctrl-C."""

    def __init__(self, data_dir: Path, notifiers: int = 1, broker: str = "tansu", demo: bool = True):
        self.data_dir = data_dir
        self.notifiers = notifiers
        self.broker_kind = broker
        self.demo = demo
        self.logs = data_dir / "logs"
        self.postgres = EmbeddedPostgres(data_dir / "pg")
        self.broker: Broker | None = None
        self.mailbox: subprocess.Popen[bytes] | None = None
        self.processes: list[ServiceProcess] = []
        self._stopping = False

    def run(self) -> None:
        """Start everything, seed the demo, print the URLs, supervise until Ctrl-C."""
        signal.signal(signal.SIGTERM, self.on_signal)
        try:
            self.start()
            self._print_urls()
            self.supervise()
        except KeyboardInterrupt:
            pass
        finally:
            self.stop()

    def start(self) -> None:
        """Start the infrastructure, then the services in order, then seed the demo."""
        self.logs.mkdir(parents=True, exist_ok=True)
        secrets = ensure_secrets(self.data_dir)
        _say("Démarrage de PostgreSQL…")
        self.postgres.start()
        database_url = self.postgres.create_database("teleservices")
        _say(f"Démarrage du broker {self.broker_kind}…")
        port = _port("TELESERVICES_BROKER_PORT", BROKER_PORT)
        self.broker = make_broker(self.broker_kind, self.data_dir / "broker", port=port if _port_free(port) else 0)
        self.broker.start()
        smtp_port = _port("TELESERVICES_MAILBOX_SMTP_PORT", MAILBOX_SMTP_PORT)
        self._start_mailbox(smtp_port)
        notifier_ports = [free_port() for _ in range(self.notifiers)]
        common = {
            "TELESERVICES_ENVIRONMENT": "development",
            "TELESERVICES_DATA_DIR": str(self.data_dir),
            "TELESERVICES_DATABASE_URL": database_url,
            "TELESERVICES_KAFKA_BOOTSTRAP_SERVERS": self.broker.bootstrap_servers,
            "TELESERVICES_KAFKA_IDEMPOTENT_PRODUCER": str(self.broker_kind == "kafka").lower(),
            "TELESERVICES_NOTIFIER_SMTP_PORT": str(smtp_port),
            "TELESERVICES_NOTIFIER_PORTAL_URL": f"http://127.0.0.1:{self._http_port('portal-auth')}",
            "TELESERVICES_ACCOUNTS_PORTAL_URL": f"http://127.0.0.1:{self._http_port('portal-auth')}",
            "TELESERVICES_PORTAL_AUTH_PUBLIC_URL": f"http://127.0.0.1:{self._http_port('portal-auth')}",
            "TELESERVICES_PORTAL_AUTH_ACCOUNTS_URL": f"http://127.0.0.1:{self._http_port('accounts')}",
            "TELESERVICES_PORTAL_AUTH_COOKIE_SECURE": "false",  # plain http on this machine only
            # Where accounts gathers a person's data from the others (right of access).
            "TELESERVICES_SYNC_URL": f"http://127.0.0.1:{self._http_port('sync')}",
            "TELESERVICES_NOTIFIER_URL": f"http://127.0.0.1:{notifier_ports[0]}",
            **secrets,
        }
        for service in START_ORDER:
            if service == "gateway":  # the gateway fronts the others: their URLs, notifiers included
                fronted = {f"TELESERVICES_GATEWAY_{s.upper().replace('-', '_')}_URL": f"http://127.0.0.1:{self._http_port(s)}"
                           for s in ("accounts", "sync", "stats", "portal-auth")}
                notifiers = ",".join(p.url for p in self.processes if p.service == "notifier")
                common = {**common, **fronted, "TELESERVICES_GATEWAY_NOTIFIER_URLS": notifiers}
            self._launch(service, service, self._http_port(service), common)
            if service == "accounts":
                for n, port in enumerate(notifier_ports, start=1):
                    self._launch(f"notifier-{n}", "notifier", port, common)
        for process in self.processes:
            process.wait_ready(timeout=90)
        self._write_platform_file()
        if self.demo:
            from teleservices.shared.embedded.demo import seed_demo

            seed_demo(self.data_dir, self._by_name("accounts").url, self._by_name("sync").url,
                      self._by_name("gateway").url)

    def _http_port(self, service: str) -> int:
        return _port(f"TELESERVICES_{service.upper().replace('-', '_')}_HTTP_PORT", DEFAULT_PORTS[service])

    def _start_mailbox(self, smtp_port: int) -> None:
        http_port = _port("TELESERVICES_MAILBOX_HTTP_PORT", MAILBOX_HTTP_PORT)
        with (self.logs / "mailbox.log").open("ab") as out:
            self.mailbox = subprocess.Popen(
                [sys.executable, "-m", "teleservices.shared.cli", "mailbox", "--dir", str(self.data_dir / "mailbox"),
                 "--smtp-port", str(smtp_port), "--http-port", str(http_port)],
                stdout=out, stderr=subprocess.STDOUT, start_new_session=True)

    def _launch(self, name: str, service: str, port: int, common: dict[str, str]) -> None:
        prefix = f"TELESERVICES_{service.upper().replace('-', '_')}_"
        env = {**common, f"{prefix}HTTP_PORT": str(port)}
        process = ServiceProcess(name, service, env, port, self.logs / f"{name}.log")
        process.start()
        self.processes.append(process)

    def _by_name(self, name: str) -> ServiceProcess:
        return next(p for p in self.processes if p.name == name)

    def _write_platform_file(self) -> None:
        services = {p.name: p.url for p in self.processes if not p.name.startswith("notifier-")}
        path = self.data_dir / "run" / "platform.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({"pid": os.getpid(), "services": services,
                                    "notifiers": [p.url for p in self.processes if p.service == "notifier"]},
                                   indent=2))

    def _print_urls(self) -> None:
        mailbox = _port("TELESERVICES_MAILBOX_HTTP_PORT", MAILBOX_HTTP_PORT)
        _say("\nTéléservices est démarré :")
        _say(f"  Administration (personnel) : http://127.0.0.1:{self._http_port('gateway')}")
        _say(f"  Scolarité services (familles) : http://127.0.0.1:{self._http_port('portal-auth')}")
        _say(f"  Boîte aux lettres (SMTP de test) : http://127.0.0.1:{mailbox}")
        if self.demo:
            from teleservices.shared.embedded.demo import staff_credentials_file

            path = staff_credentials_file(self.data_dir)
            if path.exists():
                _say(f"  Comptes de démonstration du personnel (identifiant, mot de passe ; {path}) :")
                for line in path.read_text().splitlines():
                    _say(f"    {line}")
        _say(f"  Journaux : {self.logs}   —   Ctrl-C pour tout arrêter.\n")

    def supervise(self) -> None:
        """Restart a service process that died, until asked to stop."""
        while not self._stopping:
            for process in self.processes:
                if not process.alive() and not self._stopping:
                    _say(f"{process.name} s'est arrêté ; redémarrage (journal : {process.log_file})")
                    process.start()
            time.sleep(1.0)

    def on_signal(self, signum: int, frame: FrameType | None) -> None:
        """SIGTERM handled as Ctrl-C: everything stops, in order."""
        raise KeyboardInterrupt

    def stop(self) -> None:
        """Stop the services, then the mailbox, the broker and PostgreSQL."""
        self._stopping = True
        # A second Ctrl-C must not abandon the processes; the handlers come back afterwards, or every process
        # this one starts later would inherit an ignored SIGINT (seen: a test's platform, then `up`, unstoppable).
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN), signal.signal(signal.SIGTERM, signal.SIG_IGN)
        try:
            self._stop_all()
        finally:
            signal.signal(signal.SIGINT, previous[0])
            signal.signal(signal.SIGTERM, previous[1])

    def _stop_all(self) -> None:
        _say("Arrêt de la plateforme…")
        for process in self.processes:
            process.terminate()  # all at once: each one's graceful shutdown runs in parallel
        for process in reversed(self.processes):
            process.stop()
        if self.mailbox is not None and self.mailbox.poll() is None:
            self.mailbox.terminate()
            self.mailbox.wait(10)
        if self.broker is not None:
            self.broker.stop()
        self.postgres.stop()
        (self.data_dir / "run" / "platform.json").unlink(missing_ok=True)
        _say("Plateforme arrêtée.")
