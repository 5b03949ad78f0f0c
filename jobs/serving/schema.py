"""The request contract of POST /predict, derived from the model's recorded feature schema."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, create_model

from jobs.common.data.data_contract import FLOAT32_MAX, FeatureSchema

# What the data contract accepts for training and batch inference: trees reject beyond float32.
_FLOAT = Annotated[float, Field(ge=-FLOAT32_MAX, le=FLOAT32_MAX)]
_INT = Annotated[int, Field(ge=-(2**63), le=2**63 - 1)]


class PredictRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    records: list[dict[str, Any]] = Field(min_length=1, max_length=10_000)


def record_adapter(schema: FeatureSchema) -> TypeAdapter[list[BaseModel]]:
    """One strict field per feature: a missing, extra or non-numeric field is a 422 naming it."""
    fields: dict[str, Any] = {
        name: (_INT if dtype.startswith(("int", "uint")) else _FLOAT, ...)
        for name, dtype in schema.items()
    }
    # Fields built at run time match none of create_model's typed overloads, and the class it
    # returns is not a type mypy can check: both ignores are about that, not about the values.
    record = create_model(  # type: ignore[call-overload]
        "Record", __config__=ConfigDict(extra="forbid", allow_inf_nan=False), **fields
    )
    return TypeAdapter(list[record])  # type: ignore[valid-type]
