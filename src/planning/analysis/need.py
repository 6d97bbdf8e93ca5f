"""Where need is: a transparent need index, deprivation bands and counts of children in need.

Every indicator is a column of the areas frame (or derived from them here); the index is a
weighted mean of normalised indicators with the weights stated in the standards file.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np
import pandas as pd

from planning._errors import ValidationError
from planning._format import count
from planning._validate import Problems, check_counts, require_columns, rows_label
from planning.standards import NEED_INDICATORS, NEED_NORMALISERS, Standards

#: National deprivation bands by IMD decile (decile 1 = most deprived 10% of LSOAs in England).
BAND_LABELS = ("0-30%", "30-50%", "50-70%", "70-100%")
_BAND_OF_DECILE = {1: 0, 2: 0, 3: 0, 4: 1, 5: 1, 6: 2, 7: 2, 8: 3, 9: 3, 10: 3}


#: How the two income-deprivation counts are labelled everywhere: the IDACI numerator counts
#: children aged 0-15, so it is not a subset of the under-5s and is never headlined beside them.
IDACI_CHILDREN_LABEL = "children aged 0-15 in income-deprived families (IDACI)"
IDACI_CHILDREN_HEADING = "Children aged 0-15 in income-deprived families (IDACI)"
UNDER5_INCOME_DEPRIVED_LABEL = "estimated under-5s in income-deprived families"

#: The official IDACI rate where the embedded data ship it (IoD2025 File 5: Derby and Thurrock).
OFFICIAL_RATE_COLUMN = "idaci_score"
#: How far the 0-15 denominator is scaled either way to bound its vintage mismatch.
DENOMINATOR_CHANGE = 0.10


def _rebuilt_rate(areas: pd.DataFrame, denominator_scale: float = 1.0) -> pd.Series:
    # The IDACI numerator over the mid-2020 child population (scaled), capped at 1; 0 where an
    # area has no children.
    children = areas["children_0_15"].astype(float) * denominator_scale
    rate = areas["idaci_children"] / children.where(children > 0)
    return rate.clip(upper=1.0).fillna(0.0)


def official_rate(areas: pd.DataFrame) -> pd.Series:
    """True where the area's official IDACI score (``idaci_score``) is given and used."""
    if OFFICIAL_RATE_COLUMN not in areas:
        return pd.Series(False, index=areas.index, name="idaci_official")
    return areas[OFFICIAL_RATE_COLUMN].notna().rename("idaci_official")


def idaci_rate(areas: pd.DataFrame, *, denominator_scale: float = 1.0) -> pd.Series:
    """Share of children 0-15 in income-deprived families.

    Where the official IoD2025 IDACI score is shipped (column ``idaci_score``, Derby and
    Thurrock; ``planning/data/README.md``) it is used as published. Elsewhere the rate is rebuilt
    as ``min(1, idaci_children / (denominator_scale * children_0_15))``: the IoD2025 numerator
    over the ONS mid-2020 child population, a different vintage from the Indices' own base
    (0 where an area has no children). ``denominator_scale`` (e.g. 0.9 or 1.1) only moves the
    rebuilt rates; it is how :func:`under5_income_deprived_interval` bounds the mismatch.

    Examples
    --------
    >>> import pandas as pd
    >>> areas = pd.DataFrame({"idaci_children": [20, 30], "children_0_15": [100, 100],
    ...                       "idaci_score": [0.25, None]})
    >>> idaci_rate(areas).tolist()
    [0.25, 0.3]
    """
    rate = _rebuilt_rate(areas, denominator_scale)
    official = official_rate(areas)
    if official.any():
        rate = rate.where(~official, areas[OFFICIAL_RATE_COLUMN].astype(float))
    return rate.rename("idaci_rate")


def under5_income_deprived(areas: pd.DataFrame, *, denominator_scale: float = 1.0) -> pd.Series:
    """Estimated under-5s living in income-deprived families.

    ``under5 * idaci_rate``: the IDACI rate of the area (:func:`idaci_rate`: the official score
    where shipped, else rebuilt) applied to its under-5s, assuming under-5s share the rate of all
    children in the area.
    """
    rate = idaci_rate(areas, denominator_scale=denominator_scale)
    return (areas["under5"] * rate).rename("under5_income_deprived")


