"""Does tonight's data look like the data the model was trained on? Per-feature drift.

Training records :func:`reference_statistics` of its training features on the model version;
batch inference feeds each batch of a partition to a :class:`DriftAccumulator` (memory bounded
whatever the partition's size) and asks it for a :class:`DriftReport` at the end.

Two statistics per feature:

- **PSI**, the population stability index (Siddiqi, *Credit Risk Scorecards*, Wiley 2006, ch. 8;
  its properties: Yurdakul, "Statistical properties of population stability index", Western
  Michigan University, 2018): with the training data cut into bins at its deciles, ``e_i`` the
  training share and ``a_i`` the partition's share of bin ``i``,
  ``PSI = sum_i (a_i - e_i) * ln(a_i / e_i)`` — the symmetrised Kullback-Leibler divergence
  (Jeffreys), computed here as ``rel_entr(a, e) + rel_entr(e, a)`` with ``scipy.special``. Shares
  are floored at ``EPSILON`` so an empty bin does not make it infinite. Rule of thumb: < 0.1 no
  shift, 0.1-0.25 moderate, > 0.25 major.
- **KS**, the Kolmogorov-Smirnov statistic ``D = sup_x |F_n(x) - F(x)|`` of the partition's values
  against the training distribution ``F`` (Massey, "The Kolmogorov-Smirnov test for goodness of
  fit", JASA 46(253), 1951), with its p-value, by ``scipy.stats.kstest``. ``F`` is the training
  data's quantile function recorded at ``QUANTILES`` points, interpolated linearly; ``F_n`` is a
  uniform sample of at most ``sample_size`` rows of the partition.

Categories (``categorical`` features) are compared by their shares: the ``MAX_LEVELS`` most
frequent training levels, one bucket for every other level (a category the model never saw
lands there) — PSI over those buckets, and Pearson's chi-square test of the partition's counts
against the training shares (``scipy.stats.chisquare``) in place of KS. Every feature also has a
bucket for its gaps, so a column that starts arriving empty drifts by its PSI.

A feature has drifted when its PSI reaches the threshold AND the KS (chi-square) test rejects
"same distribution" at ``ALPHA``: on a partition of a few dozen rows PSI alone is noise (its
expected value under no shift is about ``(bins - 1) * (1/n + 1/m)``), and on millions of rows
any KS test rejects, so each statistic guards the other's weak side.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from jobs.common.data.schema import Column, CountedCategories, category_text, model_values

BINS = 10
QUANTILES = 41  # every 2.5 %: enough for KS to within ~0.01, small enough for run metadata
MAX_DISCRETE_VALUES = 2 * QUANTILES  # fewer distinct values: the CDF is recorded exactly
EPSILON = 1e-4
ALPHA = 0.01
DEFAULT_THRESHOLD = 0.2
SAMPLE_SIZE = 10_000
MAX_LEVELS = 20
REFERENCE_ROWS = 200_000
"""Training rows (a uniform sample) the reference statistics are taken from: its deciles and
quantiles are within a fraction of a percent of the whole table's."""
METADATA_KEY = "reference_statistics"
log = logging.getLogger("handoff")


@dataclass(frozen=True)
class FeatureReference:
    """What drift needs to know about one training feature (JSON-able for run metadata)."""

    rows: int
    mean: float
    std: float
    edges: list[float]
    """Inner bin edges (the deciles, without duplicates); bins are open at both ends."""
    shares: list[float]
    """Share of the training rows in each of the ``len(edges) + 1`` bins."""
    cdf_x: list[float]
    cdf_p: list[float]
    """The training CDF at cdf_x: exact at each distinct value of a discrete feature (a step
    function), at QUANTILES evenly spaced probabilities otherwise (interpolated linearly)."""
    discrete: bool
    missing: float = 0.0
    """Share of gaps among the training rows (the shares above are of the values present)."""
    kind: str = "numeric"
    """numeric, boolean (read as 1/0, then as a number) or categorical."""
    levels: list[str] | None = None
    """categorical: the most frequent training levels; ``shares`` has one more, for the rest."""


@dataclass(frozen=True)
class FeatureDrift:
    psi: float
    ks: float | None
    p_value: float
    rows: int
    drifted: bool
    chi2: float | None = None
    """categorical: the chi-square statistic (ks is None)."""
    missing: float | None = None
    """The partition's share of gaps, where the training data or the partition had any."""


