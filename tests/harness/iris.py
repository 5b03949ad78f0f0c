"""Iris request rows with the species every trained iris model here predicts for them.

One real flower of each species from the iris data set, far from the class boundaries, so every
model that passes the default promotion threshold (0.9) gets them right.
"""

from __future__ import annotations

FEATURES = ("sepal_length_cm", "sepal_width_cm", "petal_length_cm", "petal_width_cm")
_FLOWERS = [
    ((5.1, 3.5, 1.4, 0.2), "setosa"),
    ((7.0, 3.2, 4.7, 1.4), "versicolor"),
    ((6.3, 3.3, 6.0, 2.5), "virginica"),
]
# The body of a /predict request: {"records": ROWS}.
ROWS: list[dict[str, float]] = [dict(zip(FEATURES, row, strict=True)) for row, _ in _FLOWERS]
SPECIES: list[str] = [species for _, species in _FLOWERS]
