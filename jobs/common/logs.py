"""One logging set-up for every job: our lines at HANDOFF_LOG_LEVEL, ZenML's kept quiet."""

from __future__ import annotations

import logging
import os


def configure() -> None:
    level = os.environ.get("HANDOFF_LOG_LEVEL", "INFO").upper()
    logger = logging.getLogger("handoff")
    if not logger.handlers:  # ZenML configures the root logger; ours must not double its lines
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s handoff: %(message)s", "%H:%M:%S"))
        logger.addHandler(handler)
        logger.propagate = False
    logger.setLevel(level)
    # ZenML asks `uv`/`pip freeze` for the package list of every run; venvs built by uv have
    # neither, and the resulting warning says nothing a user can act on.
    logging.getLogger("zenml.environment").setLevel(logging.ERROR)
    # ZenML reads this once on import; a job's own lines are what a human needs first.
    os.environ.setdefault("ZENML_LOGGING_VERBOSITY", "WARN" if level != "DEBUG" else "INFO")
    os.environ.setdefault("ZENML_ANALYTICS_OPT_IN", "false")
