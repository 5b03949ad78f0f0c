"""Issue 20, item 6: bad settings are exit 2 naming the key, through `handoff gc` and
`python -m jobs.gc` alike, before anything connects to ZenML."""

from __future__ import annotations

import pytest

from jobs import cli
from jobs.gc import __main__ as gc_main
from jobs.gc import job as gc_job

BAD = [
    (["--keep-last", "0"], "keep_last"),
    (["--keep-last=0"], "keep_last"),
    (["--keep-days", "-1"], "keep_days"),
    (["--keep-archived=-2"], "keep_archived"),
    (["--keep-datasets", "0"], "keep_datasets"),
    # A value that starts with a dash must reach gc's own parser as a value, not as a flag.
    (["--orphan-age=-1h"], "orphan_age"),
    (["--orphan-age", "soon"], "orphan_age"),
]


@pytest.fixture(autouse=True)
def never_connects(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse() -> None:
        raise AssertionError("bad settings must stop gc before it connects")

    monkeypatch.setattr(gc_job, "connect", refuse)


@pytest.mark.parametrize(("flags", "key"), BAD)
def test_handoff_gc_names_the_bad_key(flags, key, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["gc", *flags]) == 2
    assert key in capsys.readouterr().err


@pytest.mark.parametrize(("flags", "key"), BAD)
def test_python_m_jobs_gc_names_the_bad_key(flags, key, capsys) -> None:
    assert gc_main.main(flags) == 2
    assert key in capsys.readouterr().err


def test_flags_are_passed_on_as_key_equals_value() -> None:
    import argparse

    from jobs.gc.settings import Settings

    args = argparse.Namespace(config=None, **dict.fromkeys(Settings.model_fields))
    args.orphan_age, args.keep_last = "-1h", 2
    assert cli._flags_again(args, Settings) == ["--keep-last=2", "--orphan-age=-1h"]