def under5_income_deprived_interval(
    areas: pd.DataFrame, *, change: float = DENOMINATOR_CHANGE
) -> tuple[float, float, float]:
    """Total estimated under-5s in income-deprived families, and how far it moves when the 0-15
    denominator of the rebuilt rates is scaled by ``1 +/- change``.

    A larger denominator gives a lower rate, so ``low = sum(under5 * min(1, idaci_children /
    ((1 + change) * children_0_15)))`` and ``high`` the same with ``1 - change``. Areas with the
    official IDACI score do not move. Returns ``(low, estimate, high)``.

    Examples
    --------
    >>> import pandas as pd
    >>> areas = pd.DataFrame({"under5": [100, 100], "idaci_children": [33, 27],
    ...                       "children_0_15": [300, 300]})
    >>> [round(v, 6) for v in under5_income_deprived_interval(areas)]
    [18.181818, 20.0, 22.222222]
    """
    if not 0 <= change < 1:
        raise ValidationError(f"denominator change must be in [0, 1), not {change!r}")
    low = float(under5_income_deprived(areas, denominator_scale=1 + change).sum())
    estimate = float(under5_income_deprived(areas).sum())
    high = float(under5_income_deprived(areas, denominator_scale=1 - change).sum())
    return low, estimate, high


def income_deprived_note(areas: pd.DataFrame, *, change: float = DENOMINATOR_CHANGE) -> str:
    """Which IDACI rate the estimated under-5s in income-deprived families rest on, and (for
    rebuilt rates) the bound from :func:`under5_income_deprived_interval`; every output that
    uses the estimate carries it."""

    official = official_rate(areas)
    n, n_official = len(areas), int(official.sum())
    if n and n_official == n:
        return (
            f"Estimated under-5s in income-deprived families use the official IoD2025 IDACI "
            f"score (rate) of all {n} small areas: under-5s x IDACI rate."
        )
    low, estimate, high = under5_income_deprived_interval(areas, change=change)
    official_part = (
        f" The official IoD2025 IDACI score is used for {n_official} of the {n} areas."
        if n_official
        else ""
    )
    return (
        f"Estimated under-5s in income-deprived families ({count(estimate)}) use an IDACI rate "
        f"rebuilt as the IoD2025 numerator over ONS mid-2020 children 0-15, a different "
        f"vintage from the Indices' own population base.{official_part} Scaling that 0-15 "
        f"denominator by +/-{change:.0%} moves the estimate to {count(low)}-{count(high)}."
    )


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
#: Rates and ranks that must be given for every area (a NaN would silently rank or band it).
_RATE_COLUMNS = ("imd_decile", "imd_score")


def validate_need_inputs(
    areas: pd.DataFrame,
    source: str = "areas",
    *,
    weights: Mapping[str, float] | None = None,
) -> None:
    """Check that the areas frame has the counts and ranks need measures use.

    Every problem is reported at once, naming the column, the area codes and the fix: counts
    must be whole, finite and non-negative; IMD deciles and scores (and any indicator the need
    index weights) must be given for every area, deciles 1-10.
    """
    problems = Problems(source)
    require_columns(areas, NEED_COLUMNS, problems)
    check_counts(areas, ["under5", "children_0_15", "idaci_children"], problems)
    weighted = [name for name, weight in (weights or {}).items() if weight]
    rates = [*_RATE_COLUMNS, *(n for n in weighted if n in areas and n not in NEED_COLUMNS)]
    for column in rates:
        if column not in areas:
            continue
        values = pd.to_numeric(areas[column], errors="coerce")
        missing = values.isna()
        if missing.any():
            what = "national IMD decile (1-10)" if column == "imd_decile" else "value"
            problems.add(
                f"column '{column}' is empty or not a number for area(s) "
                f"{rows_label(areas.index[missing])}; every area needs its {what}: fill it from "
                "the English Indices of Deprivation for that LSOA, or leave the area out"
            )
        elif column == "imd_decile":
            bad = ~values.isin(range(1, 11))
            if bad.any():
                problems.add(
                    f"column 'imd_decile' must be a whole number 1-10; found "
                    f"{values[bad].iloc[0]!r} for area(s) {rows_label(areas.index[bad])}"
                )
    problems.raise_if_any()


def rural_flags(areas: pd.DataFrame) -> np.ndarray:
    """Each area's ``rural`` flag as booleans; an empty (NaN) flag counts as not rural (the
    stricter urban reach standard applies) and :func:`rural_note` says how many."""
    if "rural" not in areas:
        return np.zeros(len(areas), dtype=bool)
    return areas["rural"].astype("boolean").fillna(False).to_numpy(dtype=bool)


def rural_note(areas: pd.DataFrame) -> str | None:
    """A note when some areas have no rural-urban flag (treated as not rural), else ``None``."""
    if "rural" not in areas:
        return None
    n = int(areas["rural"].isna().sum())
    if not n:
        return None
    return (
        f"{n} small area(s) have no rural-urban flag ('rural' is empty: "
        f"{rows_label(areas.index[areas['rural'].isna()])}); they are treated as not rural, so "
        "the (stricter) urban reach standard applies to them."
    )


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
    validate_need_inputs(areas, weights=weights)
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
