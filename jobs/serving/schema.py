"""The request contract of POST /predict, derived from the model's recorded schema.

One field per feature, typed by its kind: a number for numeric (an integer where the model was
trained on integers), a string for a category (any string: one the model never saw is handled
by the model), true/false (or yes/no ...) for a boolean, a string in the recorded spelling for a
datetime. ``null`` is accepted only where the model imputes gaps (``missing: impute``). The
table's other known columns (identifiers, free text) may be sent and are ignored; a missing,
unknown or wrongly kinded field is a 422 naming it.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, TypeAdapter, create_model

from jobs.common.data.schema import FLOAT32_MAX, Column, TableSchema, date_reader

# What the data contract accepts for training and batch inference: trees reject beyond float32.
_FLOAT = Annotated[float, Field(ge=-FLOAT32_MAX, le=FLOAT32_MAX)]
_INT = Annotated[int, Field(ge=-(2**63), le=2**63 - 1)]


class PredictRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    records: list[dict[str, Any]] = Field(min_length=1, max_length=10_000)


def field_type(column: Column) -> Any:
    if column.kind == "categorical":
        return str
    if column.kind == "boolean":
        return bool
    if column.kind == "datetime":
        return Annotated[str, AfterValidator(date_reader(column.format))]
    return _INT if column.dtype.startswith(("int", "uint")) else _FLOAT


def record_adapter(schema: TableSchema) -> TypeAdapter[list[BaseModel]]:
    """One strict field per feature: a missing, extra or wrongly kinded field is a 422 naming it."""
    nullable = schema.missing_policy == "impute"
    fields: dict[str, Any] = {
        name: ((field_type(column) | None) if nullable else field_type(column), ...)
        for name, column in schema.features.items()
    }
    fields.update({name: (Any, None) for name in schema.columns if name not in schema.features})
    # Fields built at run time match none of create_model's typed overloads, and the class it
    # returns is not a type mypy can check: both ignores are about that, not about the values.
    record = create_model(  # type: ignore[call-overload]
        "Record", __config__=ConfigDict(extra="forbid", allow_inf_nan=False), **fields
    )
    return TypeAdapter(list[record])  # type: ignore[valid-type]
