"""The seed document's two consumer patterns, written as a user would against handoff's outputs.

Pattern 1 fetches a dataset by name with the Client; pattern 2 (pipeline-level variant) runs
`do_predictions` on whatever `iris_classifier` version is in production.
"""

from typing import Annotated

import pandas as pd
from sklearn.base import ClassifierMixin
from zenml import Model, get_pipeline_context, get_step_context, pipeline, step
from zenml.client import Client
from zenml.enums import ModelStages


@step
def count_rows(data: pd.DataFrame) -> int:
    print(f"fetched iris_training_dataset by name: {len(data)} rows", flush=True)
    return len(data)


@pipeline(enable_cache=False)
def my_training_pipeline():
    client = Client()
    train_data = client.get_artifact_version(name_id_or_prefix="iris_training_dataset")
    count_rows(train_data)


@step
def load_data() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "sepal_length_cm": [5.1, 6.7],
            "sepal_width_cm": [3.5, 3.0],
            "petal_length_cm": [1.4, 5.2],
            "petal_width_cm": [0.2, 2.3],
        }
    )


@step
def predict(model: ClassifierMixin, data: pd.DataFrame) -> Annotated[pd.Series, "predictions"]:
    version = get_step_context().model.number
    print(f"do_predictions used production version {version}", flush=True)
    return pd.Series(model.predict(data))


@pipeline(model=Model(name="iris_classifier", version=ModelStages.PRODUCTION), enable_cache=False)
def do_predictions():
    model = get_pipeline_context().model
    inference_data = load_data()
    predict(model=model.get_model_artifact("trained_model"), data=inference_data)


if __name__ == "__main__":
    my_training_pipeline()
    do_predictions()
