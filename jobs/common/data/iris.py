"""scikit-learn's bundled iris (no download), with column names a JSON client can type.

The source name ``iris`` means this table in every job that reads a table.
"""

from __future__ import annotations

import pandas as pd

SOURCE = "iris"
TARGET = "species"


def features() -> pd.DataFrame:
    """The four measurements, e.g. ``sepal_length_cm``."""
    from sklearn.datasets import load_iris

    return _json_names(load_iris(as_frame=True).data)


def labelled() -> pd.DataFrame:
    """The measurements and the species name in column ``species``."""
    from sklearn.datasets import load_iris

    bunch = load_iris(as_frame=True)
    frame = _json_names(bunch.data)
    frame[TARGET] = pd.Categorical.from_codes(bunch.target, bunch.target_names).astype(str)
    return frame


def _json_names(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.rename(columns=lambda c: c.replace(" (cm)", "_cm").replace(" ", "_"))
