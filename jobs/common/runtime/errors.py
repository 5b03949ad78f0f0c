"""Exit codes are a contract: the Kubernetes manifests decide on them whether to retry a Job.

0 done (also "nothing to do"), 1 anything else (a retry may help), 2 bad input or config (never
retry), 3 a precondition is not met, e.g. no production model yet (never retry).
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from enum import IntEnum

from jobs.common.runtime.logs import error_line

log = logging.getLogger("handoff")


class ExitCode(IntEnum):
    OK = 0
    FAILED = 1
    BAD_INPUT = 2
    PRECONDITION = 3


class HandoffError(Exception):
    """An error with a message a human can act on: what, where, what to do."""

    exit_code: ExitCode = ExitCode.FAILED


class BadInput(HandoffError):
    """The data or the configuration is wrong; running again will not help."""

    exit_code = ExitCode.BAD_INPUT


class PreconditionNotMet(HandoffError):
    """Something another job produces is missing (e.g. no production model yet)."""

    exit_code = ExitCode.PRECONDITION


class Unavailable(HandoffError):
    """A server or target could not be reached; a retry may help."""

    exit_code = ExitCode.FAILED


def run_main(main: Callable[[], int | None], job: str) -> int:
    """Run a job's main function and turn any failure into one line and an exit code.

    The traceback goes to the debug log only, so a human sees what to do, not a wall of frames.
    """
    try:
        return int(main() or ExitCode.OK)
    except HandoffError as err:
        log.debug("%s failed", job, exc_info=True)
        print(error_line(job, str(err)), file=sys.stderr)
        return int(err.exit_code)
    except KeyboardInterrupt:
        print(error_line(job, "interrupted"), file=sys.stderr)
        return int(ExitCode.FAILED)
    except Exception as err:  # the last line of defence: one line, exit 1
        log.debug("%s failed", job, exc_info=True)
        print(error_line(job, f"unexpected error: {type(err).__name__}: {err}"), file=sys.stderr)
        return int(ExitCode.FAILED)
