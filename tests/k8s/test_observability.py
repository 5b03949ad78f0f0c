"""What a cluster's Prometheus and log search need from the rendered manifests."""

from __future__ import annotations

import pytest

from jobs.serving.app import create_app

from .manifests import JOBS, find, generated, handoff_containers, overlays, render

OVERLAYS = overlays()


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_endpoint_is_scraped_where_the_app_serves_metrics(overlay: str) -> None:
    objects = render(overlay)
    deployment = find(objects, "Deployment", JOBS["serving"])
    annotations = deployment["spec"]["template"]["metadata"]["annotations"]
    assert annotations["prometheus.io/scrape"] == "true"
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    ports = {p["containerPort"] for p in container["ports"]}
    assert int(annotations["prometheus.io/port"]) in ports
    routes = {route.path for route in create_app(lambda: None).routes}  # type: ignore[arg-type]
    assert annotations["prometheus.io/path"] in routes


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_handoff_container_logs_json(overlay: str) -> None:
    objects = render(overlay)
    connection = generated(objects, "ConfigMap", "handoff-connection")
    assert connection["data"]["HANDOFF_LOG_FORMAT"] == "json"
    for obj, _, container in handoff_containers(objects):
        env = {e["name"]: e for e in container.get("env", [])}
        source = env["HANDOFF_LOG_FORMAT"]["valueFrom"]["configMapKeyRef"]
        assert source["key"] == "HANDOFF_LOG_FORMAT", obj["metadata"]["name"]
        assert source["name"] == connection["metadata"]["name"], obj["metadata"]["name"]
