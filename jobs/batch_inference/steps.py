from __future__ import annotations

from typing import Annotated

import pandas as pd
from sklearn.base import ClassifierMixin
from zenml import ArtifactConfig, get_step_context, log_metadata, step

from jobs.batch_inference import features
from jobs.common.parquet import DataFrameParquetMaterializer
from jobs.common.tables import write_table


@step(output_materializers=DataFrameParquetMaterializer)
def load_features(uri: str, fingerprint: str) -> Annotated[pd.DataFrame, "inference_data"]:
    """Cached on the content fingerprint: the same rows are not stored twice."""
    data, _ = features.load(uri)
    return data


@step(output_materializers=DataFrameParquetMaterializer)
def predict(
    model: ClassifierMixin, data: pd.DataFrame
) -> Annotated[pd.DataFrame, ArtifactConfig(name="{predictions}")]:
    predictions = features.predict(model, data)
    served_by = get_step_context().model
    log_metadata(
        metadata={
            "model_name": served_by.name,
            "model_version": str(served_by.number),
            "rows": len(predictions),
        },
        infer_artifact=True,
    )
    return predictions


@step(enable_cache=False)
def export_predictions(predictions: pd.DataFrame, uri: str) -> None:
    write_table(predictions, uri)
