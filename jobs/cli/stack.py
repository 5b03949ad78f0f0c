"""`handoff stack bootstrap`: register the shared stack on a ZenML server, idempotently.

What the cluster's bootstrap Job runs. The object-store credentials come from the environment
(``AWS_ACCESS_KEY_ID``/``AWS_SECRET_ACCESS_KEY``, a Kubernetes Secret) and go only into a ZenML
secret on the server; the artifact store refers to that secret by name.
"""

from __future__ import annotations

import os
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from jobs.common.runtime.errors import BadInput, Unavailable


class StackSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    stack_name: str = Field("handoff", description="the stack jobs select with HANDOFF_STACK")
    s3_path: str = Field("s3://handoff-artifacts", description="bucket (and prefix) for artifacts")
    s3_endpoint_url: str | None = Field(None, description="MinIO/S3 endpoint; null = AWS S3")
    s3_region: str = Field("us-east-1", description="object-store region")
    create_bucket: bool = Field(False, description="create the bucket if it does not exist")
    artifact_store_name: str = Field("handoff-s3", description="name of the artifact store")
    secret_name: str = Field("handoff-object-store", description="ZenML secret with the keys")
    orchestrator_name: str = Field("handoff-local", description="runs steps inside the job's pod")


def credentials() -> dict[str, str]:
    values = {
        "aws_access_key_id": os.environ.get("AWS_ACCESS_KEY_ID", ""),
        "aws_secret_access_key": os.environ.get("AWS_SECRET_ACCESS_KEY", ""),
    }
    missing = [k.upper() for k, v in values.items() if not v]
    if missing:
        raise BadInput(f"{' and '.join(missing)} must be set (the object-store credentials)")
    return values


def store_configuration(settings: StackSettings) -> dict[str, Any]:
    if not settings.s3_path.startswith("s3://"):
        raise BadInput(f"s3_path {settings.s3_path!r} must start with s3://")
    client_kwargs: dict[str, Any] = {"region_name": settings.s3_region}
    if settings.s3_endpoint_url:
        client_kwargs["endpoint_url"] = settings.s3_endpoint_url
    return {
        "path": settings.s3_path,
        "authentication_secret": settings.secret_name,
        "client_kwargs": client_kwargs,
        # An object store that is down fails a job in seconds (exit 1, a retry may help):
        # s3fs retries each call 5 times itself, so botocore makes one attempt per call.
        "config_kwargs": {
            "connect_timeout": 5,
            "read_timeout": 20,
            "retries": {"max_attempts": 1, "mode": "standard"},
        },
    }


def bootstrap(settings: StackSettings) -> list[str]:
    """Make the server match the settings; one line per object: created/updated/unchanged."""
    from zenml.client import Client
    from zenml.enums import StackComponentType as Kind

    keys = credentials()
    configuration = store_configuration(settings)
    if settings.create_bucket:
        ensure_bucket(settings, keys)
    client = Client()
    report = [_ensure_secret(client, settings.secret_name, keys)]
    report.append(
        _ensure_component(
            client, Kind.ARTIFACT_STORE, settings.artifact_store_name, "s3", configuration
        )
    )
    report.append(
        _ensure_component(client, Kind.ORCHESTRATOR, settings.orchestrator_name, "local", {})
    )
    components = {
        Kind.ARTIFACT_STORE: settings.artifact_store_name,
        Kind.ORCHESTRATOR: settings.orchestrator_name,
    }
    try:
        stack = client.get_stack(settings.stack_name, allow_name_prefix_match=False)
    except KeyError:
        client.create_stack(name=settings.stack_name, components=components)
        report.append(f"stack {settings.stack_name}: created")
    else:
        current = {
            kind: stack.components[kind][0].name
            for kind in components
            if stack.components.get(kind)
        }
        if current == components:
            report.append(f"stack {settings.stack_name}: unchanged")
        else:
            client.update_stack(
                settings.stack_name, component_updates={k: [v] for k, v in components.items()}
            )
            report.append(f"stack {settings.stack_name}: updated")
    return report


def ensure_bucket(settings: StackSettings, keys: dict[str, str]) -> None:
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError

    bucket = settings.s3_path.removeprefix("s3://").split("/", 1)[0]
    s3 = boto3.client(
        "s3", endpoint_url=settings.s3_endpoint_url, region_name=settings.s3_region, **keys
    )
    try:
        s3.head_bucket(Bucket=bucket)
        return
    except ClientError as err:
        if err.response.get("Error", {}).get("Code") not in ("404", "NoSuchBucket"):
            raise Unavailable(f"cannot check bucket {bucket}: {err}") from err
    except BotoCoreError as err:
        raise Unavailable(
            f"cannot reach the object store at {settings.s3_endpoint_url or 'AWS S3'}: {err}"
        ) from err
    extra = (
        {}
        if settings.s3_region == "us-east-1"
        else {"CreateBucketConfiguration": {"LocationConstraint": settings.s3_region}}
    )
    s3.create_bucket(Bucket=bucket, **extra)


def _ensure_secret(client: Any, name: str, values: dict[str, str]) -> str:
    try:
        secret = client.get_secret(
            name, allow_partial_name_match=False, allow_partial_id_match=False
        )
    except KeyError:
        client.create_secret(name=name, values=values)
        return f"secret {name}: created"
    if secret.secret_values == values:
        return f"secret {name}: unchanged"
    client.update_secret(name, add_or_update_values=values)
    return f"secret {name}: updated"


def _ensure_component(
    client: Any, kind: Any, name: str, flavor: str, configuration: dict[str, Any]
) -> str:
    label = f"{kind.value.replace('_', ' ')} {name}"
    try:
        component = client.get_stack_component(kind, name, allow_name_prefix_match=False)
    except KeyError:
        client.create_stack_component(
            name=name, flavor=flavor, component_type=kind, configuration=configuration
        )
        return f"{label}: created"
    if component.flavor_name != flavor:
        raise BadInput(
            f"{label} exists with flavor {component.flavor_name}, not {flavor}; "
            "rename it or choose another name"
        )
    if all(component.configuration.get(k) == v for k, v in configuration.items()):
        return f"{label}: unchanged"
    client.update_stack_component(name, kind, configuration=configuration)
    return f"{label}: updated"
