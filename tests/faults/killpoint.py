"""Run a job and SIGKILL it at one exact point, as an OOM kill or a node loss would.

`python -m tests.faults.killpoint <point> <job> [flags...]` runs `python -m jobs.<job>` in this
process after wrapping two ZenML internals, so the kill lands exactly where asked:

- `before:<step>` / `after:<step>`: a step boundary (ZenML's step launcher);
- `mid-write:<name>`: inside the first artifact-store write to a file called `<name>`, after
  half of its bytes went out (`KILLPOINT_TRACE=1` prints every write, to pick the largest);
- `pause-before:<step>` / `pause-write:<name>`: no kill; print the marker and sleep
  `KILLPOINT_PAUSE_S` (default 5) there, so a test can stop a server at that moment;
- `holding-lock`: right after taking the promotion lock, before deciding;
- `before-record-delete`: the garbage collector, after a version's data, before its record;
- `none`: no kill (the same process shape for the rerun).

The process prints `KILLPOINT <point>` to stderr and kills itself with SIGKILL: nothing of the
job's own clean-up (finally blocks, atexit, ZenML's failure handling) can run.
"""

from __future__ import annotations

import os
import runpy
import signal
import sys
from typing import Any


def pause(point: str) -> None:
    import time

    print(f"KILLPOINT {point}", file=sys.stderr, flush=True)
    time.sleep(float(os.environ.get("KILLPOINT_PAUSE_S", "5")))


def die(point: str) -> None:
    print(f"KILLPOINT {point}", file=sys.stderr, flush=True)
    os.kill(os.getpid(), signal.SIGKILL)


def at_step_boundaries(point: str) -> None:
    from zenml.orchestrators import step_launcher

    launch = step_launcher.StepLauncher.launch

    def launch_and_maybe_die(self: Any) -> Any:
        name = self._invocation_id
        if point == f"before:{name}":
            die(point)
        if point == f"pause-before:{name}":
            pause(point)
        result = launch(self)
        if point == f"after:{name}":
            die(point)
        return result

    step_launcher.StepLauncher.launch = launch_and_maybe_die  # type: ignore[method-assign]


def in_an_artifact_write(point: str, filename: str) -> None:
    """Wrap `open` of every artifact store instance (local or S3) as it is created."""
    from zenml.artifact_stores.base_artifact_store import BaseArtifactStore

    trace = bool(os.environ.get("KILLPOINT_TRACE"))
    sanitize = BaseArtifactStore._add_path_sanitization

    def sanitize_and_wrap(self: Any) -> None:
        sanitize(self)
        opened = self.open

        def open_and_maybe_die(path: Any, mode: str = "r") -> Any:
            handle = opened(path, mode)
            if "w" not in mode:
                return handle
            if trace:
                print(f"KILLPOINT write {path}", file=sys.stderr, flush=True)
            if os.path.basename(str(path)) != filename:
                return handle
            if point.startswith("pause-write:"):
                pause(point)
                return handle
            return _HalfWriter(handle, point)

        object.__setattr__(self, "open", open_and_maybe_die)

    BaseArtifactStore._add_path_sanitization = sanitize_and_wrap  # type: ignore[method-assign]


def holding_the_promotion_lock(point: str) -> None:
    from jobs.common.store import leases

    acquire = leases.try_acquire

    def acquire_and_maybe_die(name: str, *args: Any, **kwargs: Any) -> Any:
        lease = acquire(name, *args, **kwargs)
        if lease is not None and name.startswith("handoff-promotion-lock-"):
            die(point)
        return lease

    leases.try_acquire = acquire_and_maybe_die


def before_a_record_delete(point: str) -> None:
    """The collector dies right before deleting an artifact version's record: its data and its
    run are gone already (a record without data, until the rerun)."""
    from jobs.common.store import artifacts

    def die_instead(version_id: str) -> None:
        die(point)

    artifacts.delete_record = die_instead


class _HalfWriter:
    """Passes writes through; at close (all bytes known) flushes half of them, then dies."""

    def __init__(self, handle: Any, point: str) -> None:
        self._handle, self._point = handle, point
        self._chunks: list[Any] = []

    def write(self, data: bytes | str) -> int:
        # A text-mode handle (an HTML visualization) gets text, a binary one bytes.
        self._chunks.append(data if isinstance(data, str) else bytes(data))
        return len(data)

    def close(self) -> None:
        empty = "" if self._chunks and isinstance(self._chunks[0], str) else b""
        whole = empty.join(self._chunks)
        self._handle.write(whole[: max(1, len(whole) // 2)])
        self._handle.flush()
        die(self._point)

    def __enter__(self) -> _HalfWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._handle, name)


if __name__ == "__main__":
    point, job, *flags = sys.argv[1:]
    if point.startswith(("before:", "after:", "pause-before:")):
        at_step_boundaries(point)
    elif point.startswith(("mid-write:", "pause-write:")):
        in_an_artifact_write(point, point.split(":", 1)[1])
    elif point == "holding-lock":
        holding_the_promotion_lock(point)
    elif point == "before-record-delete":
        before_a_record_delete(point)
    sys.argv = [f"jobs.{job}", *flags]
    runpy.run_module(f"jobs.{job}", run_name="__main__", alter_sys=True)
