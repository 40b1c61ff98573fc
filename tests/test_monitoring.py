"""The monitoring profile, read as files (no Docker engine runs where this is built): compose's
``monitoring`` profile wires Prometheus to the gateway with the admin key as its bearer secret and
Grafana to that Prometheus with the dashboard provisioned; every metric the dashboard's queries name
is one the gateway exports."""

from __future__ import annotations

import json
import re
from typing import Any

import yaml

from service.metrics import Metrics
from tests.support.paths import ROOT

DEPLOY = ROOT / "deploy"
# PromQL words that are not metric names.
_PROMQL = {"sum", "by", "rate", "histogram_quantile", "time", "le", "status", "account", "outcome", "code"}


def _compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ROOT / "compose.yaml").read_text())
    return loaded


def test_the_monitoring_profile_adds_prometheus_and_grafana_only_on_request() -> None:
    services = _compose()["services"]
    assert "profiles" not in services["gateway"]
    for name in ("prometheus", "grafana"):
        assert services[name]["profiles"] == ["monitoring"], name
        for volume in services[name]["volumes"]:
            source = volume.split(":")[0]
            if source.startswith("./"):
                assert (ROOT / source).exists(), source
        assert all(port.startswith("127.0.0.1:") for port in services[name]["ports"])


def test_prometheus_scrapes_the_gateway_with_the_admin_key() -> None:
    compose = _compose()
    assert compose["secrets"]["gateway_admin_key"] == {"environment": "GATEWAY_ADMIN_KEYS"}
    assert compose["services"]["prometheus"]["secrets"] == ["gateway_admin_key"]
    config = yaml.safe_load((DEPLOY / "prometheus" / "prometheus.yml").read_text())
    (job,) = config["scrape_configs"]
    assert job["metrics_path"] == "/metrics"
    assert job["authorization"] == {"type": "Bearer", "credentials_file": "/run/secrets/gateway_admin_key"}
    port = compose["services"]["gateway"]["ports"][0].rsplit(":", 1)[1]
    assert job["static_configs"] == [{"targets": [f"gateway:{port}"]}]


def test_grafana_gets_the_datasource_and_the_dashboard() -> None:
    provisioning = DEPLOY / "grafana" / "provisioning"
    (source,) = yaml.safe_load((provisioning / "datasources" / "prometheus.yaml").read_text())["datasources"]
    assert source["url"] == "http://prometheus:9090"
    (provider,) = yaml.safe_load((provisioning / "dashboards" / "gateway.yaml").read_text())["providers"]
    mounts = dict(
        v.split(":")[:2] for v in _compose()["services"]["grafana"]["volumes"] if v.startswith("./")
    )
    assert mounts["./deploy/grafana/dashboards"] == provider["options"]["path"]
    dashboard = json.loads((DEPLOY / "grafana" / "dashboards" / "gemini-gateway.json").read_text())
    assert dashboard["uid"] == "gemini-gateway" and dashboard["panels"]
    for panel in dashboard["panels"]:
        assert panel["datasource"]["uid"] == source["uid"], panel["title"]


def test_every_metric_the_dashboard_queries_is_exported() -> None:
    exported = set(re.findall(r"^# TYPE (\S+) (\S+)", Metrics().render().decode(), re.M))
    names = set()
    for name, kind in exported:
        names.add(name)
        if kind == "counter":
            names.add(name + "_total")
        if kind == "histogram":
            names.update({name + "_bucket", name + "_count", name + "_sum"})
    dashboard = json.loads((DEPLOY / "grafana" / "dashboards" / "gemini-gateway.json").read_text())
    queried = set()
    for panel in dashboard["panels"]:
        for target in panel["targets"]:
            expr = re.sub(r'\{[^}]*\}|"[^"]*"|\[[^\]]*\]', "", target["expr"])
            queried.update(word for word in re.findall(r"[a-z_]+", expr) if word not in _PROMQL)
    assert queried and queried <= names, sorted(queried - names)
    assert {"gateway_account_turns_total", "gateway_account_cooling_until_seconds"} <= queried
