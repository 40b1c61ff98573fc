"""The replica deployments, read as files (no Docker engine or Kubernetes cluster runs where this is
built): deploy/compose against the compose-spec schema (vendored by check-jsonschema), the Kubernetes
manifests against Kubernetes' own schemas (kubernetes-validate, strict: an unknown field fails), and
both against the gateway itself: every GATEWAY_* variable they set is a setting, the settings they
make together load, ports agree with the image, probe paths are routes of the app, and each replica
has its own identity and volume while media and state are shared."""

from __future__ import annotations

import json
import os
import re
import typing
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jsonschema
import kubernetes_validate
import pytest
import yaml
from fastapi.routing import iter_route_contexts
from pydantic import BaseModel

from service.app import create_app
from service.cluster.config import ClusterSettings
from service.settings import GatewaySettings
from tests.support.paths import ROOT

COMPOSE_DIR = ROOT / "deploy" / "compose"
KUBERNETES_DIR = ROOT / "deploy" / "kubernetes"
# The oldest Kubernetes still maintained upstream when this was written, and the newest shipped.
KUBERNETES_VERSIONS = ("1.32.0", kubernetes_validate.latest_version())

# Forwarding between replicas (issue 20 item 3, another branch) adds these two settings; until it
# has landed they are the only names allowed to be missing from the settings model.
FORWARDING = {"GATEWAY_CLUSTER__INTERNAL_URL", "GATEWAY_CLUSTER__SECRET"}
FORWARDING_LANDED = "internal_url" in ClusterSettings.model_fields


def _image_port() -> int:
    dockerfile = (ROOT / "Dockerfile").read_text()
    (exposed,) = re.findall(r"^EXPOSE (\d+)$", dockerfile, re.M)
    assert f'"--port", "{exposed}"' in dockerfile  # the image serves where it says it does
    return int(exposed)


def _image_data_dir() -> str:
    (found,) = re.findall(r"GATEWAY_DATA_DIR=(\S+)", (ROOT / "Dockerfile").read_text())
    return found


def _setting(name: str) -> tuple[str, ...] | None:
    """The settings path a GATEWAY_* variable sets (``GATEWAY_MEDIA__S3__BUCKET``: media.s3.bucket),
    or None when it names no setting."""
    assert name.startswith("GATEWAY_"), name
    model: type[BaseModel] = GatewaySettings
    path = tuple(name.removeprefix("GATEWAY_").lower().split("__"))
    for depth, part in enumerate(path):
        field = model.model_fields.get(part)
        if field is None:
            return None
        if depth == len(path) - 1:
            return path
        nested = [
            arg
            for arg in (typing.get_args(field.annotation) or (field.annotation,))
            if isinstance(arg, type) and issubclass(arg, BaseModel)
        ]
        if not nested:
            return None  # a plain value has no fields below it
        (model,) = nested
    return path


