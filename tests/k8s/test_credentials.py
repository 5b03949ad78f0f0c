"""No credential is written down anywhere in k8s/ or skaffold.yaml, except the dev overlay's
placeholder Secrets, which say loudly that they are placeholders."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from .manifests import K8S, SKAFFOLD, overlays, render

PLACEHOLDER_MARK = "DEV ONLY – replace"
PLACEHOLDER_DIR = K8S / "overlays" / "dev"
# Values that betray a real credential whatever key holds them.
CREDENTIAL_PATTERNS = {
    "AWS access key id": re.compile(r"\b(AKIA|ASIA|AGPA|AIDA|AROA)[A-Z0-9]{16}\b"),
    "AWS secret access key": re.compile(
        r"(?i)aws.{0,20}secret.{0,20}[=:]\s*['\"]?[A-Za-z0-9/+]{40}\b"
    ),
    "ZenML API key": re.compile(r"\bZENKEY_[A-Za-z0-9_\-]{16,}"),
    "private key": re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----"),
    "password in a URL": re.compile(r"\b[a-z][a-z0-9+.-]*://[^/\s:@]+:[^/\s@]+@"),
    "bearer token": re.compile(r"(?i)\bbearer\s+[A-Za-z0-9._~+/-]{20,}"),
}
# Keys and env var names that would hold a credential.
CREDENTIAL_KEY = re.compile(
    r"(?i)(password|passwd|secret[-_]?access|api[-_]?key|token|access[-_]?key"
    r"|encryption[-_]?key|private[-_]?key)"
)
# Values that are obviously not credentials: flags and file paths.
HARMLESS_VALUE = re.compile(r"(?i)^(yes|no|true|false|on|off|[01]|/[\w./-]*)$")


def k8s_files() -> list[Path]:
    return sorted(p for p in K8S.rglob("*") if p.is_file()) + [SKAFFOLD]


def yaml_documents(path: Path) -> list[dict[str, Any]]:
    if path.suffix not in {".yaml", ".yml"}:
        return []
    return [d for d in yaml.safe_load_all(path.read_text()) if isinstance(d, dict)]


def is_placeholder_secret(doc: dict[str, Any], path: Path) -> bool:
    annotations = doc.get("metadata", {}).get("annotations") or {}
    return (
        doc.get("kind") == "Secret"
        and path.parent == PLACEHOLDER_DIR
        and annotations.get("handoff.dev/placeholder") == PLACEHOLDER_MARK
        and PLACEHOLDER_MARK in path.read_text()
    )


def _is_credential(key: str, value: str) -> bool:
    return (
        bool(CREDENTIAL_KEY.search(key))
        and not HARMLESS_VALUE.match(value)
        and not key.startswith("checkov.io/")
    )


def literal_credentials(node: Any, trail: str = "") -> list[str]:
    """Paths of literal values held by credential-like keys or env vars, anywhere in a document."""
    found = []
    if isinstance(node, dict):
        name, value = node.get("name"), node.get("value")
        if isinstance(name, str) and isinstance(value, str) and _is_credential(name, value):
            found.append(f"{trail} env {name}")
        for key, value in node.items():
            if isinstance(key, str) and isinstance(value, str) and _is_credential(key, value):
                found.append(f"{trail}.{key}")
            found += literal_credentials(value, f"{trail}.{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            found += literal_credentials(value, f"{trail}[{i}]")
    return found


@pytest.mark.parametrize("path", k8s_files(), ids=lambda p: str(p.relative_to(K8S.parent)))
def test_no_file_holds_a_credential(path: Path) -> None:
    text = path.read_text()
    for what, pattern in CREDENTIAL_PATTERNS.items():
        assert not pattern.search(text), f"{path}: looks like a {what}"
    problems = []
    for doc in yaml_documents(path):
        if doc.get("kind") == "Secret":
            if doc.get("data") or doc.get("stringData"):
                assert is_placeholder_secret(doc, path), (
                    f"{path}: Secret {doc['metadata']['name']} carries values; only the dev "
                    f"overlay's placeholders may, annotated handoff.dev/placeholder: "
                    f"{PLACEHOLDER_MARK}"
                )
                values = {**doc.get("data", {}), **doc.get("stringData", {})}
                for key, value in values.items():
                    assert "replace" in str(value).lower(), (
                        f"{path}: {key} is not an obvious placeholder"
                    )
            continue
        problems += literal_credentials(
            doc, f"{doc.get('kind')}/{doc.get('metadata', {}).get('name')}"
        )
    assert not problems, f"{path}: literal credentials at " + ", ".join(problems)


@pytest.mark.parametrize("overlay", overlays())
def test_rendered_secrets_are_only_dev_placeholders(overlay: str) -> None:
    secrets = [o for o in render(overlay) if o["kind"] == "Secret"]
    if overlay != "dev":
        assert secrets == [], f"{overlay} must only reference Secrets, never carry them"
    for secret in secrets:
        assert secret["metadata"]["annotations"]["handoff.dev/placeholder"] == PLACEHOLDER_MARK
    # The API key is created by hand and must survive re-applying the overlay.
    assert "handoff-zenml" not in {s["metadata"]["name"] for s in secrets}


def test_the_scanner_catches_what_it_should() -> None:
    """The patterns above would have caught the usual ways a credential slips in."""
    assert CREDENTIAL_PATTERNS["AWS access key id"].search("key: AKIAIOSFODNN7EXAMPLE")
    assert CREDENTIAL_PATTERNS["password in a URL"].search("mysql://zenml:hunter2@mysql:3306/zenml")
    assert not CREDENTIAL_PATTERNS["password in a URL"].search("mysql://zenml@mysql:3306/zenml")
    assert literal_credentials({"env": [{"name": "ZENML_STORE_API_KEY", "value": "abc"}]})
    assert literal_credentials({"stringData": {"api-key": "abc"}})
    assert not literal_credentials(
        {"env": [{"name": "MYSQL_PASSWORD_FILE", "value": "/etc/x/password"}]}
    )
    assert not literal_credentials({"env": [{"name": "ZENML_STORE_API_KEY", "valueFrom": {}}]})


def test_the_dockerfile_holds_no_credential() -> None:
    """The CA bundle is a BuildKit secret and keys come from the pod's environment: no layer
    instruction may carry a credential (the built images are checked in tests/containers)."""
    text = (K8S.parent / "Dockerfile").read_text()
    for what, pattern in CREDENTIAL_PATTERNS.items():
        assert not pattern.search(text), f"Dockerfile: looks like a {what}"
    risky = re.compile(r"^\s*(ENV|ARG|LABEL)\b.*(KEY|SECRET|PASSWORD|TOKEN)", re.IGNORECASE)
    offending = [line for line in text.splitlines() if risky.search(line)]
    assert not offending, f"Dockerfile instructions naming a credential: {offending}"
    assert "--mount=type=secret,id=ca" in text  # the CA bundle only ever arrives as a secret
