import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from jobs.common.data import streaming
from jobs.common.runtime.errors import BadInput


def frame(rows: int, start: int = 0) -> pd.DataFrame:
    return pd.DataFrame({"id": np.arange(start, start + rows), "x": np.linspace(0, 1, rows)})


def test_a_folder_of_parquet_files_is_read_in_bounded_batches_in_order(tmp_path: Path):
    folder = tmp_path / "dt=2026-11-25"
    folder.mkdir()
    frame(250).to_parquet(folder / "part-0.parquet", row_group_size=100)
    frame(50, start=250).to_parquet(folder / "part-1.parquet")
    (folder / "_SUCCESS").write_text("")
    source = streaming.locate(str(folder))
    assert [Path(f.uri).name for f in source.files] == ["part-0.parquet", "part-1.parquet"]
    batches = list(streaming.batches(source, rows=64, columns=["id"]))
    assert max(b.table.num_rows for b in batches) <= 64
    assert np.concatenate([b.table.column("id").to_numpy() for b in batches]).tolist() == list(
        range(300)
    )
    assert batches[-1].where.endswith("part-1.parquet (rows 0-49)")


def test_the_identity_changes_with_the_content_without_reading_it_twice(tmp_path: Path):
    path = tmp_path / "t.parquet"
    frame(10).to_parquet(path)
    before = streaming.locate(str(path))
    assert before.describe()["bytes"] == path.stat().st_size
    assert streaming.locate(str(path)).identity == before.identity
    frame(11).to_parquet(path)
    os.utime(path, ns=(0, 0))
    assert streaming.locate(str(path)).identity != before.identity


def test_csv_is_streamed_too_and_a_pandas_index_is_not_a_column(tmp_path: Path):
    frame(5).to_csv(tmp_path / "a.csv", index=False)
    csv = streaming.locate(str(tmp_path / "a.csv"))
    assert sum(b.table.num_rows for b in streaming.batches(csv, 2)) == 5
    frame(5).set_index("id").to_parquet(tmp_path / "named.parquet")
    frame(5).set_index("x").reset_index(drop=True).to_parquet(tmp_path / "range.parquet")
    frame(5).iloc[::-1].to_parquet(tmp_path / "unnamed.parquet")
    names = [
        streaming.columns_of(streaming.locate(str(tmp_path / name)))[str(tmp_path / name)]
        for name in ("named.parquet", "range.parquet", "unnamed.parquet")
    ]
    assert names == [["x", "id"], ["id"], ["id", "x"]]


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ({}, "no such file"),
        ({"a.parquet": b"PAR1 not really"}, "cannot parse"),
        ({"a.csv": b"x\n1\n", "b.parquet": None}, "mixes parquet and CSV"),
        ({"a.csv": b""}, "empty"),
    ],
)
def test_unreadable_sources_are_bad_input(tmp_path: Path, files: dict, message: str):
    for name, body in files.items():
        if body is None:
            frame(3).to_parquet(tmp_path / name)
        else:
            (tmp_path / name).write_bytes(body)
    with pytest.raises(BadInput, match=message):
        source = streaming.locate(str(tmp_path))
        list(streaming.batches(source, 10))


def test_a_written_table_appears_only_when_moved_into_place(tmp_path: Path):
    staged, final = tmp_path / ".out.partial", tmp_path / "out" / "p.parquet"
    writer = streaming.TableWriter(str(staged))
    import pyarrow as pa

    for start in (0, 3):
        writer.write(pa.table({"a": list(range(start, start + 3))}))
    writer.close()
    assert not final.exists()
    streaming.move(str(staged), str(final))
    assert pd.read_parquet(final)["a"].tolist() == [0, 1, 2, 3, 4, 5]


def test_a_folder_reads_as_one_table(tmp_path: Path):
    frame(3).to_csv(tmp_path / "a.csv", index=False)
    frame(2, start=3).to_csv(tmp_path / "b.csv", index=False)
    assert streaming.read_all(str(tmp_path))["id"].tolist() == [0, 1, 2, 3, 4]


def test_a_gap_in_a_csv_text_column_reads_as_a_gap_as_pandas_reads_it(tmp_path: Path):
    path = tmp_path / "gaps.csv"
    path.write_text("sex,size\nmale,1.0\n,2.0\nNA,\nfemale,NA\n")
    (batch,) = streaming.batches(streaming.locate(str(path)), rows=10)
    streamed = batch.table.to_pandas()
    assert streamed.isna().equals(pd.read_csv(path).isna())