def _load_settings(env: dict[str, str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> GatewaySettings:
    """The settings a replica with exactly this environment would run with."""
    for name in [name for name in os.environ if name.startswith("GATEWAY_")]:
        monkeypatch.delenv(name)
    for name, value in env.items():
        if name in FORWARDING and not FORWARDING_LANDED:
            continue
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("GATEWAY_DATA_DIR", str(tmp_path / "data"))  # the image sets it (/data)
    return GatewaySettings()


# -- compose --


def _compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((COMPOSE_DIR / "compose.yaml").read_text())
    return loaded


def _compose_env(service: dict[str, Any]) -> dict[str, str]:
    """A service's environment with compose's ``${VAR:?...}``/``${VAR:-default}`` filled in as a
    user's shell would: required ones with a value, defaults as given."""

    def fill(value: Any) -> str:
        text = str(value)
        text = re.sub(r"\$\{(\w+):\?[^}]*\}", lambda m: f"value-of-{m[1].lower()}", text)
        return re.sub(r"\$\{(\w+):-([^}]*)\}", lambda m: m[2], text)

    return {name: fill(value) for name, value in service["environment"].items()}


def _gateways(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        name: service
        for name, service in compose["services"].items()
        if "GATEWAY_CLUSTER__REPLICA_ID" in service.get("environment", {})
    }


def test_the_compose_file_is_valid_compose() -> None:
    schema = json.loads(
        resources.files("check_jsonschema.builtin_schemas.vendor").joinpath("compose-spec.json").read_text()
    )
    validator = jsonschema.validators.validator_for(schema)(schema)
    errors = [f"{'/'.join(map(str, e.path))}: {e.message}" for e in validator.iter_errors(_compose())]
    assert not errors
    # The schema is strict enough to catch a misspelt key (what makes the check worth having).
    broken = _compose()
    broken["services"]["redis"]["healtcheck"] = {}
    assert not validator.is_valid(broken)


def test_compose_runs_three_replicas_with_their_own_identity_and_volume() -> None:
    compose = _compose()
    gateways = _gateways(compose)
    port = _image_port()
    assert len(gateways) == 3
    shared_media = set()
    for name, service in gateways.items():
        env = service["environment"]
        assert env["GATEWAY_CLUSTER__REPLICA_ID"] == name
        internal = urlsplit(env["GATEWAY_CLUSTER__INTERNAL_URL"])
        assert (internal.hostname, internal.port) == (name, port)  # its own service name on compose's network
        assert env["GATEWAY_STATE__BACKEND"] == "redis"
        assert urlsplit(env["GATEWAY_STATE__REDIS_URL"]).hostname in compose["services"]
        mounts = dict(reversed(volume.split(":")[:2]) for volume in service["volumes"])
        assert mounts[_image_data_dir()] == f"{name}-data"  # profiles and data: one volume per replica
        shared_media.add(mounts[env["GATEWAY_MEDIA__SHARED_DIR"]])
        assert service["shm_size"] and service["build"]["context"] == "../.."
        assert (COMPOSE_DIR / service["build"]["context"] / "Dockerfile").is_file()
    assert len(shared_media) == 1  # one media volume, mounted by every replica
    declared = set(compose["volumes"])
    assert {f"{name}-data" for name in gateways} | shared_media <= declared


def test_nginx_balances_the_replicas_and_passes_streams_unbuffered() -> None:
    compose = _compose()
    nginx = compose["services"]["nginx"]
    (config_mount,) = nginx["volumes"]
    source, target = config_mount.split(":")[:2]
    assert target == "/etc/nginx/nginx.conf"
    config = (COMPOSE_DIR / source).read_text()
    upstream = re.search(r"upstream gateway \{(.*?)\}", config, re.S)
    assert upstream is not None
    servers = re.findall(r"^\s*server (\S+):(\d+)", upstream[1], re.M)
    assert sorted(servers) == sorted((name, str(_image_port())) for name in _gateways(compose))
    directives = {line.strip().rstrip(";") for line in config.splitlines()}
    assert {"proxy_pass http://gateway", "proxy_buffering off", "proxy_http_version 1.1"} <= directives
    assert "proxy_set_header Host $http_host" in directives  # links the replicas build use the client's host


def test_every_compose_variable_is_a_setting_and_the_replica_settings_load(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    for name, service in _gateways(_compose()).items():
        env = _compose_env(service)
        unknown = [v for v in env if _setting(v) is None and not (v in FORWARDING and not FORWARDING_LANDED)]
        assert not unknown, (name, unknown)
        settings = _load_settings(env, monkeypatch, tmp_path)
        assert settings.cluster.replica_id == name
        assert settings.media.shared  # replicas on Redis: media every replica reads


def test_a_misspelt_variable_would_be_caught() -> None:
    assert _setting("GATEWAY_MEDIA__S3__BUCKET") == ("media", "s3", "bucket")
    assert _setting("GATEWAY_MEDIA__SHARED_DIRECTORY") is None
    assert _setting("GATEWAY_STATE__REDIS_URL__HOST") is None
    assert _setting("GATEWAY_CLUSTER__REPLICAID") is None


# -- Kubernetes --


def _manifests() -> list[dict[str, Any]]:
    documents: list[dict[str, Any]] = []
    for path in sorted(KUBERNETES_DIR.glob("*.yaml")):
        documents.extend(doc for doc in yaml.safe_load_all(path.read_text()) if doc)
    return documents


def _one(kind: str, name: str | None = None) -> dict[str, Any]:
    (found,) = [
        doc
        for doc in _manifests()
        if doc["kind"] == kind and (name is None or doc["metadata"]["name"] == name)
    ]
    return found


def _gateway_set() -> dict[str, Any]:
    return _one("StatefulSet", "gateway")


def _container() -> dict[str, Any]:
    (container,) = _gateway_set()["spec"]["template"]["spec"]["containers"]
    return container


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
def test_the_kubernetes_manifests_match_kubernetes_schemas(version: str) -> None:
    documents = _manifests()
    assert {doc["kind"] for doc in documents} >= {
        "StatefulSet",
        "Service",
        "PodDisruptionBudget",
        "Secret",
    }
    for doc in documents:
        kubernetes_validate.validate(doc, version, strict=True)
    # Strict: a misplaced field is an error, not a silently ignored line.
    broken = json.loads(json.dumps(_gateway_set()))
    broken["spec"]["template"]["spec"]["containers"][0]["readinesProbe"] = {}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, version, strict=True)


def _pod_env() -> dict[str, str]:
    """The container's environment as the kubelet makes it: secrets from the Secret, the downward
    API's pod name and namespace, ``$(VAR)`` expanded from the variables before it."""
    secret = _one("Secret", "gateway")
    stateful = _gateway_set()
    env: dict[str, str] = {}
    for item in _container()["env"]:
        if "value" in item:
            value = re.sub(r"\$\((\w+)\)", lambda m: env[m[1]], item["value"])
        else:
            source = item["valueFrom"]
            if "secretKeyRef" in source:
                ref = source["secretKeyRef"]
                assert ref["name"] == secret["metadata"]["name"]
                value = secret["stringData"][ref["key"]]
            else:
                pod = f"{stateful['metadata']['name']}-0"
                downward = {"metadata.name": pod, "metadata.namespace": "default"}
                value = downward[source["fieldRef"]["fieldPath"]]
        env[item["name"]] = value
    return env


def test_every_kubernetes_variable_is_a_setting_and_the_replica_settings_load(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    env = {name: value for name, value in _pod_env().items() if name.startswith("GATEWAY_")}
    unknown = [v for v in env if _setting(v) is None and not (v in FORWARDING and not FORWARDING_LANDED)]
    assert not unknown
    settings = _load_settings(env, monkeypatch, tmp_path)
    assert settings.cluster.replica_id == "gateway-0"  # the pod's name, stable across restarts
    assert settings.media.s3 is not None and settings.media.s3.presign


def test_the_stateful_set_gives_each_replica_a_stable_name_address_and_volume() -> None:
    stateful = _gateway_set()
    spec = stateful["spec"]
    labels = spec["template"]["metadata"]["labels"]
    assert spec["selector"]["matchLabels"].items() <= labels.items()
    container = _container()
    (port,) = container["ports"]
    assert port["containerPort"] == _image_port()
    assert container["args"][-1] == str(_image_port())
    # replica_id is the pod's name (downward API); internal_url its name under the headless Service.
    items = {item["name"]: item for item in container["env"]}
    assert items["POD_NAME"]["valueFrom"]["fieldRef"]["fieldPath"] == "metadata.name"
    assert items["GATEWAY_CLUSTER__REPLICA_ID"]["value"] == "$(POD_NAME)"
    headless = _one("Service", spec["serviceName"])
    assert headless["spec"]["clusterIP"] == "None" and headless["spec"]["publishNotReadyAddresses"]
    internal = urlsplit(_pod_env()["GATEWAY_CLUSTER__INTERNAL_URL"])
    assert internal.hostname is not None
    assert internal.hostname.split(".")[:2] == ["gateway-0", spec["serviceName"]]
    assert internal.port == port["containerPort"]
    # One volume per replica for the profiles and data directory, mounted where the image keeps it.
    (claim,) = spec["volumeClaimTemplates"]
    mounts = {mount["name"]: mount["mountPath"] for mount in container["volumeMounts"]}
    assert mounts[claim["metadata"]["name"]] == _image_data_dir()
    assert mounts["shm"] == "/dev/shm"
    assert spec["template"]["spec"]["securityContext"]["runAsUser"] == 10001  # the image's user
    assert "USER 10001:10001" in (ROOT / "Dockerfile").read_text()


def test_services_and_the_disruption_budget_select_the_gateway_pods() -> None:
    labels = _gateway_set()["spec"]["template"]["metadata"]["labels"]
    ports = {port["name"] for port in _container()["ports"]}
    for name in ("gateway", _gateway_set()["spec"]["serviceName"]):
        service = _one("Service", name)
        assert service["spec"]["selector"].items() <= labels.items()
        assert {port["targetPort"] for port in service["spec"]["ports"]} <= ports
    budget = _one("PodDisruptionBudget")
    assert budget["spec"]["selector"]["matchLabels"].items() <= labels.items()
    assert budget["spec"]["maxUnavailable"] == 1
    # The Redis URL of the Secret is the Redis Service of redis.yaml.
    redis_url = urlsplit(_one("Secret", "gateway")["stringData"]["redis-url"])
    redis_service = _one("Service", redis_url.hostname)
    assert redis_service["spec"]["ports"][0]["port"] == redis_url.port


def test_the_probes_ask_routes_the_app_has(tmp_path: Path) -> None:
    container = _container()
    paths = {
        probe: container[probe]["httpGet"]["path"]
        for probe in ("readinessProbe", "livenessProbe", "startupProbe")
    }
    assert paths["readinessProbe"] == "/readyz" and paths["livenessProbe"] == "/healthz"
    app = create_app(GatewaySettings(open_access=True, data_dir=tmp_path))
    routes = {route.path for route in iter_route_contexts(app.routes) if "GET" in (route.methods or ())}
    assert set(paths.values()) <= routes
    assert all(container[probe]["httpGet"]["port"] == "http" for probe in paths)
