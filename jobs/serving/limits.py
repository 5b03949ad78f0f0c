"""Request limits in front of the service: a body over ``MAX_BODY_BYTES`` or JSON nested deeper
than ``MAX_JSON_DEPTH`` is refused with 413 and one line of detail, before it is parsed.

``POST /predict`` takes at most 10 000 records (about 1.3 MB of JSON); without a byte limit a
100 000-record body would be read and parsed in full only to be refused, and deeply nested JSON
(about a thousand levels) makes the JSON parser give up with an error that becomes a 500.
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import numpy as np

MAX_BODY_BYTES = 2 * 1024 * 1024
MAX_JSON_DEPTH = 32

Message = MutableMapping[str, Any]
ASGIApp = Callable[
    [
        MutableMapping[str, Any],
        Callable[[], Awaitable[Message]],
        Callable[[Message], Awaitable[None]],
    ],
    Awaitable[None],
]
_STRING = re.compile(rb'"(?:\\.|[^"\\])*"', re.S)
_OPEN, _CLOSE = np.frombuffer(b"[{", np.uint8), np.frombuffer(b"]}", np.uint8)


def json_depth(body: bytes) -> int:
    """How deeply the brackets of a JSON text nest, strings left out (no parsing, no recursion)."""
    brackets = np.frombuffer(_STRING.sub(b"", body), np.uint8)
    steps = np.isin(brackets, _OPEN).astype(np.int64) - np.isin(brackets, _CLOSE)
    return int(steps.cumsum().max(initial=0))


class RequestLimits:
    """Pure ASGI middleware: reads a request body up to the limit, then replays it."""

    def __init__(
        self, app: ASGIApp, max_bytes: int = MAX_BODY_BYTES, max_depth: int = MAX_JSON_DEPTH
    ) -> None:
        self.app, self.max_bytes, self.max_depth = app, max_bytes, max_depth

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["method"] not in ("POST", "PUT", "PATCH"):
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > self.max_bytes:
            await self._refuse(send, f"request body over the limit of {self.max_bytes} bytes")
            return
        body, more = b"", True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body += message.get("body", b"")
            more = message.get("more_body", False)
            if len(body) > self.max_bytes:
                await self._refuse(send, f"request body over the limit of {self.max_bytes} bytes")
                return
        if json_depth(body) > self.max_depth:
            await self._refuse(send, f"JSON nested deeper than the limit of {self.max_depth}")
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)

    @staticmethod
    async def _refuse(send: Any, detail: str) -> None:
        payload = json.dumps({"detail": detail}).encode()
        headers = [(b"content-type", b"application/json"), (b"connection", b"close")]
        headers.append((b"content-length", str(len(payload)).encode()))
        await send({"type": "http.response.start", "status": 413, "headers": headers})
        await send({"type": "http.response.body", "body": payload})
