"""The Kubernetes manifests (deploy/k8s): valid against the Kubernetes schemas offline, one Deployment per
service with its probes, budget and Service, secrets only from the Secret, and a KEDA ScaledObject that
follows the notifier's real topic and consumer group."""

from __future__ import annotations

import copy
import importlib
import inspect
import re
import tomllib
from functools import cache
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from teleservices.shared.kafka import consumer as consumer_module
from teleservices.shared.messages.topics import NOTIFIER_JOBS
from teleservices.shared.services import SERVICES
from teleservices.shared.settings import SecretsSettings

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"
SIZING = ROOT / "deploy" / "SIZING.md"
# The oldest Kubernetes still commonly run by academies' clusters, and the newest the validator knows.
KUBERNETES_VERSIONS = ("1.30.0", kubernetes_validate.latest_version())
CUSTOM_KINDS = {("keda.sh/v1alpha1", "ScaledObject")}
SECRET_NAMES = [f"TELESERVICES_SECRET_{name.upper()}" for name in SecretsSettings.model_fields]
SECRET_LIKE = re.compile(r"SECRET|PASSWORD|TOKEN|DATABASE_URL|_KEY$")
SECRET_OBJECT = "teleservices-secrets"


@cache
def kustomization() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((K8S / "kustomization.yaml").read_text(encoding="utf-8"))
    return data


@cache
def manifests() -> tuple[tuple[str, dict[str, Any]], ...]:
    """(file, object) for every object of every file the kustomization lists."""
    found = []
    for name in kustomization()["resources"]:
        for doc in yaml.safe_load_all((K8S / name).read_text(encoding="utf-8")):
            if doc is not None:
                found.append((name, doc))
    return tuple(found)


def objects(kind: str) -> dict[str, dict[str, Any]]:
    return {doc["metadata"]["name"]: doc for _, doc in manifests() if doc["kind"] == kind}


def pod_specs() -> dict[str, dict[str, Any]]:
    """Workload name -> its pod template's spec (Deployments and Jobs)."""
    return {f"{doc['kind']}/{doc['metadata']['name']}": doc["spec"]["template"]["spec"]
            for _, doc in manifests() if doc["kind"] in ("Deployment", "Job")}


def containers() -> list[tuple[str, dict[str, Any]]]:
    return [(f"{workload}/{c['name']}", c) for workload, spec in pod_specs().items()
            for c in [*spec.get("initContainers", []), *spec["containers"]]]


def config() -> dict[str, str]:
    data: dict[str, str] = objects("ConfigMap")["teleservices-config"]["data"]
    return data