@dataclass(frozen=True)
class DriftReport:
    threshold: float
    features: dict[str, FeatureDrift] = field(default_factory=dict)

    @property
    def drifted(self) -> list[str]:
        return [name for name, found in self.features.items() if found.drifted]

    @classmethod
    def from_metadata(cls, recorded: Mapping[str, Any]) -> DriftReport:
        return cls(
            float(recorded["threshold"]),
            # ks is left out of a categorical feature's record (it has chi2 instead)
            {
                name: FeatureDrift(**{"ks": None, **found})
                for name, found in recorded["features"].items()
            },
        )

    def to_metadata(self) -> dict[str, Any]:
        return {
            "threshold": self.threshold,
            "alpha": ALPHA,
            "drifted": self.drifted,
            "features": {
                name: {k: v for k, v in asdict(found).items() if v is not None}
                for name, found in self.features.items()
            },
        }


def reference_statistics(
    features: pd.DataFrame, kinds: Mapping[str, str] | None = None
) -> dict[str, FeatureReference]:
    """Per feature of the training data: numbers (and booleans, as 1/0) by their deciles and
    CDF, categories by their shares (``kinds``: the recorded kinds; without them, the numeric
    columns only); datetimes, identifiers and text have no drift statistics."""
    found = {}
    for name in features.columns:
        kind = kinds.get(str(name)) if kinds is not None else "numeric"
        if kind == "categorical":
            found[str(name)] = _category_reference(features[name])
            continue
        if kind not in ("numeric", "boolean"):
            continue
        numbers = _numbers(features[name], kind if kinds is not None else None)
        if numbers is None:
            continue
        values = numbers[np.isfinite(numbers)]
        if values.size == 0:
            continue
        # Edges at data values (not interpolated): a discrete feature gets no empty bins.
        deciles = np.linspace(0, 1, BINS + 1)[1:-1]
        edges = np.unique(np.quantile(values, deciles, method="inverted_cdf"))
        distinct, counts = np.unique(values, return_counts=True)
        discrete = distinct.size <= MAX_DISCRETE_VALUES
        if discrete:
            cdf_x, cdf_p = distinct, np.cumsum(counts) / values.size
        else:
            cdf_p = np.linspace(0, 1, QUANTILES)
            cdf_x = np.quantile(values, cdf_p)
        found[str(name)] = FeatureReference(
            rows=int(numbers.size),
            mean=_round(values.mean()),
            std=_round(values.std()),
            edges=[_round(e) for e in edges],
            shares=[_round(s) for s in _counts(values, edges) / values.size],
            cdf_x=[_round(x) for x in cdf_x],
            cdf_p=[_round(p) for p in cdf_p],
            discrete=bool(discrete),
            missing=_round(1 - values.size / numbers.size),
            kind=kind if kinds is not None and kind else "numeric",
        )
    return found


def _category_reference(column: pd.Series) -> FeatureReference:
    text = category_text(column)
    present = text.dropna()
    counts = present.value_counts()
    levels = [str(level) for level in counts.index[:MAX_LEVELS]]
    kept = counts.iloc[:MAX_LEVELS].to_numpy(dtype=float)
    rest = float(counts.iloc[MAX_LEVELS:].sum())
    total = max(len(present), 1)
    return FeatureReference(
        rows=int(len(text)),
        mean=0.0,
        std=0.0,
        edges=[],
        shares=[_round(s) for s in np.append(kept, rest) / total],
        cdf_x=[],
        cdf_p=[],
        discrete=True,
        missing=_round(1 - len(present) / max(len(text), 1)),
        kind="categorical",
        levels=levels,
    )


def to_metadata(reference: Mapping[str, FeatureReference]) -> dict[str, Any]:
    return {name: asdict(ref) for name, ref in reference.items()}


def from_metadata(recorded: Mapping[str, Any]) -> dict[str, FeatureReference]:
    return {name: FeatureReference(**values) for name, values in recorded.items()}


