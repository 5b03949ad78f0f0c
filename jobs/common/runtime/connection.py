"""How a job finds its ZenML store and stack: from the environment only.

Unset ``ZENML_STORE_URL`` means ZenML's embedded local store (one machine, ``make run``). Set, it
names a remote server reached with ``ZENML_STORE_API_KEY``; then ``HANDOFF_STACK`` names the stack,
and the job refuses to run unless that stack's artifact store is remote — a local one would lose
every artifact with the pod.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from typing import Any

from jobs.common.runtime.errors import BadInput, Unavailable

log = logging.getLogger("handoff")

STACK_ENV = "HANDOFF_STACK"
DEFAULT_REMOTE_STACK = "handoff"
CONNECT_TIMEOUT_S = 10.0


def server_url(environ: Mapping[str, str] | None = None) -> str | None:
    """The remote server's URL in ``environ`` (default: this process's environment); ZenML
    itself may set a ``sqlite://`` URL for a local store."""
    environ = os.environ if environ is None else environ
    url = environ.get("ZENML_STORE_URL", "")
    return url if url.startswith(("http://", "https://")) else None


def connect() -> str:
    """Connect to the configured store, activate the stack, and return a one-line description."""
    url = server_url()
    if url:
        _check_reachable(url)
    from zenml.client import Client

    try:
        client = Client()
        stack_name = os.environ.get(STACK_ENV) or (DEFAULT_REMOTE_STACK if url else None)
        if stack_name and client.active_stack_model.name != stack_name:
            try:
                client.activate_stack(stack_name)
            except KeyError as err:
                raise BadInput(
                    f"no stack named {stack_name!r} on {url or 'the local store'}; "
                    "run `handoff stack bootstrap` first or set HANDOFF_STACK"
                ) from err
        stack = client.active_stack_model
    except (BadInput, Unavailable):
        raise
    except Exception as err:
        if url:
            raise Unavailable(f"cannot use the ZenML server at {url}: {_describe(err)}") from err
        raise
    store_path = artifact_store_path(stack)
    if url and "://" not in store_path:
        raise BadInput(
            f"stack {stack.name!r} on {url} has a local artifact store ({store_path}); its "
            "artifacts would die with the pod. Set HANDOFF_STACK to a stack with a remote "
            "artifact store (`handoff stack bootstrap` creates one)"
        )
    where = url or "the local ZenML store"
    log.info(
        "using stack %s on %s (artifacts in %s)",
        stack.name,
        where,
        store_path or "the local artifact store",
    )
    return f"stack {stack.name} on {where}"


def artifact_store_path(stack: Any) -> str:  # a zenml StackResponse
    from zenml.enums import StackComponentType

    component = stack.components[StackComponentType.ARTIFACT_STORE][0]
    return str(component.configuration.get("path", ""))


def _check_reachable(url: str) -> None:
    """Fail fast with one line; ZenML's own client retries for minutes on a dead server."""
    import httpx

    try:
        response = httpx.get(url.rstrip("/") + "/health", timeout=CONNECT_TIMEOUT_S)
    except httpx.HTTPError as err:
        raise Unavailable(f"cannot reach the ZenML server at {url}: {_describe(err)}") from err
    if response.status_code >= 500:
        raise Unavailable(f"the ZenML server at {url} is unhealthy: HTTP {response.status_code}")


def _describe(err: BaseException) -> str:
    text = str(err).strip().splitlines()
    first = text[0] if text else ""
    if "401" in first or "Authentication" in type(err).__name__ or "credentials" in first.lower():
        return (
            "the API key in ZENML_STORE_API_KEY was rejected ("
            + (first or type(err).__name__)
            + ")"
        )
    return f"{type(err).__name__}: {first}" if first else type(err).__name__
