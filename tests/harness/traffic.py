"""A client that keeps calling an endpoint while something changes behind it (a rollout, a
switch), recording every answer and every failure."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import httpx

from tests.harness.iris import ROWS

# Only a hang guard: the wait for answers normally takes a fraction of a second.
ANSWER_WAIT_S = 120.0


def predicted_version(url: str) -> Callable[[], str]:
    """A call that posts the iris rows to `url` (a /predict endpoint) and returns the model
    version that answered; any status but 200 raises."""

    def call() -> str:
        response = httpx.post(url, json={"records": ROWS}, timeout=10, trust_env=False)
        if response.status_code != 200:
            raise AssertionError(f"{response.status_code}: {response.text[:200]}")
        return str(response.json()["version"])

    return call


@dataclass
class Traffic:
    """What the caller saw, in order: `seen` holds each answer, `failures` each error."""

    seen: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    _answered: threading.Condition = field(default_factory=threading.Condition)

    def record(self, answer: str | None, failure: str | None) -> None:
        with self._answered:
            if failure is None:
                self.seen.append(str(answer))
            else:
                self.failures.append(failure)
            self._answered.notify_all()

    def wait_for_answers(self, count: int) -> None:
        """Block until `count` more calls have ended (answered or failed) than have now."""
        with self._answered:
            target = len(self.seen) + len(self.failures) + count
            reached = self._answered.wait_for(
                lambda: len(self.seen) + len(self.failures) >= target, timeout=ANSWER_WAIT_S
            )
        assert reached, f"the caller made no {count} further calls in {ANSWER_WAIT_S:.0f}s"


@contextlib.contextmanager
def traffic(call: Callable[[], str], pause_s: float = 0.05) -> Iterator[Traffic]:
    """Call `call` in a loop on a thread until the block ends; the thread is joined on exit."""
    seen = Traffic()
    stop = threading.Event()

    def keep_calling() -> None:
        while not stop.is_set():
            try:
                seen.record(call(), None)
            except (AssertionError, httpx.HTTPError) as err:
                seen.record(None, f"{type(err).__name__}: {err}")
            time.sleep(pause_s)

    caller = threading.Thread(target=keep_calling, name="traffic", daemon=True)
    caller.start()
    try:
        yield seen
    finally:
        stop.set()
        caller.join()  # each call ends within its own HTTP timeout
