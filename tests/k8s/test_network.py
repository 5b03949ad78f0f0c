"""Who may talk to whom, read off the rendered NetworkPolicies as a cluster would enforce them
(pods in the one namespace; selectors are matchLabels; a pod no policy selects is open)."""

from __future__ import annotations

import ipaddress
from typing import Any

import pytest

from .manifests import CHAINING_JOBS, JOBS, find, overlays, pod_templates, render, workloads

EXTERNAL: dict[
    str, str
] = {}  # labels of a peer outside the cluster (matched only by ipBlock / no `to`)
KUBE_DNS = {"k8s-app": "kube-dns"}  # CoreDNS in kube-system


def _selects(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    assert not selector.get("matchExpressions"), "the evaluator only reads matchLabels"
    return selector.get("matchLabels", {}).items() <= labels.items()


def _peer_matches(peer: dict[str, Any], labels: dict[str, str], other_namespace: bool) -> bool:
    if "ipBlock" in peer:
        return labels is EXTERNAL
    if labels is EXTERNAL:
        return False
    if "namespaceSelector" in peer:
        return _selects(peer["namespaceSelector"], {}) and _selects(
            peer.get("podSelector", {}), labels
        )
    return not other_namespace and _selects(peer["podSelector"], labels)


def _port_matches(rule: dict[str, Any], port: int, protocol: str) -> bool:
    ports = rule.get("ports")
    return not ports or any(
        p.get("port") == port and p.get("protocol", "TCP") == protocol for p in ports
    )


def allowed(
    policies: list[dict],
    src: dict[str, str],
    dst: dict[str, str],
    port: int,
    protocol: str = "TCP",
    dst_other_namespace: bool = False,
) -> bool:
    """Egress from pod `src` (in the namespace) to `dst` on `port`, and ingress into `dst` when
    `dst` is a pod of the namespace."""

    def direction_allows(
        direction: str, pod: dict[str, str], peer: dict[str, str], other_ns: bool
    ) -> bool:
        policy_type = direction.capitalize()
        selecting = [
            p
            for p in policies
            if policy_type in p["spec"].get("policyTypes", ["Ingress"])
            and _selects(p["spec"]["podSelector"], pod)
        ]
        if not selecting:
            return True
        key = "to" if direction == "egress" else "from"
        return any(
            _port_matches(rule, port, protocol)
            and (not rule.get(key) or any(_peer_matches(x, peer, other_ns) for x in rule[key]))
            for p in selecting
            for rule in p["spec"].get(direction, [])
        )

    out = direction_allows("egress", src, dst, dst_other_namespace)
    inside = dst is not EXTERNAL and not dst_other_namespace
    return out and (not inside or direction_allows("ingress", dst, src, False))


def pod_labels(objects: list[dict], name: str) -> dict[str, str]:
    for obj in workloads(objects):
        for template in pod_templates(obj):
            if template["metadata"]["labels"].get("app.kubernetes.io/name") == name:
                return template["metadata"]["labels"]
    raise AssertionError(f"no pod labelled app.kubernetes.io/name={name}")


def policies_of(objects: list[dict]) -> list[dict]:
    return [o for o in objects if o["kind"] == "NetworkPolicy"]


@pytest.mark.parametrize("overlay", overlays())
def test_everything_is_denied_unless_allowed(overlay: str) -> None:
    objects = render(overlay)
    deny = find(objects, "NetworkPolicy", "default-deny-all")["spec"]
    assert deny["podSelector"] == {}
    assert set(deny["policyTypes"]) == {"Ingress", "Egress"}
    assert not deny.get("ingress") and not deny.get("egress")


@pytest.mark.parametrize("overlay", overlays())
def test_jobs_and_serving_reach_dns_and_nothing_unplanned(overlay: str) -> None:
    objects = render(overlay)
    policies = policies_of(objects)
    for job in JOBS.values():
        src = pod_labels(objects, job)
        assert allowed(policies, src, KUBE_DNS, 53, "UDP", dst_other_namespace=True), job
        assert allowed(policies, src, KUBE_DNS, 53, "TCP", dst_other_namespace=True), job
        assert not allowed(policies, src, EXTERNAL, 22), job
        assert not allowed(policies, src, {"app": "anything-else"}, 8080), job


@pytest.mark.parametrize("overlay", overlays())
def test_serving_is_reachable_on_8080_only(overlay: str) -> None:
    objects = render(overlay)
    policies = policies_of(objects)
    serving = pod_labels(objects, JOBS["serving"])
    deployment_job = pod_labels(objects, JOBS["deployment"])
    assert allowed(policies, deployment_job, serving, 8080), "the deployment job's smoke test"
    ingress_ok = [
        rule
        for p in policies
        if _selects(p["spec"]["podSelector"], serving)
        for rule in p["spec"].get("ingress", [])
        if not rule.get("from") and _port_matches(rule, 8080, "TCP")
    ]
    assert ingress_ok, "serving must accept callers from anywhere on 8080"
    assert not allowed(policies, deployment_job, serving, 9090)


@pytest.mark.parametrize("overlay", overlays())
def test_only_the_deployment_and_chaining_jobs_reach_the_kubernetes_api(overlay: str) -> None:
    objects = render(overlay)
    policies = policies_of(objects)
    for job in ("deployment", *CHAINING_JOBS):
        assert allowed(policies, pod_labels(objects, JOBS[job]), EXTERNAL, 443), job
        assert allowed(policies, pod_labels(objects, JOBS[job]), EXTERNAL, 6443), job
    if overlay == "dev":  # prod's jobs speak HTTPS to their external server and store anyway
        for job in ("batch_inference", "serving"):
            assert not allowed(policies, pod_labels(objects, JOBS[job]), EXTERNAL, 443), job
            assert not allowed(policies, pod_labels(objects, JOBS[job]), EXTERNAL, 6443), job


def test_dev_platform_is_reachable_exactly_as_needed() -> None:
    objects = render("dev")
    policies = policies_of(objects)
    server, mysql, minio = (pod_labels(objects, n) for n in ("zenml-server", "mysql", "minio"))
    clients = [pod_labels(objects, n) for n in [*JOBS.values(), "handoff-stack-bootstrap"]]
    for client in clients:
        assert allowed(policies, client, server, 8080)
        assert allowed(policies, client, minio, 9000)
        assert not allowed(policies, client, mysql, 3306), "only the ZenML server uses the database"
    assert allowed(policies, server, mysql, 3306)
    for pod in (server, mysql, minio):
        assert not allowed(policies, pod, EXTERNAL, 443), "the platform needs no internet"


def test_prod_jobs_reach_their_external_server_over_https() -> None:
    objects = render("prod")
    policies = policies_of(objects)
    for job in JOBS.values():
        assert allowed(policies, pod_labels(objects, job), EXTERNAL, 443), job
        assert not allowed(policies, pod_labels(objects, job), EXTERNAL, 80), job


NODE_LOCAL_DNS = "169.254.20.10/32"


@pytest.mark.parametrize("overlay", overlays())
def test_dns_works_with_kube_dns_nodelocal_dnscache_and_openshift(overlay: str) -> None:
    """kube-dns/CoreDNS pods on 53, NodeLocal DNSCache's link-local address on 53 (outside any
    pod network), OpenShift's DNS pods on 5353 (their Service maps 53 to it)."""
    dns = find(render(overlay), "NetworkPolicy", "allow-dns-egress")["spec"]
    assert dns["podSelector"] == {} and dns["policyTypes"] == ["Egress"]

    def reaches(peer_matches, port: int) -> set[str]:
        return {
            p.get("protocol", "TCP")
            for rule in dns["egress"]
            if any(peer_matches(peer) for peer in rule.get("to", []))
            for p in rule.get("ports", [])
            if p["port"] == port
        }

    kube_dns = reaches(lambda p: p.get("podSelector", {}).get("matchLabels") == KUBE_DNS, 53)
    node_local = reaches(lambda p: p.get("ipBlock", {}).get("cidr") == NODE_LOCAL_DNS, 53)
    openshift = reaches(
        lambda p: (
            p.get("namespaceSelector", {}).get("matchLabels")
            == {"kubernetes.io/metadata.name": "openshift-dns"}
        ),
        5353,
    )
    assert kube_dns == node_local == openshift == {"UDP", "TCP"}
    # and no rule opens more than DNS
    ports = {p["port"] for rule in dns["egress"] for p in rule.get("ports", [])}
    assert ports == {53, 5353}


@pytest.mark.parametrize("overlay", overlays())
def test_the_kubernetes_api_is_reached_only_at_its_addresses(overlay: str) -> None:
    """Not 0.0.0.0/0 on 443/6443: the API policies name the API server's addresses (dev: kind's
    and minikube's; prod: a placeholder the operator replaces, where nothing answers)."""
    api = [
        p
        for p in policies_of(render(overlay))
        if p["metadata"].get("labels", {}).get("handoff.dev/egress") == "kubernetes-api"
    ]
    assert {p["metadata"]["name"] for p in api} == {
        "handoff-deployment-egress",
        "handoff-chaining-egress",
    }
    for policy in api:
        for rule in policy["spec"]["egress"]:
            if not any(p.get("port") in (443, 6443) for p in rule.get("ports", [{}])):
                continue
            assert rule.get("to"), f"{policy['metadata']['name']}: API egress to anywhere"
            nets = [ipaddress.ip_network(peer["ipBlock"]["cidr"]) for peer in rule["to"]]
            assert all(net.prefixlen >= 12 for net in nets), nets
            if overlay == "dev":
                assert any(ipaddress.ip_address("10.96.0.1") in net for net in nets)
            else:
                assert nets == [ipaddress.ip_network("192.0.2.1/32")]  # to be set by the operator
    # and no other policy opens 6443 (nothing but the API server listens there)
    for policy in policies_of(render(overlay)):
        for rule in policy["spec"].get("egress", []):
            if any(p.get("port") == 6443 for p in rule.get("ports", [])):
                assert policy in api, policy["metadata"]["name"]