def env(container: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {item["name"]: item for item in container.get("env", [])}


def service_port(service: str, container: dict[str, Any]) -> int:
    """The port the service binds: its HTTP_PORT variable, or its settings' default."""
    prefix = f"TELESERVICES_{service.upper().replace('-', '_')}_"
    variable = env(container).get(f"{prefix}HTTP_PORT")
    if variable is not None:
        return int(variable["value"])
    spec = SERVICES[service]
    settings_class = getattr(importlib.import_module(f"{spec.module}.settings"), spec.settings_class)
    return int(settings_class.model_fields["http_port"].default)


def named_port(container: dict[str, Any], port: int | str) -> int:
    if isinstance(port, int):
        return port
    matches = [p["containerPort"] for p in container["ports"] if p.get("name") == port]
    assert len(matches) == 1, f"{container['name']}: no single port named {port}"
    return int(matches[0])


def selects(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return bool(selector) and all(labels.get(key) == value for key, value in selector.items())


def project_version() -> str:
    version: str = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]
    return version


# --- the files and the schemas --------------------------------------------------------------------------


def test_the_kustomization_lists_every_manifest_file() -> None:
    listed = set(kustomization()["resources"])
    present = {p.name for p in K8S.glob("*.yaml")} - {"kustomization.yaml"}
    assert listed == present, f"listed but missing: {listed - present}; present but not listed: {present - listed}"
    assert kustomization()["namespace"] == objects("Namespace")["teleservices"]["metadata"]["name"]


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
def test_every_object_is_valid_against_the_kubernetes_schemas(version: str) -> None:
    checked = 0
    for name, doc in manifests():
        try:
            kubernetes_validate.validate(doc, version, strict=True)
            checked += 1
        except kubernetes_validate.SchemaNotFoundError:
            assert (doc["apiVersion"], doc["kind"]) in CUSTOM_KINDS, f"{name}: no schema for {doc['kind']}"
        except kubernetes_validate.ValidationError as error:
            pytest.fail(f"{name} {doc['kind']}/{doc['metadata']['name']}: {error.message} at {list(error.path)}")
    assert checked >= 3 * len(SERVICES) + 2


def test_kustomize_renders_every_object_into_the_namespace() -> None:
    """What `kubectl kustomize` does with this kustomization (namespace and image tag set on every object, every
    manifest file listed), computed here: no kubectl needed, nothing skipped."""
    listed = set(kustomization()["resources"])
    on_disk = {p.name for p in K8S.glob("*.yaml")} - {"kustomization.yaml"}
    assert listed == on_disk, f"files not in the kustomization: {sorted(on_disk - listed)}"
    namespace = kustomization()["namespace"]
    [image] = kustomization()["images"]
    for name, doc in manifests():
        rendered = copy.deepcopy(doc)
        if rendered["kind"] != "Namespace":
            assert rendered["metadata"].get("namespace", namespace) == namespace, f"{name}: another namespace"
            rendered["metadata"]["namespace"] = namespace
        for container in _containers(rendered):
            assert container["image"].split(":")[0] == image["name"], f"{name}: {container['image']}"
            container["image"] = f"{image['name']}:{image['newTag']}"
        if (rendered["apiVersion"], rendered["kind"]) not in CUSTOM_KINDS:
            kubernetes_validate.validate(rendered, KUBERNETES_VERSIONS[-1], strict=True)


def _containers(doc: dict[str, Any]) -> list[dict[str, Any]]:
    spec = doc.get("spec", {})
    pod = spec.get("template", {}).get("spec") or spec.get("jobTemplate", {}).get("spec", {}).get("template", {}).get(
        "spec", {})
    return [*pod.get("containers", []), *pod.get("initContainers", [])]


def test_the_validator_really_checks_offline() -> None:
    deployment = copy.deepcopy(objects("Deployment")["accounts"])
    deployment["spec"]["template"]["spec"]["containers"][0]["readinessProbe"]["httpGet"]["pathh"] = "/readyz"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, KUBERNETES_VERSIONS[0], strict=True)
    deployment = copy.deepcopy(objects("Deployment")["accounts"])
    deployment["spec"]["replicas"] = "two"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, KUBERNETES_VERSIONS[0], strict=True)


# --- one Deployment per service -------------------------------------------------------------------------


def test_every_service_has_a_deployment_running_it() -> None:
    deployments = objects("Deployment")
    assert set(deployments) == set(SERVICES)
    for service, deployment in deployments.items():
        (container,) = deployment["spec"]["template"]["spec"]["containers"]
        assert container["args"] == ["run", service], service
        assert "command" not in container, f"{service}: the image's entrypoint is `teleservices`"
        prefix = f"TELESERVICES_{service.upper().replace('-', '_')}_"
        assert env(container)[f"{prefix}HTTP_HOST"]["value"] == "0.0.0.0", f"{service}: bind every interface"


def test_probes_call_readyz_and_healthz_on_the_service_port() -> None:
    for service, deployment in objects("Deployment").items():
        (container,) = deployment["spec"]["template"]["spec"]["containers"]
        port = service_port(service, container)
        assert port > 0, f"{service}: probes need a fixed port"
        assert [p["containerPort"] for p in container["ports"]] == [port], service
        for probe, path in (("readinessProbe", "/readyz"), ("livenessProbe", "/healthz")):
            get = container[probe]["httpGet"]
            assert get["path"] == path, f"{service}: {probe} on {get['path']}"
            assert named_port(container, get["port"]) == port, f"{service}: {probe} on another port"
        startup = container.get("startupProbe")
        if startup:
            assert named_port(container, startup["httpGet"]["port"]) == port, service


