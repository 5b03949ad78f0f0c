from __future__ import annotations

from zenml import pipeline
from zenml.client import Client

from jobs.training.params import TrainingParams
from jobs.training.steps import evaluate_model, promote_model, report_evaluation, train_model


@pipeline(enable_cache=False)
def training(params: TrainingParams) -> None:
    # Seed pattern 1: the datasets come from the Client, by the ids resolved before the run
    # (jobs.training.preflight); these are references to the artifact store, loaded only inside
    # the steps.
    client = Client()
    train = client.get_artifact_version(name_id_or_prefix=params.training.id)
    test = client.get_artifact_version(name_id_or_prefix=params.testing.id)
    model = train_model(train, params)
    metrics, baseline, evaluation = evaluate_model(model, train, test, params)
    decision = promote_model(metrics, baseline, params)
    report_evaluation(evaluation, decision, params)