class DriftAccumulator:
    """Drift of one partition, fed batch by batch: bin counts (exact) and a bounded sample.

    The sample keeps the rows with the smallest random keys seen so far, so it is a uniform
    sample of everything fed, whatever the batch sizes, and never holds more than
    ``sample_size`` values per feature. Once it is full, only the rows of a batch whose key
    beats the largest kept one are looked at (about ``sample_size * batch / rows seen``), so a
    batch costs a few passes over its columns however large the partition grows.
    """

    def __init__(
        self,
        reference: Mapping[str, FeatureReference],
        sample_size: int = SAMPLE_SIZE,
        seed: int = 0,
    ) -> None:
        self.reference = dict(reference)
        self.sample_size = sample_size
        self.rows = 0
        self._random = np.random.default_rng(seed)
        self._edges = {name: np.asarray(ref.edges, dtype=float) for name, ref in reference.items()}
        # One count per bin (or level, and "other"), and one for the gaps.
        self._counts = {name: np.zeros(len(ref.shares) + 1) for name, ref in self.reference.items()}
        self._keys = np.empty(0)
        self._sample = {name: np.empty(0) for name in self.reference}

    def update(self, batch: pd.DataFrame, categories: CountedCategories | None = None) -> None:
        """Add one batch; ``categories``: the batch's, if counted already (by the data
        contract), else they are counted here."""
        if missing := [name for name in self.reference if name not in batch.columns]:
            raise ValueError(f"the batch has no column {missing[0]!r} of the training data")
        if len(batch) == 0:
            return
        self.rows += len(batch)
        categories = categories if categories is not None else CountedCategories(batch)
        keys = self._random.random(len(batch))
        # The rows that may enter the sample: all until it is full, then those whose key is
        # below the largest kept key (the others could never be among the smallest).
        if self._keys.size >= self.sample_size:
            entering = np.flatnonzero(keys < self._keys.max())
        else:
            entering = np.arange(len(batch))
        merged = np.concatenate([self._keys, keys[entering]])
        keep = _smallest(merged, self.sample_size)
        self._keys = merged[keep]
        for name, ref in self.reference.items():
            if ref.kind == "categorical":
                self._counts[name] += categories[name].per_level(ref.levels or [])
                # No sample of categories (their test is on the counts): gaps keep it aligned.
                filler = np.full(entering.size, np.nan)
                self._sample[name] = np.concatenate([self._sample[name], filler])[keep]
                continue
            values = _numbers(batch[name], ref.kind)
            assert values is not None, "numbers read as numbers"
            present = np.isfinite(values)
            self._counts[name] += np.append(
                _counts(values[present], self._edges[name]), values.size - present.sum()
            )
            # Gaps are counted above; in the sample they stay NaN and the tests leave them out.
            sample = np.concatenate([self._sample[name], values[entering]])
            self._sample[name] = sample[keep]

    def state(self) -> dict[str, np.ndarray]:
        """Everything :meth:`merge` needs, as named arrays (``np.savez``): the row count, the
        bin counts and the sample with its keys, features by their position in the reference."""
        arrays = {"rows": np.array([self.rows]), "keys": self._keys}
        for i, name in enumerate(self.reference):
            arrays[f"counts_{i}"] = self._counts[name]
            arrays[f"sample_{i}"] = self._sample[name]
        return arrays

    def merge(self, state: Mapping[str, np.ndarray]) -> None:
        """Add what another accumulator over the same reference saw (its :meth:`state`): e.g.
        the shards of one partition. Bin counts add up exactly; the sample keeps the rows with
        the smallest keys of both, so it stays a uniform sample of all the rows as long as
        the two drew their keys independently (different seeds)."""
        if len(state) != 2 + 2 * len(self.reference):
            raise ValueError("the state is of an accumulator over a different reference")
        self.rows += int(state["rows"][0])
        merged = np.concatenate([self._keys, state["keys"]])
        keep = _smallest(merged, self.sample_size)
        self._keys = merged[keep]
        for i, name in enumerate(self.reference):
            self._counts[name] = self._counts[name] + state[f"counts_{i}"]
            self._sample[name] = np.concatenate([self._sample[name], state[f"sample_{i}"]])[keep]

    def report(self, threshold: float = DEFAULT_THRESHOLD) -> DriftReport:
        from scipy import special, stats

        features = {}
        for name, ref in self.reference.items():
            total = self._counts[name].sum()
            if total == 0:
                continue
            counts = self._counts[name]
            shares = np.append(np.asarray(ref.shares) * (1 - ref.missing), ref.missing)
            actual = np.clip(counts / total, EPSILON, None)
            expected = np.clip(shares, EPSILON, None)
            psi = float(
                np.sum(special.rel_entr(actual, expected) + special.rel_entr(expected, actual))
            )
            gaps = float(counts[-1] / total)
            statistic, chi2, p_value = None, None, 0.0
            sample = self._sample[name][np.isfinite(self._sample[name])]
            if ref.kind == "categorical":
                test = stats.chisquare(counts, f_exp=expected / expected.sum() * total)
                chi2, p_value = _round(float(test.statistic)), float(test.pvalue)
            elif sample.size:
                ks = (
                    # scipy's one-sample test assumes a continuous F; the two-sample test
                    # handles ties, and a discrete feature's training values are known exactly.
                    stats.ks_2samp(sample, _discrete_values(ref))
                    if ref.discrete
                    else stats.kstest(sample, _reference_cdf(ref))
                )
                statistic, p_value = _round(float(ks.statistic)), float(ks.pvalue)
            if ref.kind != "categorical":
                # The values' test cannot see a change in how many are missing: this one can.
                share = min(max(ref.missing, EPSILON), 1 - EPSILON)
                present = total - counts[-1]
                test = stats.chisquare(
                    [present, counts[-1]], f_exp=[total * (1 - share), total * share]
                )
                p_value = min(p_value, float(test.pvalue)) if sample.size else float(test.pvalue)
            features[name] = FeatureDrift(
                psi=_round(psi),
                ks=statistic,
                p_value=p_value,
                rows=int(total),
                drifted=bool(psi >= threshold and p_value < ALPHA),
                chi2=chi2,
                missing=_round(gaps) if gaps or ref.missing else None,
            )
        return DriftReport(threshold, features)


