"""The Docker Compose stack and its image: every container runs a real `teleservices` command, is
checked for health, starts in order, and takes its secrets from the environment."""

from __future__ import annotations

import importlib
import re
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import typer
import yaml

from teleservices.shared.cli.main import app
from teleservices.shared.services import SERVICES
from teleservices.shared.settings import SecretsSettings

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "deploy" / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"
DOCKERFILE_PATH = "deploy/Dockerfile"
INTERPOLATION = re.compile(r"\$\{(?P<name>[A-Z0-9_]+):\?[^}]+\}")
SECRET_NAMES = [f"TELESERVICES_SECRET_{name.upper()}" for name in SecretsSettings.model_fields]
LONG_RUNNING_CONDITIONS = {"service_healthy", "service_completed_successfully"}
# Typer vendors click (0.29): take its usage-error class from BadParameter's ancestry.
UsageError: type[Exception] = next(c for c in typer.BadParameter.__mro__ if c.__name__ == "UsageError")


@cache
def compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))
    return data


def services() -> dict[str, dict[str, Any]]:
    result: dict[str, dict[str, Any]] = compose()["services"]
    return result


def built_here() -> dict[str, dict[str, Any]]:
    """The containers built from deploy/Dockerfile."""
    return {name: svc for name, svc in services().items()
            if isinstance(svc.get("build"), dict) and svc["build"].get("dockerfile") == DOCKERFILE_PATH}


def service_containers() -> dict[str, dict[str, Any]]:
    """Container name -> definition, for the containers running `teleservices run SERVICE`."""
    return {name: svc for name, svc in built_here().items() if svc["command"][0] == "run"}


def environment(svc: dict[str, Any]) -> dict[str, Any]:
    env = svc.get("environment", {})
    assert isinstance(env, dict), "environment must be a mapping (KEY: value), not a list"
    return env


def resolve(argv: list[str]) -> tuple[Any, dict[str, Any]]:
    """Walk the Typer app's click groups like the shell would, then parse the leaf command's arguments."""
    command: Any = typer.main.get_command(app)
    path = ["teleservices"]
    args = list(argv)
    while isinstance(getattr(command, "commands", None), dict):  # a group
        assert args, f"{argv}: names a command group, not a command"
        name = args.pop(0)
        sub = command.commands.get(name)
        assert sub is not None, f"{argv}: `{name}` is not a command of `{' '.join(path)}`"
        command, path = sub, [*path, name]
    ctx = command.make_context(" ".join(path), args)
    return command, ctx.params


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text(encoding="utf-8"))
    lines = [line.strip() for line in text.splitlines()]
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1] if " " in line else "")
            for line in lines if line and not line.startswith("#")]


def http_port(service: str, env: dict[str, Any]) -> int:
    prefix = f"TELESERVICES_{service.upper().replace('-', '_')}_"
    if f"{prefix}HTTP_PORT" in env:
        return int(env[f"{prefix}HTTP_PORT"])
    spec = SERVICES[service]
    settings_class = getattr(importlib.import_module(f"{spec.module}.settings"), spec.settings_class)
    return int(settings_class.model_fields["http_port"].default)


# --- the containers and their commands ----------------------------------------------------------------


def test_the_helpers_refuse_what_is_not_a_command() -> None:
    with pytest.raises(AssertionError):
        resolve(["nonexistent"])
    with pytest.raises(AssertionError):
        resolve(["staff"])
    with pytest.raises(UsageError):
        resolve(["run"])
    assert resolve(["staff", "add", "alice", "--role", "chef"])[0].name == "add"


def test_the_stack_has_the_infrastructure_and_a_one_shot_init() -> None:
    assert services()["kafka"]["image"] == "apache/kafka:4.1.1"
    assert services()["postgres"]["image"].startswith("postgres:17")
    assert services()["mailpit"]["image"].startswith("axllent/mailpit")
    init = built_here()["init"]
    assert init["command"] == ["init"]
    assert init["restart"] == "no"
    assert init["depends_on"]["kafka"]["condition"] == "service_healthy"
    assert init["depends_on"]["postgres"]["condition"] == "service_healthy"


def test_every_container_built_here_runs_a_real_teleservices_command() -> None:
    assert len(built_here()) >= len(SERVICES) + 1
    for name, svc in built_here().items():
        command = svc.get("command")
        assert isinstance(command, list) and command, f"{name}: command must be an exec-form list"
        assert all(isinstance(word, str) for word in command), name
        leaf, params = resolve(command)
        if leaf.name == "run":
            assert params["service"] in SERVICES, f"{name}: `run {params['service']}` names no service"


