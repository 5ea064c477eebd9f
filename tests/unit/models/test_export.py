"""Example exports: JSONL and Parquet written and read back the same, and files that
are not exports refused with what is wrong."""

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from models.export import read_examples, write_examples
from models.features import FEATURE_NAMES
from models.train import Example


def examples() -> list[Example]:
    return [
        Example(1_700_000_000.0 + n, [float(n + k) / 4 for k in range(len(FEATURE_NAMES))], n % 2)
        for n in range(5)
    ]


@pytest.mark.parametrize("name", ["history.jsonl", "history.parquet"])
def test_an_export_reads_back_as_written(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    write_examples(path, examples())
    assert read_examples(path) == examples()


def test_parquet_has_a_column_per_feature(tmp_path: Path) -> None:
    path = tmp_path / "history.parquet"
    write_examples(path, examples())
    table = pq.read_table(path)
    assert table.column_names == ["at", "label", "tenant", "incident", *FEATURE_NAMES]
    assert table.num_rows == 5


def test_parquet_without_a_feature_column_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "partial.parquet"
    pq.write_table(pa.table({"at": [1.0], "label": [1]}), path)
    with pytest.raises(ValueError, match=r"missing columns .*severity_rank"):
        read_examples(path)


def test_a_file_that_is_not_parquet_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "history.parquet"
    path.write_text('{"at": 1}\n')
    with pytest.raises(ValueError, match="not a Parquet file"):
        read_examples(path)


def test_a_label_that_is_not_0_or_1_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "bad.parquet"
    columns = {"at": [1.0], "label": [2], **{name: [0.0] for name in FEATURE_NAMES}}
    pq.write_table(pa.table(columns), path)
    with pytest.raises(ValueError, match="row 1: label must be 0 or 1"):
        read_examples(path)