def enforce(report: DriftReport, mode: str, what: str) -> None:
    """Apply the configured ``mode`` to a partition's report: refuse, warn in one line, or not."""
    from jobs.common.runtime.errors import BadInput

    drifted = report.drifted
    if not drifted or mode == "off":
        return
    summary = ", ".join(f"{name} (PSI {report.features[name].psi:.2f})" for name in drifted)
    if mode == "fail":
        raise BadInput(
            f"{what}: drift in {summary} passes the threshold {report.threshold:g} "
            "(drift: fail); nothing was published"
        )
    log.warning(
        "%s: drift in %s passes the threshold %g; published anyway (drift: warn)",
        what,
        summary,
        report.threshold,
        extra={"drifted": drifted},
    )


def _smallest(keys: np.ndarray, count: int) -> np.ndarray:
    """The positions of the ``count`` smallest keys (all of them when there are fewer)."""
    return np.argpartition(keys, count - 1)[:count] if keys.size > count else np.arange(keys.size)


def _reference_cdf(ref: FeatureReference) -> Any:
    x, p = np.asarray(ref.cdf_x), np.asarray(ref.cdf_p)
    # Ties among the quantiles (a jump) would make np.interp pick one side; keep the top.
    unique, last = np.unique(x[::-1], return_index=True)
    return lambda v: np.interp(v, unique, p[::-1][last], left=0.0, right=1.0)


def _discrete_values(ref: FeatureReference, at_most: int = 100_000) -> np.ndarray:
    """The training values of a discrete feature, rebuilt from its CDF (scaled to at_most)."""
    shares = np.diff(np.concatenate([[0.0], ref.cdf_p]))
    counts = np.round(shares * min(ref.rows, at_most)).astype(int)
    return np.repeat(np.asarray(ref.cdf_x), counts)


def _counts(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Rows per bin: bin i holds edges[i-1] < x <= edges[i] (open-ended first and last bins).

    From one comparison pass per edge (at most ``BINS - 1``): a binary search per value
    (``np.searchsorted``) is about ten times slower on a batch of 100 k rows. NaN lands in the
    last bin either way."""
    at_or_below = [np.count_nonzero(values <= edge) for edge in edges]
    return np.diff(np.asarray([0, *at_or_below, values.size])).astype(float)


def _numbers(column: pd.Series, kind: str | None) -> np.ndarray | None:
    """A numeric or boolean column as float64, gaps as NaN (kind None: numeric dtypes only)."""
    if kind is None:
        if not pd.api.types.is_numeric_dtype(column) or pd.api.types.is_bool_dtype(column):
            return None
        return column.to_numpy(dtype=float, na_value=np.nan)
    values, _ = model_values(column, Column(kind="boolean" if kind == "boolean" else "numeric"))
    return np.asarray(values, dtype=float)


def _round(value: float) -> float:
    return float(f"{float(value):.6g}")


def picture(report: DriftReport, subtitle: str) -> str:
    """The drift of one partition as a self-contained HTML page (a ZenML visualization)."""
    from jobs.common.quality import pictures

    names = list(report.features)
    drifted = report.drifted
    summary = (
        f"drifted: {', '.join(drifted)}" if drifted else "no feature drifted"
    ) + f" (PSI >= {report.threshold:g} and KS or chi-square p-value < {ALPHA:g})"
    return pictures.page(
        "Feature drift",
        pictures.section(
            "Population stability index per feature",
            pictures.bars(
                [(name, report.features[name].psi) for name in names],
                limit=report.threshold,
                highlight=drifted,
            ),
            note=summary,
        ),
        pictures.section(
            "Per feature",
            pictures.table(
                ["feature", "PSI", "KS or χ² statistic", "p-value", "gaps", "rows", "drifted"],
                [
                    [
                        name,
                        f.psi,
                        f.ks if f.chi2 is None else f"χ² {f.chi2:.4g}",
                        f"{f.p_value:.3g}",
                        "" if f.missing is None else f"{f.missing:.1%}",
                        f.rows,
                        "yes" if f.drifted else "no",
                    ]
                    for name, f in report.features.items()
                ],
                classes=[
                    ["", "", "", "", "", "", "bad" if f.drifted else "good"]
                    for f in report.features.values()
                ],
            ),
        ),
        subtitle=subtitle,
    )
