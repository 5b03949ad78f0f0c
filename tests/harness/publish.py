"""Publish a table as a dataset version the way an older feature-engineering release might have:
`python -m tests.harness.publish <name> <version> <target_column> <file.csv>` (bypasses today's
data contract on purpose, so a test can show the consumers still refuse what it holds)."""

from __future__ import annotations

import sys

if __name__ == "__main__":
    import pandas as pd
    from zenml import save_artifact
    from zenml.enums import ArtifactType

    from jobs.common.data.data_contract import feature_schema
    from jobs.common.store.parquet import DataFrameParquetMaterializer

    name, version, target, path = sys.argv[1:5]
    frame = pd.read_csv(path)
    save_artifact(
        frame,
        name=name,
        version=version,
        artifact_type=ArtifactType.DATA,
        materializer=DataFrameParquetMaterializer,
        include_visualizations=False,
        user_metadata={
            "target_column": target,
            "feature_schema": feature_schema(frame.drop(columns=[target])),
            "rows": len(frame),
        },
    )
