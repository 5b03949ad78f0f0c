"""Splitting a partition across N shards and deciding whether the N parts can be committed."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from jobs.batch_inference import shards
from jobs.common.data import streaming
from jobs.common.data.streaming import FileLayout
from jobs.common.runtime.errors import BadInput


def land(folder: Path, files: dict[str, tuple[int, int]]) -> streaming.Source:
    """Parquet files named -> (rows, row group size), rows numbered across the files."""
    folder.mkdir(parents=True, exist_ok=True)
    start = 0
    for name, (rows, group) in files.items():
        table = pa.table({"row_id": list(range(start, start + rows))})
        pq.write_table(table, folder / name, row_group_size=group)
        start += rows
    return streaming.locate(str(folder))


def read_share(source: streaming.Source, share: shards.Share) -> list[int]:
    return [
        value
        for batch in streaming.batches(source, rows=7, pieces=share.pieces)
        for value in batch.table.column("row_id").to_pylist()
    ]


@pytest.mark.parametrize("count", [1, 2, 3, 4, 7])
def test_the_shards_read_every_row_once_in_the_input_order(tmp_path: Path, count: int):
    source = land(tmp_path / "dt=1", {"a.parquet": (100, 30), "b.parquet": (45, 10)})
    layout = streaming.layout_of(source)
    shares = shards.split(layout, count)

    read = [read_share(source, share) for share in shares]
    assert [row for part in read for row in part] == list(range(145))
    assert [share.rows for share in shares] == [len(part) for part in read]
    assert shards.input_rows(layout) == 145
    # Deterministic: every pod computes the same shares from the layout alone.
    assert shards.split(streaming.layout_of(streaming.locate(str(tmp_path / "dt=1"))), count) == (
        shares
    )


def test_row_groups_are_dealt_evenly_and_a_shard_past_them_is_empty():
    layout = [FileLayout("a", 40, (10, 10, 10, 10)), FileLayout("b", 20, (10, 10))]
    assert [s.rows for s in shards.split(layout, 3)] == [20, 20, 20]
    assert shards.split(layout, 3)[1].pieces == {"a": (2, 3)}
    assert [s.rows for s in shards.split(layout, 8)].count(0) == 2


def test_csv_is_split_by_whole_files_and_its_row_count_is_unknown():
    layout = [FileLayout(f"{n}.csv", None, None) for n in "abcd"]
    shares = shards.split(layout, 2)
    assert [s.pieces for s in shares] == [
        {"a.csv": None, "b.csv": None},
        {"c.csv": None, "d.csv": None},
    ]
    assert shards.input_rows(layout) is None


def test_the_shard_is_the_flag_else_the_indexed_jobs_completion_index():
    assert shards.shard_index(2, 4, {shards.INDEX_ENV: "1"}) == 2
    assert shards.shard_index(None, 4, {shards.INDEX_ENV: "3"}) == 3
    assert shards.shard_index(None, 4, {}) is None  # a commit attempt
    assert shards.shard_index(None, 1, {}) == 0
    with pytest.raises(BadInput, match="shard 4 is not one of 0..3"):
        shards.shard_index(None, 4, {shards.INDEX_ENV: "4"})
    with pytest.raises(BadInput, match="not a completion index"):
        shards.shard_index(None, 4, {shards.INDEX_ENV: "x"})


def test_only_this_splits_markers_count_as_done():
    names = [
        "part-00000.parquet",
        shards.marker(0, 4),
        shards.marker(3, 4),
        shards.marker(1, 2),  # an earlier 2-way split of the same partition
        "_drift.html",
    ]
    assert shards.done_shards(names, 4) == {0, 3}


def test_a_missing_shard_is_named_and_blocks_the_commit():
    texts = {i: shards.marker_text(i, 4, 10, shards.Share()) for i in (0, 1, 3)}
    state = shards.completeness(texts, 4, expected_rows=40)
    assert not state.complete and state.missing == [2]
    assert "shard(s) 2 of 4 not done (3 of 4 done); nothing registered" in state.refusal("x")


def test_counts_that_do_not_add_up_block_the_commit():
    texts = {i: shards.marker_text(i, 2, 10, shards.Share()) for i in (0, 1)}
    assert shards.completeness(texts, 2, expected_rows=20).complete
    short = shards.completeness(texts, 2, expected_rows=25)
    assert not short.complete and short.missing == []
    assert "wrote 20 rows but the input has 25" in short.refusal("x")
    # An unreadable marker (a torn write) counts as a shard not done.
    torn = shards.completeness({0: texts[0], 1: '{"ro'}, 2, expected_rows=20)
    assert torn.missing == [1]
