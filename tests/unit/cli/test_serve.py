"""`handoff serve` takes serving's own flags, as the README's command line shows them."""

from __future__ import annotations

import pytest

from jobs.cli import main
from jobs.serving import job as serving_job
from jobs.serving.settings import Settings


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> list[Settings]:
    """What serving would have served with: the settings its entry point loaded."""
    seen: list[Settings] = []
    monkeypatch.setattr(serving_job, "run", lambda settings: seen.append(settings) or 0)
    return seen


def test_serve_takes_port_and_model_version(served: list[Settings]) -> None:
    assert main(["serve", "--port", "8081", "--model-version", "7", "--host", "127.0.0.1"]) == 0
    assert [(s.port, s.model_version, s.host) for s in served] == [(8081, "7", "127.0.0.1")]


def test_serve_without_flags_serves_the_shipped_defaults(served: list[Settings]) -> None:
    assert main(["serve"]) == 0
    assert [(s.port, s.model_version) for s in served] == [(8080, None)]


def test_serve_passes_a_config_file_on(served: list[Settings], tmp_path) -> None:
    config = tmp_path / "serving.yaml"
    config.write_text("port: 9090\nmodel_version: '3'\n")
    assert main(["serve", "--config", str(config), "--model-version", "4"]) == 0
    assert [(s.port, s.model_version) for s in served] == [(9090, "4")]


def test_serve_help_lists_servings_flags(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["serve", "--help"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    for flag in ("--port", "--host", "--model-version", "--config", "HANDOFF_PORT"):
        assert flag in out


def test_serve_rejects_an_unknown_flag_by_name(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["serve", "--prot", "8080"])
    assert exit_.value.code == 2
    assert "--prot" in capsys.readouterr().err


def test_a_bad_port_is_bad_input(served: list[Settings]) -> None:
    assert main(["serve", "--port", "0"]) == 2
    assert served == []
