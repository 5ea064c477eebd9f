"""Training examples as files: JSONL, or Parquet with one column per feature.

``vigil simulate --out`` writes them and ``vigil train --from`` reads them; the suffix
chooses the format (``.parquet``, else JSONL).

* JSONL: one ``{"at": <unix seconds>, "features": [...], "label": 0|1}`` per line,
  features in ``features.FEATURE_NAMES`` order, with ``"tenant"`` and ``"incident"``
  where known (evaluation keeps an incident's examples on one side of a split);
* Parquet: columns ``at`` (float64), ``label`` (int8), ``tenant`` and ``incident``
  (strings, optional when read) and one float32 column per
  feature, named as in ``FEATURE_NAMES`` (other columns are ignored), for analysts
  who look at the history with pandas, DuckDB or Spark. Needs ``pyarrow``
  (``pip install 'vigil[parquet]'``).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from models.features import FEATURE_NAMES
from models.train import Example


def is_parquet(path: Path) -> bool:
    return path.suffix.lower() in (".parquet", ".pq")


def read_examples(path: Path) -> list[Example]:
    """Examples from an export; ``ValueError`` says what is wrong and where."""
    return read_parquet(path) if is_parquet(path) else read_jsonl(path)


def write_examples(path: Path, examples: Sequence[Example]) -> None:
    """Write examples in the format the suffix names."""
    if is_parquet(path):
        write_parquet(path, examples)
    else:
        write_jsonl(path, examples)


def write_jsonl(path: Path, examples: Sequence[Example]) -> None:
    """Write examples in the export format ``read_jsonl`` reads."""
    with path.open("w") as out:
        for e in examples:
            row: dict[str, Any] = {"at": e.at, "features": e.features, "label": e.label}
            if e.incident_id:
                row |= {"tenant": e.tenant, "incident": e.incident_id}
            out.write(json.dumps(row) + "\n")


def read_jsonl(path: Path) -> list[Example]:
    """Examples from a JSONL export: ``{"at": ..., "features": [...], "label": 0|1}``."""
    examples = []
    for n, line in enumerate(path.read_text().splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            examples.append(
                Example(
                    float(row["at"]),
                    list(row["features"]),
                    int(row["label"]),
                    str(row.get("tenant", "")),
                    str(row.get("incident", "")),
                )
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"{path}:{n}: not an example: {exc}") from None
        if len(examples[-1].features) != len(FEATURE_NAMES):
            raise ValueError(f"{path}:{n}: {len(FEATURE_NAMES)} features expected")
    return examples


def _pyarrow() -> Any:
    try:
        import pyarrow
        import pyarrow.parquet
    except ImportError:
        raise ValueError("Parquet needs pyarrow: pip install 'vigil[parquet]'") from None
    return pyarrow


def write_parquet(path: Path, examples: Sequence[Example]) -> None:
    """Write examples as a Parquet table (see the module's docstring)."""
    pa = _pyarrow()
    columns: dict[str, Any] = {
        "at": pa.array([e.at for e in examples], type=pa.float64()),
        "label": pa.array([e.label for e in examples], type=pa.int8()),
        "tenant": pa.array([e.tenant for e in examples], type=pa.string()),
        "incident": pa.array([e.incident_id for e in examples], type=pa.string()),
    }
    for n, name in enumerate(FEATURE_NAMES):
        columns[name] = pa.array([e.features[n] for e in examples], type=pa.float32())
    pa.parquet.write_table(pa.table(columns), path)


def read_parquet(path: Path) -> list[Example]:
    """Examples from a Parquet table with ``at``, ``label`` and every feature column."""
    pa = _pyarrow()
    try:
        table = pa.parquet.read_table(path)
    except (OSError, pa.ArrowException) as exc:
        raise ValueError(f"{path}: not a Parquet file: {exc}") from None
    missing = [c for c in ("at", "label", *FEATURE_NAMES) if c not in table.column_names]
    if missing:
        raise ValueError(f"{path}: missing columns {', '.join(missing)}")
    ids = [c for c in ("tenant", "incident") if c in table.column_names]  # optional
    data = table.select(["at", "label", *ids, *FEATURE_NAMES]).to_pydict()
    examples = []
    for n in range(table.num_rows):
        label, at = data["label"][n], data["at"][n]
        if label not in (0, 1) or at is None:
            raise ValueError(f"{path}: row {n + 1}: label must be 0 or 1 and at a time")
        features = [data[name][n] for name in FEATURE_NAMES]
        if any(v is None for v in features):
            raise ValueError(f"{path}: row {n + 1}: a feature is missing")
        tenant = data["tenant"][n] if "tenant" in data else ""
        incident = data["incident"][n] if "incident" in data else ""
        values = [float(v) for v in features]
        examples.append(Example(float(at), values, int(label), tenant or "", incident or ""))
    return examples
