"""One logging set-up for every job: our lines at HANDOFF_LOG_LEVEL, ZenML's kept quiet.

``HANDOFF_LOG_FORMAT=json`` (set in the manifests) turns every line into one JSON object a log
search can index: ``time``, ``level``, ``job``, ``run`` (the ZenML pipeline run), ``model``,
``version``, ``partition``, ``message`` — the keys are always there, ``null`` when unknown — plus
the structured fields a line carries (e.g. a progress line's ``rows_done``). Inside a ZenML step
the run, model and model version come from the step context; code that knows more (a partition)
says so with :func:`bind`. ZenML's own lines are JSON too (``ZENML_CONSOLE_LOGGING_FORMAT``).
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import re
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from contextvars import ContextVar
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any, TextIO

FORMAT_ENV = "HANDOFF_LOG_FORMAT"
FIELDS = ("time", "level", "job", "run", "model", "version", "partition", "message")
# Never mutated: bind() and bound() set a new mapping, so a context copy is never changed.
_context: ContextVar[Mapping[str, Any]] = ContextVar(
    "handoff_log_context", default=MappingProxyType({})
)
# The attributes every LogRecord has; anything else on a record came in through `extra=`.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}

_ANSI = re.compile(r"\x1b\[[0-9;]*m")

log = logging.getLogger("handoff")


def json_enabled() -> bool:
    return os.environ.get(FORMAT_ENV, "text").strip().lower() == "json"


def configure(job: str | None = None) -> None:
    level = os.environ.get("HANDOFF_LOG_LEVEL", "INFO").upper()
    if job:
        bind(job=job)
    if json_enabled():
        # ZenML reads this once on import (after us): its own lines become JSON objects too.
        os.environ.setdefault("ZENML_CONSOLE_LOGGING_FORMAT", "json")
        # Whatever else reaches stdout/stderr (a job's result line, a library's warning) is
        # wrapped into a JSON line, so a log search never meets a line it cannot parse.
        if not isinstance(sys.stdout, JsonLines):
            sys.stdout = JsonLines(sys.stdout)
        if not isinstance(sys.stderr, JsonLines):
            sys.stderr = JsonLines(sys.stderr, level=logging.WARNING)
    logger = logging.getLogger("handoff")
    if not logger.handlers:  # ZenML configures the root logger; ours must not double its lines
        logger.addHandler(logging.StreamHandler())
        logger.propagate = False
    for handler in logger.handlers:
        handler.setFormatter(
            JsonFormatter()
            if json_enabled()
            else logging.Formatter("%(asctime)s handoff: %(message)s", "%H:%M:%S")
        )
    logger.setLevel(level)
    # ZenML asks `uv`/`pip freeze` for the package list of every run; venvs built by uv have
    # neither, and the resulting warning says nothing a user can act on.
    logging.getLogger("zenml.environment").setLevel(logging.ERROR)
    # ZenML reads this once on import; a job's own lines are what a human needs first.
    os.environ.setdefault("ZENML_LOGGING_VERBOSITY", "WARN" if level != "DEBUG" else "INFO")
    os.environ.setdefault("ZENML_ANALYTICS_OPT_IN", "false")


def bind(**fields: Any) -> None:
    """Add context (job, run, model, version, partition…) to every later line of this context."""
    _context.set({**_context.get(), **{k: v for k, v in fields.items() if v is not None}})


@contextlib.contextmanager
def bound(**fields: Any) -> Iterator[None]:
    """Context for the lines logged inside the block only (e.g. one partition of a backfill)."""
    token = _context.set({**_context.get(), **{k: v for k, v in fields.items() if v is not None}})
    try:
        yield
    finally:
        _context.reset(token)


class JsonFormatter(logging.Formatter):
    """One JSON object per line; the fixed keys first, then the line's own fields."""

    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, Any] = dict.fromkeys(FIELDS)
        payload["time"] = datetime.fromtimestamp(record.created, UTC).isoformat(
            timespec="milliseconds"
        )
        payload["level"] = record.levelname.lower()
        payload.update(_step_context())
        payload.update(_context.get())
        payload["message"] = record.getMessage()
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                payload[key] = value
        if record.exc_info:
            payload["traceback"] = self.formatException(record.exc_info)
        return json.dumps(payload, default=str, separators=(",", ":"))


