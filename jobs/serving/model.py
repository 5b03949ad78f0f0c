"""Loading the served model version from the ZenML model control plane."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import TypeAdapter

from jobs.common.data.schema import TableSchema, from_metadata
from jobs.serving.schema import record_adapter


@dataclass(frozen=True)
class ServedModel:
    name: str
    version: str
    estimator: Any
    schema: TableSchema
    records: TypeAdapter[Any]


def load(model_name: str, version: str | None, model_artifact: str) -> ServedModel:
    from jobs.common.runtime.connection import connect
    from jobs.common.store.model_registry import get_version, require_production

    connect()
    found = get_version(model_name, version) if version else require_production(model_name)
    estimator = found.get_model_artifact(model_artifact).load()
    schema = from_metadata(found.run_metadata) or from_metadata({"feature_schema": {}})
    assert schema is not None, "a schema of no features is still a schema"
    return ServedModel(model_name, str(found.number), estimator, schema, record_adapter(schema))