def test_every_deployment_has_a_service_on_its_port() -> None:
    services = objects("Service")
    for name, deployment in objects("Deployment").items():
        service = services.get(name)
        assert service, f"{name}: no Service (the other services reach it as http://{name}:PORT)"
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        assert selects(service["spec"]["selector"], labels), f"{name}: the Service selects other pods"
        (container,) = deployment["spec"]["template"]["spec"]["containers"]
        (port,) = service["spec"]["ports"]
        assert port["port"] == service_port(name, container), name
        assert named_port(container, port["targetPort"]) == port["port"], name
        assert config()[f"TELESERVICES_{name.upper().replace('-', '_')}_URL"] == f"http://{name}:{port['port']}"


def test_every_deployment_has_a_disruption_budget_that_lets_nodes_drain() -> None:
    budgets = objects("PodDisruptionBudget")
    minimum = {name: doc["spec"]["minReplicaCount"] for name, doc in scaled_objects_by_target().items()}
    for name, deployment in objects("Deployment").items():
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        assert selects(deployment["spec"]["selector"]["matchLabels"], labels), name
        covering = [b for b in budgets.values() if selects(b["spec"]["selector"]["matchLabels"], labels)]
        assert len(covering) == 1, f"{name}: {len(covering)} PodDisruptionBudgets"
        spec = covering[0]["spec"]
        replicas = minimum.get(name, deployment["spec"].get("replicas", 1))
        if "minAvailable" in spec:
            assert spec["minAvailable"] < replicas, f"{name}: minAvailable {spec['minAvailable']} blocks every drain"
        else:
            assert spec["maxUnavailable"] >= 1, name


def test_every_container_has_requests_and_limits() -> None:
    for name, container in containers():
        resources = container["resources"]
        for part in ("requests", "limits"):
            assert {"cpu", "memory"} <= set(resources.get(part, {})), f"{name}: {part} incomplete"


# --- security -------------------------------------------------------------------------------------------