def test_every_service_has_its_container() -> None:
    ran = {svc["command"][1]: name for name, svc in service_containers().items()}
    assert set(ran) == set(SERVICES)
    for service, container in ran.items():
        assert container == service, f"the container of {service} is called {container}"


def test_the_image_is_built_from_the_repository_root() -> None:
    for name, svc in built_here().items():
        assert svc["build"]["context"] == ".", name
        assert svc["image"] == built_here()["init"]["image"], f"{name}: one image for every service"


# --- health and start order ---------------------------------------------------------------------------


def test_every_long_running_container_has_a_healthcheck() -> None:
    for name, svc in services().items():
        if svc.get("restart") == "no":
            continue
        check = svc.get("healthcheck")
        assert check and not check.get("disable"), f"{name}: no healthcheck"
        assert isinstance(check["test"], list) and check["test"][0] in ("CMD", "CMD-SHELL"), name


def test_each_service_checks_readyz_on_its_own_port_and_binds_every_interface() -> None:
    for name, svc in service_containers().items():
        service = svc["command"][1]
        env = environment(svc)
        prefix = f"TELESERVICES_{service.upper().replace('-', '_')}_"
        assert env.get(f"{prefix}HTTP_HOST") == "0.0.0.0", f"{name}: bind 0.0.0.0 inside the container"
        port = http_port(service, env)
        assert port > 0, f"{name}: a fixed HTTP port is needed for the healthcheck"
        probe = " ".join(svc["healthcheck"]["test"])
        assert "curl" not in probe and "wget" not in probe, f"{name}: slim images have neither curl nor wget"
        match = re.search(r"http://127\.0\.0\.1:(\d+)/readyz", probe)
        assert match, f"{name}: the healthcheck must call /readyz"
        assert int(match.group(1)) == port, f"{name}: healthcheck on {match.group(1)}, service on {port}"


def test_services_start_after_init_and_healthy_infrastructure() -> None:
    for name, svc in services().items():
        if svc.get("restart") == "no" or name not in built_here():
            continue
        depends = svc.get("depends_on")
        assert isinstance(depends, dict), f"{name}: depends_on must give conditions"
        assert depends["init"]["condition"] == "service_completed_successfully", name
        assert depends["kafka"]["condition"] == "service_healthy", name
        assert depends["postgres"]["condition"] == "service_healthy", name
        for dependency, rule in depends.items():
            assert dependency in services(), f"{name}: depends on unknown {dependency}"
            assert rule["condition"] in LONG_RUNNING_CONDITIONS, f"{name} -> {dependency}"
            if rule["condition"] == "service_healthy":
                assert "healthcheck" in services()[dependency], f"{name} waits on {dependency}, never healthy"


def test_ports_gateway_portal_and_mailpit_published_and_notifier_scalable() -> None:
    def published(name: str) -> set[str]:
        return {str(p).rsplit(":", 2)[-2] + ":" + str(p).rsplit(":", 1)[-1]
                for p in services()[name].get("ports", [])}

    assert "8000:8000" in published("gateway")
    assert "8001:8001" in published("portal-auth")
    assert "8025:8025" in published("mailpit")
    notifier = services()["notifier"]
    assert "ports" not in notifier, "a published port would forbid --scale notifier=N"
    assert "container_name" not in notifier
    for name, svc in services().items():
        assert "container_name" not in svc, f"{name}: container_name forbids scaling and parallel stacks"


# --- configuration ------------------------------------------------------------------------------------


def test_environment_is_production_with_idempotent_kafka_producers() -> None:
    for name, svc in built_here().items():
        env = environment(svc)
        for key, value in env.items():
            assert isinstance(value, str), f"{name}: {key} must be a quoted string, YAML made it {value!r}"
        assert env["TELESERVICES_ENVIRONMENT"] == "production", name
        assert env["TELESERVICES_KAFKA_IDEMPOTENT_PRODUCER"] == "true", name
        assert env["TELESERVICES_KAFKA_BOOTSTRAP_SERVERS"].split(":")[0] in services(), name
        assert "@postgres:5432/" in env["TELESERVICES_DATABASE_URL"], name


def test_secrets_come_from_the_environment_never_from_the_file() -> None:
    assert len(SECRET_NAMES) == 4
    for name, svc in built_here().items():
        env = environment(svc)
        for secret in SECRET_NAMES:
            assert secret in env, f"{name}: {secret} missing (production refuses to start without it)"
            match = INTERPOLATION.fullmatch(env[secret])
            assert match and match.group("name") == secret, f"{name}: {secret} is not ${{{secret}:?...}}"
        extra = [k for k in env if k.startswith("TELESERVICES_SECRET_") and k not in SECRET_NAMES]
        assert not extra, f"{name}: unknown secrets {extra}"
        password = re.search(r"postgresql://[^:]+:(?P<password>[^@]+)@", env["TELESERVICES_DATABASE_URL"])
        assert password and INTERPOLATION.fullmatch(password.group("password")), name
    assert INTERPOLATION.fullmatch(services()["postgres"]["environment"]["POSTGRES_PASSWORD"])


