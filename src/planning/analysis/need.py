"""Where need is: a transparent need index, deprivation bands and counts of children in need.

Every indicator is a column of the areas frame (or derived from them here); the index is a
weighted mean of normalised indicators with the weights stated in the standards file.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np
import pandas as pd

from planning._errors import ValidationError
from planning._validate import Problems, check_counts, require_columns
from planning.standards import NEED_INDICATORS, NEED_NORMALISERS, Standards

#: National deprivation bands by IMD decile (decile 1 = most deprived 10% of LSOAs in England).
BAND_LABELS = ("0-30%", "30-50%", "50-70%", "70-100%")
_BAND_OF_DECILE = {1: 0, 2: 0, 3: 0, 4: 1, 5: 1, 6: 2, 7: 2, 8: 3, 9: 3, 10: 3}


def idaci_rate(areas: pd.DataFrame) -> pd.Series:
    """Share of children 0-15 in income-deprived families: ``min(1, idaci_children /
    children_0_15)`` (the IDACI numerator over the mid-2020 child population; 0 where an area
    has no children). The published IDACI score is not available for all England, so it is
    rebuilt from the counts."""
    children = areas["children_0_15"].astype(float)
    rate = areas["idaci_children"] / children.where(children > 0)
    return rate.clip(upper=1.0).fillna(0.0).rename("idaci_rate")


def under5_income_deprived(areas: pd.DataFrame) -> pd.Series:
    """Estimated under-5s living in income-deprived families.

    ``under5 * idaci_rate``: the IDACI rate of the area (:func:`idaci_rate`) applied to its
    under-5s, assuming under-5s share the rate of all children in the area.
    """
    return (areas["under5"] * idaci_rate(areas)).rename("under5_income_deprived")


def _column(name: str) -> Callable[[pd.DataFrame], pd.Series]:
    return lambda areas: areas[name].astype(float)


#: Indicators the need index can use: name -> function of the areas frame. Higher = more need.
#: The names (and what each means) are the standards' vocabulary,
#: :data:`planning.standards.NEED_INDICATORS`; this maps each to how it is computed.
INDICATORS: dict[str, Callable[[pd.DataFrame], pd.Series]] = {
    name: under5_income_deprived if name == "under5_income_deprived" else _column(name)
    for name in NEED_INDICATORS
}


def _rank(values: pd.Series) -> pd.Series:
    # Percentile rank in [0, 1]: ties share their mean rank; a constant column maps to 0.5.
    if values.nunique() <= 1:
        return pd.Series(0.5, index=values.index)
    return (values.rank(method="average") - 1) / (len(values) - 1)


def _minmax(values: pd.Series) -> pd.Series:
    span = values.max() - values.min()
    if span == 0:
        return pd.Series(0.5, index=values.index)
    return (values - values.min()) / span


def _zscore(values: pd.Series) -> pd.Series:
    # Standardised, then squashed to [0, 1] with the normal CDF so weights stay comparable.
    from scipy.stats import norm

    std = values.std(ddof=0)
    if std == 0:
        return pd.Series(0.5, index=values.index)
    return pd.Series(norm.cdf((values - values.mean()) / std), index=values.index)


_NORMALISER_FUNCTIONS = {"rank": _rank, "minmax": _minmax, "zscore": _zscore}
#: Normalisers that put indicators on a common 0-1 scale (names: the standards' vocabulary,
#: :data:`planning.standards.NEED_NORMALISERS`).
NORMALISERS: dict[str, Callable[[pd.Series], pd.Series]] = {
    name: _NORMALISER_FUNCTIONS[name] for name in NEED_NORMALISERS
}


def need_index(
    areas: pd.DataFrame,
    *,
    weights: Mapping[str, float] | None = None,
    normaliser: str = "rank",
) -> pd.Series:
    """Need index from 0 (least need among the areas given) to 100 (most).

    ``need_index = 100 * sum_k w_k * norm(x_k) / sum_k w_k`` where ``x_k`` are the indicators in
    :data:`INDICATORS` and ``norm`` one of :data:`NORMALISERS`, applied across the areas given,
    so the index ranks areas *within* the authority assessed.

    Parameters
    ----------
    areas : DataFrame
        Small areas with the columns the chosen indicators need.
    weights : mapping of indicator name to weight, optional
        Defaults to the packaged standards: under-5s in income-deprived families 0.5, IMD score
        0.3, all under-5s 0.2.
    normaliser : {'rank', 'minmax', 'zscore'}

    Examples
    --------
    >>> from planning import toy_town
    >>> town = toy_town(rows=1, columns=3, under5=[10, 20, 30], imd_decile=[9, 5, 1])
    >>> need_index(town, weights={"under5": 1.0}).tolist()
    [0.0, 50.0, 100.0]
    """
    if weights is None:
        weights = Standards().need_weights
    if normaliser not in NORMALISERS:
        raise ValidationError(f"unknown normaliser '{normaliser}'; valid: {', '.join(NORMALISERS)}")
    unknown = [name for name in weights if name not in INDICATORS]
    if unknown:
        raise ValidationError(
            f"unknown need indicator(s) {', '.join(unknown)}; valid: {', '.join(INDICATORS)}"
        )
    total = float(sum(weights.values()))
    if total <= 0:
        raise ValidationError("need index weights must not all be zero")
    score = pd.Series(0.0, index=areas.index)
    for name, weight in weights.items():
        if weight:
            score += weight * NORMALISERS[normaliser](INDICATORS[name](areas).astype(float))
    return (100.0 * score / total).rename("need_index")


def deprivation_band(imd_decile: pd.Series) -> pd.Series:
    """National deprivation band of each area: 0-30%, 30-50%, 50-70% or 70-100% most deprived.

    From the IMD decile (1 = most deprived 10% nationally): deciles 1-3 -> '0-30%', 4-5 ->
    '30-50%', 6-7 -> '50-70%', 8-10 -> '70-100%'. Returned as an ordered categorical.
    """
    codes = imd_decile.astype(int).map(_BAND_OF_DECILE)
    if codes.isna().any():
        bad = imd_decile[codes.isna()]
        raise ValidationError(
            f"IMD decile must be 1-10; found {bad.iloc[0]!r} for area {bad.index[0]}"
        )
    return pd.Series(
        pd.Categorical.from_codes(codes.to_numpy(), categories=list(BAND_LABELS), ordered=True),
        index=imd_decile.index,
        name="deprivation_band",
    )


NEED_COLUMNS = ("under5", "children_0_15", "idaci_children", "imd_decile", "imd_score")


def validate_need_inputs(areas: pd.DataFrame, source: str = "areas") -> None:
    """Check that the areas frame has the counts and ranks need measures use."""
    problems = Problems(source)
    require_columns(areas, NEED_COLUMNS, problems)
    check_counts(areas, ["under5", "children_0_15", "idaci_children"], problems)
    problems.raise_if_any()


def assess_need(
    areas: pd.DataFrame,
    *,
    weights: Mapping[str, float] | None = None,
    normaliser: str = "rank",
    most_deprived_deciles: tuple[int, ...] = (1, 2, 3),
    high_need_share: float = 0.2,
) -> pd.DataFrame:
    """Need measures for each area, aligned to ``areas.index``.

    Returns
    -------
    DataFrame
        ``need_index`` (0-100), ``deprivation_band``, ``most_deprived_30`` (IMD decile in
        ``most_deprived_deciles``), ``under5_income_deprived`` (count) and ``high_need`` (the
        ``high_need_share`` of areas with the highest need index: the hot spots).
    """
    validate_need_inputs(areas)
    index = need_index(areas, weights=weights, normaliser=normaliser)
    cut = index.quantile(1 - high_need_share) if len(index) else np.nan
    return pd.DataFrame(
        {
            "need_index": index,
            "deprivation_band": deprivation_band(areas["imd_decile"]),
            "most_deprived_30": areas["imd_decile"].astype(int).isin(most_deprived_deciles),
            "under5_income_deprived": under5_income_deprived(areas),
            "high_need": index >= cut,
        },
        index=areas.index,
    )
