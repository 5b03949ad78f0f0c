"""Typed job settings, layered from five sources and validated once, at start.

Lowest to highest priority: code defaults -> the job's shipped ``config.yaml`` -> ``--config FILE``
(the ConfigMap in the cluster) -> ``HANDOFF_<KEY>`` environment variables -> command-line flags.
Unknown keys are an error that names the key and where it came from. Secrets never come from here:
they are read from the environment by the code that needs them.
"""

from __future__ import annotations

import argparse
import os
import types
import typing
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from jobs.common.runtime.errors import BadInput

ENV_PREFIX = "HANDOFF_"


class JobSettings(BaseModel):
    """Keys every job shares: which dataset family, and the names derived from it."""

    model_config = ConfigDict(extra="forbid")

    dataset: str = Field("iris", description="dataset family; prefixes every artifact name")
    training_dataset: str = Field("", description="default: <dataset>_training_dataset")
    testing_dataset: str = Field("", description="default: <dataset>_testing_dataset")
    model_name: str = Field("", description="ZenML Model name; default: <dataset>_classifier")
    model_artifact: str = Field("trained_model", description="the Model's model artifact")

    @model_validator(mode="after")
    def _derive_names(self) -> JobSettings:
        self.training_dataset = self.training_dataset or f"{self.dataset}_training_dataset"
        self.testing_dataset = self.testing_dataset or f"{self.dataset}_testing_dataset"
        self.model_name = self.model_name or f"{self.dataset}_classifier"
        return self

    @property
    def predictions_artifact(self) -> str:
        return f"{self.dataset}_predictions"

    @property
    def shadow_predictions_artifact(self) -> str:
        """The staging challenger's predictions (batch inference's ``shadow``): never read as
        the production predictions."""
        return f"{self.dataset}_shadow_predictions"


S = TypeVar("S", bound=BaseModel)


def env_name(key: str) -> str:
    return ENV_PREFIX + key.upper()


def add_flags(parser: argparse.ArgumentParser, settings_cls: type[BaseModel]) -> None:
    """One ``--some-key VALUE`` flag per settings key, so flags and config keys never drift."""
    parser.add_argument("--config", type=Path, help="YAML file of settings (flat mapping)")
    for key, field in settings_cls.model_fields.items():
        extra = field.json_schema_extra if isinstance(field.json_schema_extra, dict) else {}
        # A key may have a shorter flag (backfill_from: --from) besides its own.
        short = [str(extra["flag"])] if "flag" in extra else []
        # A yes/no key is also a bare flag: `--apply` is `--apply true`.
        switch: dict[str, Any] = (
            {"nargs": "?", "const": "true"} if field.annotation in (bool, "bool") else {}
        )
        parser.add_argument(
            *short,
            "--" + key.replace("_", "-"),
            dest=key,
            default=None,
            metavar="VALUE",
            help=f"{field.description or key} (env {env_name(key)})",
            **switch,
        )


def load(
    settings_cls: type[S],
    package: str,
    config_file: Path | None = None,
    flags: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
) -> S:
    """Merge the five layers for the job in ``package`` and validate the result."""
    environ = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    origin: dict[str, str] = {}

    def layer(source: str, items: Mapping[str, Any]) -> None:
        for key, value in items.items():
            if key not in settings_cls.model_fields:
                raise BadInput(
                    f"unknown config key {key!r} in {source}; known keys: "
                    + ", ".join(sorted(settings_cls.model_fields))
                )
            values[key] = value
            origin[key] = source

    shipped = resources.files(package).joinpath("config.yaml")
    if shipped.is_file():
        layer(f"shipped {package}/config.yaml", _parse_yaml(shipped.read_text(), str(shipped)))
    if config_file is not None:
        try:
            text = Path(config_file).read_text()
        except OSError as err:
            raise BadInput(f"cannot read config file {config_file}: {err.strerror}") from err
        layer(str(config_file), _parse_yaml(text, str(config_file)))
    layer(
        "the environment",
        {
            key: _parse_text(field.annotation, environ[env_name(key)])
            for key, field in settings_cls.model_fields.items()
            if env_name(key) in environ
        },
    )
    layer(
        "command-line flags",
        {
            key: _parse_text(settings_cls.model_fields[key].annotation, value)
            for key, value in (flags or {}).items()
            if value is not None and key in settings_cls.model_fields
        },
    )
    try:
        return settings_cls.model_validate(values)
    except ValidationError as err:
        first = err.errors()[0]
        key = ".".join(str(part) for part in first["loc"]) or "config"
        where = origin.get(str(first["loc"][0]), "defaults") if first["loc"] else "config"
        raise BadInput(f"invalid config key {key!r} (from {where}): {first['msg']}") from err


def _parse_yaml(text: str, source: str) -> dict[str, Any]:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as err:
        raise BadInput(f"config file {source} is not valid YAML: {err}") from err
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise BadInput(f"config file {source} must be a mapping of keys to values")
    return data


def _parse_text(annotation: Any, raw: str) -> Any:
    """Strings stay strings (a version named ``2023`` is not a number); the rest is YAML."""
    if _accepts_str(annotation):
        return raw
    try:
        return yaml.safe_load(raw)
    except yaml.YAMLError:
        return raw


def _accepts_str(annotation: Any) -> bool:
    if annotation is str:
        return True
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        return any(_accepts_str(arg) for arg in typing.get_args(annotation))
    return typing.get_origin(annotation) is typing.Literal and all(
        isinstance(arg, str) for arg in typing.get_args(annotation)
    )
