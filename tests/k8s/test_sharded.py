"""The Indexed Job form of batch inference (k8s/components/sharded-batch-inference), as the
prod-sharded overlay renders it: the same pod contract as the single pod, N indexes that each
score one shard, per-index retries, and no index allowed to fail."""

from __future__ import annotations

from tests.k8s.manifests import find, render

SHARDED = "prod-sharded"


def batch_inference(overlay: str) -> dict:
    return find(render(overlay), "CronJob", "handoff-batch-inference")["spec"]["jobTemplate"][
        "spec"
    ]


def test_every_index_is_one_shard_of_the_same_count() -> None:
    spec = batch_inference(SHARDED)
    env = {e["name"]: e for e in spec["template"]["spec"]["containers"][0]["env"]}
    assert spec["completionMode"] == "Indexed"
    shards = spec["completions"]
    assert shards > 1 and spec["parallelism"] == shards
    # The job reads JOB_COMPLETION_INDEX as its shard of HANDOFF_SHARDS: the two must agree.
    assert env["HANDOFF_SHARDS"]["value"] == str(shards)
    assert "HANDOFF_SHARD" not in env
    # All pods of the Job score the same partition: the Job's name, not the pod's.
    assert env["HANDOFF_JOB_NAME"]["valueFrom"]["fieldRef"]["fieldPath"] == (
        "metadata.labels['batch.kubernetes.io/job-name']"
    )


def test_a_failing_index_is_retried_alone_and_no_index_may_stay_failed() -> None:
    spec = batch_inference(SHARDED)
    assert spec["backoffLimitPerIndex"] >= 1
    assert spec["maxFailedIndexes"] == 0
    # The Job-wide limit must not cut the per-index retries short.
    assert spec["backoffLimit"] >= spec["completions"] * spec["backoffLimitPerIndex"]


def test_the_sharded_pods_keep_the_single_pods_contract_and_failure_policy() -> None:
    single, sharded = batch_inference("prod"), batch_inference(SHARDED)
    for spec in (single, sharded):
        spec["template"]["spec"]["containers"][0]["env"] = [
            e
            for e in spec["template"]["spec"]["containers"][0]["env"]
            if e["name"] != "HANDOFF_SHARDS"
        ]
    assert sharded["template"] == single["template"]
    assert sharded["podFailurePolicy"] == single["podFailurePolicy"]
    assert sharded["activeDeadlineSeconds"] == single["activeDeadlineSeconds"]