class JsonLines(io.TextIOBase):
    """A text stream that passes JSON lines through and wraps any other line into one."""

    def __init__(self, stream: TextIO, level: int = logging.INFO) -> None:
        self._stream, self._level, self._pending = stream, level, ""

    def write(self, text: str) -> int:
        self._pending += text
        *lines, self._pending = self._pending.split("\n")
        for line in lines:
            if line.strip():
                self._stream.write(self._as_json(line) + "\n")
        return len(text)

    def flush(self) -> None:
        self._stream.flush()

    def fileno(self) -> int:
        return self._stream.fileno()

    def isatty(self) -> bool:
        return False

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return getattr(self._stream, "encoding", "utf-8")

    def _as_json(self, line: str) -> str:
        if line.startswith("{"):
            try:
                json.loads(line)
                return line
            except ValueError:
                pass
        text = _ANSI.sub("", line)
        record = logging.LogRecord("handoff", self._level, "", 0, text, None, None)
        return JsonFormatter().format(record)


def error_line(job: str, message: str) -> str:
    """The one line a failing job leaves on stderr: plain text, or JSON in JSON mode."""
    if not json_enabled():
        return f"{job}: {message}"
    record = logging.LogRecord("handoff", logging.ERROR, "", 0, f"{job}: {message}", None, None)
    with bound(job=_context.get().get("job", job)):
        return JsonFormatter().format(record)


def _step_context() -> dict[str, Any]:
    """Run, model and model version of the ZenML step this line is logged from, if any."""
    if "zenml" not in sys.modules:  # never import ZenML just to log a line
        return {}
    try:
        from zenml import get_step_context

        context = get_step_context()
    except Exception:  # noqa: BLE001 - not inside a step: nothing to add
        return {}
    found: dict[str, Any] = {"run": context.pipeline_run.name}
    with contextlib.suppress(Exception):  # a step without a model still logs its run
        model = context.model
        found.update(model=model.name, version=str(model.number))
    return found


class Progress:
    """Progress of long work, logged at most every `every` seconds: done, per second, eta.

    ``with Progress("rows", total=n) as progress: progress.advance(len(batch))`` — the last
    line (done) is always logged.
    """

    def __init__(
        self,
        what: str,
        total: int | None = None,
        every: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
        logger: logging.Logger = log,
    ) -> None:
        self.what, self.total, self.every = what, total, every
        self.done = 0
        self._clock, self._log = clock, logger
        self._started = self._last = clock()

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, exc_type: object, *_: object) -> None:
        if exc_type is None:
            self.report(final=True)

    def advance(self, n: int) -> None:
        self.done += n
        if self._clock() - self._last >= self.every:
            self.report()

    def report(self, final: bool = False) -> None:
        now = self._clock()
        self._last = now
        elapsed = max(now - self._started, 1e-9)
        rate = self.done / elapsed
        eta = (
            (self.total - self.done) / rate
            if self.total is not None and rate > 0 and not final
            else None
        )
        fields = {
            f"{self.what}_done": self.done,
            f"{self.what}_total": self.total,
            f"{self.what}_per_s": round(rate, 1),
            "eta_s": None if eta is None else round(eta, 1),
        }
        of = f"/{self.total}" if self.total is not None else ""
        tail = "done" if final else (f"eta {eta:.0f}s" if eta is not None else "eta unknown")
        self._log.info("%s %d%s, %.0f/s, %s", self.what, self.done, of, rate, tail, extra=fields)
