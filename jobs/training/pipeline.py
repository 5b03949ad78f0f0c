from __future__ import annotations

from typing import Any

from zenml import pipeline
from zenml.client import Client

from jobs.training.steps import evaluate_model, promote_model, train_model


@pipeline(enable_cache=False)
def training(
    training_dataset: str,
    train_version: str,
    testing_dataset: str,
    test_version: str,
    target_column: str,
    classifier: str,
    hyperparameters: dict[str, Any],
    metric: str,
    threshold: float,
    random_state: int,
) -> None:
    # Seed pattern 1: the datasets are fetched by name through the Client; these are references
    # to the artifact store, loaded only inside the steps.
    client = Client()
    train = client.get_artifact_version(name_id_or_prefix=training_dataset, version=train_version)
    test = client.get_artifact_version(name_id_or_prefix=testing_dataset, version=test_version)
    model = train_model(train, target_column, classifier, hyperparameters, random_state)
    metrics = evaluate_model(
        model,
        train,
        test,
        target_column,
        {
            "training": {"name": training_dataset, "version": train_version},
            "testing": {"name": testing_dataset, "version": test_version},
        },
    )
    promote_model(metrics, metric, threshold)
