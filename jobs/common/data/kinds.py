"""The names a schema is spelled in: column kinds, tasks, policies. No pandas here, so settings
can name them and ``--help`` stays fast (``jobs.common.data.schema`` infers and applies them)."""

from __future__ import annotations

from typing import Literal, get_args

Kind = Literal["numeric", "categorical", "boolean", "datetime", "identifier", "text"]
KINDS: tuple[str, ...] = get_args(Kind)
FEATURE_KINDS = ("numeric", "categorical", "boolean", "datetime")
"""The kinds the model learns from; identifiers and free text are carried or left out."""
Task = Literal["classification", "regression"]
Missing = Literal["impute", "reject"]
"""A gap in a feature: imputed by the model, or refused by the data contract."""
Unseen = Literal["warn", "fail"]
"""A category the model never saw: counted and recorded, or refused."""
