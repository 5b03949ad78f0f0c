"""The deployment job: serve the production model version on the configured target, or do
nothing when the target already serves it."""

from __future__ import annotations

import logging

from jobs.common import chaining
from jobs.common.runtime.connection import connect
from jobs.common.store import stuck_runs
from jobs.common.store.model_registry import get_version
from jobs.deployment import preflight, record
from jobs.deployment.factory import make_target
from jobs.deployment.settings import Settings

log = logging.getLogger("handoff")


def run(settings: Settings) -> int:
    spec = settings.target_spec()
    target = make_target(spec)  # reaches nothing until asked: what follows runs on its path
    log.info("deploying to the %s target at %s", target.kind, target.endpoint)
    connect()
    production = chaining.production_to_deploy(
        settings.model_name, settings.model_version, settings.idle_without_production
    )
    if production is None:
        return 0
    version = str(production.number)
    done = preflight.nothing_to_do(target.kind, target.live(), settings.model_name, version)
    if done:
        print(done)
        return 0
    column = preflight.target_column(production.run_metadata, settings.model_name, version)

    from zenml import Model
    from zenml.enums import ModelStages

    from jobs.deployment.pipeline import deployment

    with stuck_runs.running("deployment") as tags:
        deployment.with_options(
            model=Model(name=settings.model_name, version=ModelStages.PRODUCTION), tags=tags
        )(params=settings.parameters(spec, column))
    written = get_version(settings.model_name, version).run_metadata.get(
        record.key(target.kind), {}
    )
    print(record.outcome(written, settings.model_name, version, target.kind))
    return 0
