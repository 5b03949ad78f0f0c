"""Unit tests call jobs' ``main()`` in-process: what a job binds to its log context (its name,
for every line it logs) must end with the test, or a later test sees another job's name."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from jobs.common.runtime import logs


@pytest.fixture(autouse=True)
def log_context_ends_with_the_test() -> Iterator[None]:
    token = logs._context.set(logs._context.get())
    yield
    logs._context.reset(token)