def test_the_command_line_inside_a_container_reaches_every_service() -> None:
    for name, svc in built_here().items():
        env = environment(svc)
        for service in SERVICES:
            key = f"TELESERVICES_{service.upper().replace('-', '_')}_URL"
            port = http_port(service, environment(services()[service]))
            assert env.get(key) == f"http://{service}:{port}", f"{name}: {key}"


def test_notifier_sends_to_mailpit_by_default() -> None:
    env = environment(services()["notifier"])
    assert "mailpit" in env["TELESERVICES_NOTIFIER_SMTP_HOST"]
    assert env["TELESERVICES_NOTIFIER_SMTP_PORT"].rstrip("}").endswith("1025")
    assert env["TELESERVICES_NOTIFIER_SENDER"]


# --- the image ----------------------------------------------------------------------------------------


def test_dockerfile_is_multi_stage_on_slim_bookworm_and_keeps_the_layout() -> None:
    steps = dockerfile_instructions()
    stages = [args for op, args in steps if op == "FROM"]
    assert len(stages) >= 2, "build and runtime stages"
    args = {a.split("=", 1)[0]: a.split("=", 1)[1] for op, a in steps if op == "ARG" and "=" in a}
    expand = re.compile(r"\$\{?(\w+)\}?")
    bases = {expand.sub(lambda m: args.get(m.group(1), m.group(0)), stage.split()[0]) for stage in stages}
    assert bases == {"python:3.11-slim-bookworm"}
    copied = " ".join(a for op, a in steps if op == "COPY" and not a.startswith("--from"))
    for part in ("pyproject.toml", "src/", "shared/", "services/"):
        assert re.search(rf"(^|\s){re.escape(part)}(\s|$)", copied), f"COPY lacks {part}"
    assert any(op == "RUN" and ("pip wheel" in a or "pip install ." in a) for op, a in steps)


def test_dockerfile_installs_weasyprint_libraries_and_runs_unprivileged() -> None:
    steps = dockerfile_instructions()
    runs = " ".join(a for op, a in steps if op == "RUN")
    for package in ("libpango-1.0-0", "libpangoft2-1.0-0", "libharfbuzz0b", "libharfbuzz-subset0",
                    "fonts-dejavu-core", "shared-mime-info"):
        assert re.search(rf"(^|\s){re.escape(package)}(\s|$)", runs), f"{package} not installed"
    users = [a.split(":")[0] for op, a in steps if op == "USER"]
    assert users and users[-1] not in ("root", "0"), "the runtime must not run as root"
    assert [a for op, a in steps if op == "ENTRYPOINT"][-1] == '["teleservices"]'


def test_dockerignore_keeps_state_and_secrets_out_but_not_the_sources() -> None:
    patterns = {line.strip().rstrip("/") for line in DOCKERIGNORE.read_text(encoding="utf-8").splitlines()
                if line.strip() and not line.startswith("#")}
    for excluded in (".venv", ".data", ".git", ".env", "**/__pycache__"):
        assert excluded in patterns, f".dockerignore lacks {excluded}"
    for needed in ("src", "shared", "services", "pyproject.toml", "*", "deploy"):
        assert needed not in patterns, f".dockerignore would drop {needed}"


@pytest.mark.parametrize("name", ["gateway", "portal-auth", "notifier"])
def test_services_reach_each_other_by_their_compose_names(name: str) -> None:
    """Inside compose, 127.0.0.1 is the container itself: a fronted service must be named, or the UI breaks."""
    from teleservices.shared.services import SERVICES

    env = environment(services()[name])
    settings = SERVICES[name].settings_class
    prefix = f"TELESERVICES_{name.upper().replace('-', '_')}_"
    urls = {key: value for key, value in env.items() if key.startswith(prefix) and key.endswith(("_URL", "_URLS"))}
    assert urls, f"{name} ({settings}) is told no URL of the services it calls"
    assert not [key for key, value in urls.items() if "127.0.0.1" in str(value)]
    if name == "gateway":
        assert {key.removeprefix(prefix) for key in urls} >= {"ACCOUNTS_URL", "SYNC_URL", "STATS_URL",
                                                             "PORTAL_AUTH_URL", "NOTIFIER_URLS"}
