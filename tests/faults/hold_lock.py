"""`python -m tests.faults.hold_lock <model> <hold seconds> <wait seconds>`: take the promotion
lock of <model> (waiting at most <wait seconds>), print `HELD`, keep it for <hold seconds> while
busy, release it and print `RELEASED`. A lock it cannot get is exit 1 with the job's one line."""

from __future__ import annotations

import sys
import time

from jobs.common.runtime.connection import connect
from jobs.common.runtime.errors import run_main
from jobs.common.store.model_registry import promotion_lock


def hold(model: str, hold_s: float, wait_s: float) -> int:
    connect()
    with promotion_lock(model, wait_s=wait_s):
        print("HELD", flush=True)
        time.sleep(hold_s)
    print("RELEASED", flush=True)
    return 0


if __name__ == "__main__":
    model, hold_s, wait_s = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
    sys.exit(run_main(lambda: hold(model, hold_s, wait_s), "hold_lock"))