def test_pods_run_unprivileged_with_a_read_only_root() -> None:
    for workload, spec in pod_specs().items():
        for forbidden in ("hostNetwork", "hostPID", "hostIPC"):
            assert not spec.get(forbidden), f"{workload}: {forbidden}"
        assert spec["securityContext"]["runAsNonRoot"] is True, workload
        assert spec["securityContext"]["runAsUser"] != 0, workload
        assert spec["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault", workload
        assert spec.get("automountServiceAccountToken") is False, f"{workload}: no use for the API token"
    for name, container in containers():
        context = container["securityContext"]
        assert context["runAsNonRoot"] is True, name
        assert context["allowPrivilegeEscalation"] is False, name
        assert context["readOnlyRootFilesystem"] is True, name
        assert not context.get("privileged"), name
        assert context["capabilities"]["drop"] == ["ALL"], name
        assert not context["capabilities"].get("add"), name
        mounts = {m["mountPath"] for m in container["volumeMounts"]}
        assert {"/tmp", config()["TELESERVICES_DATA_DIR"]} <= mounts, f"{name}: writable /tmp and data dir"  # noqa: S108


def test_the_namespace_enforces_the_restricted_pod_security_standard() -> None:
    labels = objects("Namespace")["teleservices"]["metadata"]["labels"]
    assert labels["pod-security.kubernetes.io/enforce"] == "restricted"


def test_secrets_come_only_from_the_secret_object() -> None:
    assert not objects("Secret"), "no Secret in the repository: it is created from the operator's vault"
    assert not [key for key in config() if SECRET_LIKE.search(key)], "secret-like keys in the ConfigMap"
    assert not [v for v in config().values() if re.search(r"://[^/@\s]+:[^/@\s]+@", v)], "credentials in a URL"
    for name, container in containers():
        variables = env(container)
        for secret in [*SECRET_NAMES, "TELESERVICES_DATABASE_URL"]:
            assert secret in variables, f"{name}: {secret} missing (production refuses to start without it)"
        for key, item in variables.items():
            if SECRET_LIKE.search(key):
                assert "value" not in item, f"{name}: {key} written inline"
                reference = item["valueFrom"]["secretKeyRef"]
                assert reference["name"] == SECRET_OBJECT and reference["key"] == key, f"{name}: {key}"
        assert [ref["configMapRef"]["name"] for ref in container["envFrom"]] == ["teleservices-config"], name


def test_images_are_pinned_to_the_release_tag() -> None:
    (image,) = kustomization()["images"]
    assert image["newTag"] == project_version()
    for name, container in containers():
        repository, _, tag = container["image"].rpartition(":")
        assert repository == image["name"], f"{name}: one image for every service"
        assert tag and tag != "latest" and "/" not in tag, f"{name}: image {container['image']} is not pinned"
        assert tag == image["newTag"], f"{name}: {tag} but the kustomization says {image['newTag']}"


def test_init_job_runs_teleservices_init_until_it_succeeds() -> None:
    (job,) = objects("Job").values()
    spec = job["spec"]["template"]["spec"]
    (container,) = spec["containers"]
    assert container["args"] == ["init"]
    assert spec["restartPolicy"] == "OnFailure"
    assert job["spec"]["ttlSecondsAfterFinished"] > 0, "a finished Job must go, or the next release cannot apply"


# --- the notifier and KEDA ------------------------------------------------------------------------------


def scaled_objects_by_target() -> dict[str, dict[str, Any]]:
    return {doc["spec"]["scaleTargetRef"]["name"]: doc for doc in objects("ScaledObject").values()}


def notifier_job_groups() -> list[str]:
    """The consumer names of the notifier's consumers of the job topic, from its composition root."""
    from teleservices.notifier.app import create_app
    from teleservices.notifier.settings import NotifierSettings

    app = create_app(NotifierSettings(environment="development"))  # builds, opens nothing
    return [c.name for c in app.state.runtime._consumers if NOTIFIER_JOBS in c.topics]


def test_the_scaled_object_follows_the_notifier_topic_and_group() -> None:
    scaled = scaled_objects_by_target()
    assert set(scaled) == {"notifier"}
    spec = scaled["notifier"]["spec"]
    assert spec["scaleTargetRef"].get("kind", "Deployment") == "Deployment"
    assert "notifier" in objects("Deployment")
    (trigger,) = spec["triggers"]
    assert trigger["type"] == "kafka"
    meta = trigger["metadata"]
    assert all(isinstance(v, str) for v in meta.values()), "KEDA trigger metadata values are strings"
    prefix = config()["TELESERVICES_KAFKA_TOPIC_PREFIX"]
    assert meta["topic"] == NOTIFIER_JOBS.full_name(prefix)
    # MessageConsumer joins the group `topic_prefix + consumer name`.
    assert 'group_id=f"{self.kafka.topic_prefix}{self.name}"' in inspect.getsource(consumer_module.MessageConsumer)
    assert meta["consumerGroup"] in [f"{prefix}{name}" for name in notifier_job_groups()]
    assert meta["bootstrapServers"] == config()["TELESERVICES_KAFKA_BOOTSTRAP_SERVERS"]
    assert meta["offsetResetPolicy"] == "earliest", "the consumer starts from the earliest offset"


def test_the_notifier_scales_within_the_partitions_of_its_topic() -> None:
    spec = scaled_objects_by_target()["notifier"]["spec"]
    meta = spec["triggers"][0]["metadata"]
    assert 1 <= spec["minReplicaCount"] <= spec["maxReplicaCount"] <= NOTIFIER_JOBS.partitions
    assert meta["allowIdleConsumers"] == "false"
    assert "replicas" not in objects("Deployment")["notifier"]["spec"], "the autoscaler owns the replica count"


def test_the_lag_threshold_is_the_one_sizing_derives() -> None:
    threshold = int(scaled_objects_by_target()["notifier"]["spec"]["triggers"][0]["metadata"]["lagThreshold"])
    stated = re.search(r"lagThreshold\s*=\s*(\d+)\b", SIZING.read_text(encoding="utf-8"))
    assert stated, "deploy/SIZING.md must state `lagThreshold = N`"
    assert threshold == int(stated.group(1)) >= 1
