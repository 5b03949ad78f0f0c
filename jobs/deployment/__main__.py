"""python -m jobs.deployment — serve the production model version; do nothing if it already is."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from jobs.common import chaining
from jobs.common.connection import connect
from jobs.common.entrypoint import job_main
from jobs.common.errors import PreconditionNotMet, Unavailable
from jobs.common.model_registry import get_version
from jobs.deployment.settings import Settings
from jobs.deployment.targets import make_target


def run(settings: Settings) -> int:
    connect()
    production = chaining.production_to_deploy(
        settings.model_name, settings.model_version, settings.idle_without_production
    )
    if production is None:
        return 0
    version = str(production.number)
    spec = settings.target_spec()
    target = make_target(spec)
    live = target.live()
    if live is not None and live.version == version and live.steady:
        print(
            f"{target.kind} target at {live.endpoint} already serves {settings.model_name} "
            f"version {version}; nothing to do"
        )
        return 0
    target_column = production.run_metadata.get("target_column")
    if not target_column:
        raise PreconditionNotMet(
            f"{settings.model_name} version {version} has no recorded "
            "target_column; retrain it with the training job"
        )

    from zenml import Model
    from zenml.enums import ModelStages

    from jobs.deployment.pipeline import deployment

    deployment.with_options(
        model=Model(name=settings.model_name, version=ModelStages.PRODUCTION),
    )(
        target=spec,
        testing_dataset=settings.testing_dataset,
        target_column=target_column,
        smoke_rows=settings.smoke_rows,
        model_artifact=settings.model_artifact,
    )
    record = get_version(settings.model_name, version).run_metadata.get(
        f"deployment_{target.kind}", {}
    )
    if record.get("status") != "deployed":
        previous = record.get("previous_version")
        then = (
            f"and restoring {'version ' + previous if previous else 'the previous state'} "
            f"failed too: {record['restore_error']}"
            if record.get("restore_error")
            else f"rolled back to {'version ' + previous if previous else 'nothing'}"
        )
        raise Unavailable(
            f"deploying version {version} to {target.kind} failed ({record.get('error')}); {then}"
        )
    print(
        f"deployed {settings.model_name} version {version} to {target.kind} at "
        f"{record['endpoint']} (previously {record.get('previous_version') or 'nothing'})"
    )
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    return job_main(
        "deployment",
        Settings,
        run,
        "Serve the production model version behind an HTTP endpoint.",
        argv,
    )


if __name__ == "__main__":
    sys.exit(main())
