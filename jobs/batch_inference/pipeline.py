from __future__ import annotations

from zenml import get_pipeline_context, pipeline

from jobs.batch_inference.steps import export_predictions, load_features, predict


@pipeline
def batch_inference(
    input_uri: str, fingerprint: str, model_artifact: str, output_uri: str | None = None
) -> None:
    # Seed pattern 2, pipeline-level variant: the run is configured with
    # Model(version=ModelStages.PRODUCTION) and the model artifact is resolved here, so it is an
    # input of `predict` and the cache can never serve predictions of a retired model.
    model = get_pipeline_context().model
    data = load_features(input_uri, fingerprint)
    predictions = predict(model=model.get_model_artifact(model_artifact), data=data)
    if output_uri:
        export_predictions(predictions, output_uri)
