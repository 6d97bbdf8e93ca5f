"""Counts and shares of a sufficiency assessment: the array core that groups of areas add up.

One row of counts per small area (:data:`COUNT_COLUMNS`, built by :func:`count_matrix`), summed
over any grouping (:func:`group_sums`) before shares are taken (:func:`share_columns`,
:func:`shares_frame`), so counts and rates are never mixed; :func:`summarise` does the same from a
per-area table. Used by :func:`planning.analysis.sufficiency.assess_sufficiency`, the scenario
engine and the verdicts (:mod:`planning.analysis.sufficiency_verdicts`);
:mod:`planning.analysis.sufficiency` re-exports these names.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = [
    "COUNT_COLUMNS",
    "count_matrix",
    "group_sums",
    "share_columns",
    "shares_frame",
    "summarise",
]


#: Columns of the count matrix, one row per area; groups sum these before shares are taken.
COUNT_COLUMNS = (
    "under5",
    "idaci_children",
    "under5_income_deprived",
    "under5_within_reach",
    "under5_within_short",
    "under5_within_walk",
    "deprived_under5",
    "deprived_under5_within_reach",
    "other_under5",
    "other_under5_within_reach",
    "idaci_children_within_reach",
    "under5_distance_m",
    "areas",
    "idaci_estimated_areas",
)


def count_matrix(
    *,
    under5: np.ndarray,
    idaci_children: np.ndarray,
    under5_income_deprived: np.ndarray,
    deprived: np.ndarray,
    idaci_estimated: np.ndarray,
    distance_m: np.ndarray,
    within_reach: np.ndarray,
    within_short: np.ndarray,
    within_walk: np.ndarray,
) -> np.ndarray:
    """``(n_areas, len(COUNT_COLUMNS))`` matrix of counts that groups of areas add up."""
    u5 = under5.astype(float)
    reach = within_reach.astype(bool)
    deprived = deprived.astype(bool)
    return np.column_stack(
        [
            u5,
            idaci_children,
            under5_income_deprived,
            u5 * reach,
            u5 * within_short,
            u5 * within_walk,
            u5 * deprived,
            u5 * (deprived & reach),
            u5 * ~deprived,
            u5 * (~deprived & reach),
            idaci_children * reach,
            u5 * distance_m,
            np.ones(len(u5)),
            idaci_estimated.astype(float),
        ]
    ).astype(float)


def group_sums(matrix: np.ndarray, codes: np.ndarray, n_groups: int) -> np.ndarray:
    """Sum the rows of ``matrix`` by integer group code (``0 .. n_groups-1``)."""
    codes = np.asarray(codes)
    if len(codes) and codes.min() < 0:
        # A negative code counts from the end, as numpy indexing does (np.add.at's rule).
        codes = np.where(codes < 0, codes + n_groups, codes)
    # One bincount per column: the same sums, in the same order, as np.add.at, a tenth the time.
    sums = np.empty((n_groups, matrix.shape[1]))
    for column in range(matrix.shape[1]):
        sums[:, column] = np.bincount(codes, weights=matrix[:, column], minlength=n_groups)
    return sums


def share_columns(sums: np.ndarray) -> dict[str, np.ndarray]:
    """The columns of :func:`shares_frame` as arrays (counts, then shares), without a frame:
    for callers that build one frame from several parts, or none (the scenario engine)."""
    col = {name: sums[:, i] for i, name in enumerate(COUNT_COLUMNS)}

    def ratio(numerator: str, denominator: str) -> np.ndarray:
        d = col[denominator]
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(d > 0, col[numerator] / np.where(d > 0, d, 1), np.nan)

    data = {name: values for name, values in col.items() if name != "under5_distance_m"}
    data["share_within_reach"] = ratio("under5_within_reach", "under5")
    data["share_within_short"] = ratio("under5_within_short", "under5")
    data["share_within_walk"] = ratio("under5_within_walk", "under5")
    data["share_deprived_within_reach"] = ratio("deprived_under5_within_reach", "deprived_under5")
    data["share_other_within_reach"] = ratio("other_under5_within_reach", "other_under5")
    data["share_idaci_within_reach"] = ratio("idaci_children_within_reach", "idaci_children")
    data["mean_distance_m"] = ratio("under5_distance_m", "under5")
    return data


def shares_frame(sums: np.ndarray, index: pd.Index) -> pd.DataFrame:
    """Counts and the shares taken from them, one row per group.

    ``share_within_reach = sum(under5 * within_reach) / sum(under5)``; likewise for the 1-mile and
    walking standards, for the 30% most deprived areas (``share_deprived_within_reach``), the rest
    (``share_other_within_reach``) and IDACI children. ``mean_distance_m`` is under-5-weighted.
    Shares are NaN where the denominator is zero.
    """
    return pd.DataFrame(share_columns(sums), index=index)


def _frame_counts(frame: pd.DataFrame) -> np.ndarray:
    estimated = frame["idaci_estimated"] if "idaci_estimated" in frame else np.zeros(len(frame))
    return count_matrix(
        under5=frame["under5"].to_numpy(float),
        idaci_children=frame["idaci_children"].to_numpy(float),
        under5_income_deprived=frame["under5_income_deprived"].to_numpy(float),
        deprived=frame["most_deprived_30"].to_numpy(bool),
        idaci_estimated=np.asarray(estimated, dtype=bool),
        distance_m=frame["distance_m"].to_numpy(float),
        within_reach=frame["within_reach"].to_numpy(bool),
        within_short=frame["within_short"].to_numpy(bool),
        within_walk=frame["within_walk"].to_numpy(bool),
    )


def summarise(frame: pd.DataFrame, by: str | None = None) -> pd.DataFrame:
    """Sum counts over groups of areas, then take shares (counts and rates never mixed).

    ``frame`` is a per-area table as in
    :attr:`planning.analysis.sufficiency.SufficiencyResult.areas`; ``by`` a column to
    group on (``None``: one row for all areas). See :func:`shares_frame` for the shares.
    """
    matrix = _frame_counts(frame)
    if by is None:
        return shares_frame(matrix.sum(axis=0, keepdims=True), pd.RangeIndex(1))
    codes, labels = pd.factorize(frame[by], sort=True)
    keep = codes >= 0
    sums = group_sums(matrix[keep], codes[keep], len(labels))
    return shares_frame(sums, pd.Index(labels, name=by))
