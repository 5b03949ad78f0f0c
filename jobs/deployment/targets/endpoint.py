"""HTTP polling of a handoff serving endpoint (GET /version, /readyz), shared by every target.

httpx is imported where it is used: ``python -m jobs.deployment --help`` never needs it.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from jobs.common.runtime.errors import Unavailable


def served_version(endpoint: str, timeout: float = 3.0) -> str | None:
    """The version a handoff endpoint serves, or None if nothing ready answers there."""
    import httpx

    try:
        response = httpx.get(endpoint + "/version", timeout=timeout)
    except httpx.HTTPError:
        return None
    if response.status_code != 200:
        return None
    return str(response.json().get("version"))


def wait_ready(endpoint: str, timeout_s: float, alive: Callable[[], bool] | None = None) -> None:
    """Until ``endpoint`` answers /readyz with 200; fails at once when ``alive`` says the
    server is gone or the endpoint says it cannot serve."""
    import httpx

    deadline = time.monotonic() + timeout_s
    last = "no answer"
    while time.monotonic() < deadline:
        if alive is not None and not alive():
            raise Unavailable(f"the serving process for {endpoint} exited before it was ready")
        try:
            response = httpx.get(endpoint + "/readyz", timeout=2.0)
            if response.status_code == 200:
                return
            last = response.text
            if response.json().get("status") == "failed":
                raise Unavailable(f"{endpoint} cannot serve: {response.json().get('error')}")
        except httpx.HTTPError as err:
            last = type(err).__name__
        time.sleep(0.3)
    raise Unavailable(f"{endpoint} was not ready within {timeout_s:.0f}s ({last})")


def wait_serving(endpoint: str, version: str, timeout_s: float, in_a_row: int = 3) -> None:
    """Until ``endpoint`` answers with ``version`` a few times in a row: behind a load balancer
    a replica that is still going away may answer once more."""
    deadline = time.monotonic() + timeout_s
    seen: str | None = None
    streak = 0
    while time.monotonic() < deadline:
        seen = served_version(endpoint)
        streak = streak + 1 if seen == version else 0
        if streak >= in_a_row:
            return
        time.sleep(0.5)
    raise Unavailable(
        f"{endpoint} did not answer with version {version} within "
        f"{timeout_s:.0f}s (last answer: {seen or 'none'})"
    )
