"""How well area-based targeting finds families in need, and where to send outreach.

Two questions planners ask, answered from the small-area data alone (no registrations needed):

* **Gains** (:func:`gains_curve`, :func:`gains_table`, :func:`targeting_errors`): if we target
  the top k% of areas by some ranking (IMD, IDACI, the need index, a model's score), what share
  of the families in need live there, and how many in need are missed or not in need are included?
* **Outreach** (:func:`allocate_outreach`, :func:`compare_outreach`): given outreach hours (or
  workers), how should they be split between localities or centres, and how many families in
  need would each rule be expected to reach?

Definitions used throughout
---------------------------
*In need*: under-5s in income-deprived families, estimated per area as
``under5 * idaci_children / children_0_15`` (the IDACI rate applied to the under-5s; see
:func:`planning.analysis.need.under5_income_deprived`). For a targeted set of areas ``T`` of all areas
``A``:

* ``coverage = sum_T in_need / sum_A in_need`` (share of the in-need captured);
* ``exclusion_error = 1 - coverage`` (share of the in-need living outside the targeted areas);
* ``inclusion_error = 1 - sum_T in_need / sum_T under5`` (share of the under-5s in targeted areas
  who are not in need);
* ``under5_share = sum_T under5 / sum_A under5`` and ``idaci_share`` likewise for IDACI children
  (ages 0-15).

The targeting model (:class:`TargetingModel`) lives in :mod:`planning.analysis.targeting_model`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from planning._errors import ValidationError
from planning._validate import Problems, check_counts, require_columns
from planning.analysis.need import idaci_rate, under5_income_deprived

__all__ = [
    "ALLOCATION_RULES",
    "RANKINGS",
    "REACH_MODELS",
    "OutreachModel",
    "allocate_outreach",
    "compare_outreach",
    "gains_curve",
    "gains_table",
    "targeting_errors",
]


def _need_index(areas: pd.DataFrame) -> pd.Series:
    if "need_index" in areas:
        return areas["need_index"].astype(float)
    from planning.analysis.need import need_index

    return need_index(areas)


#: Rankings of areas (higher = targeted first): name -> function of the areas frame.
RANKINGS: dict[str, Callable[[pd.DataFrame], pd.Series]] = {
    "imd": lambda a: a["imd_score"].astype(float),
    "idaci": idaci_rate,
    "income": lambda a: a["income_score"].astype(float),
    "need_index": _need_index,
    "under5_income_deprived": under5_income_deprived,
}
#: Plain-English names of the rankings, for tables and reports.
RANKING_LABELS: dict[str, str] = {
    "imd": "IMD score",
    "idaci": "IDACI rate",
    "income": "income deprivation score",
    "need_index": "need index",
    "under5_income_deprived": "count of under-5s in income-deprived families",
}


def _check_areas(areas: pd.DataFrame, source: str = "areas") -> None:
    problems = Problems(source)
    require_columns(areas, ["under5", "idaci_children", "children_0_15"], problems)
    check_counts(areas, ["under5", "idaci_children", "children_0_15"], problems)
    problems.raise_if_any()
    if len(areas) == 0:
        raise ValidationError(f"{source}: is empty; it must hold at least one small area")


def _scores(areas: pd.DataFrame, ranking: str | pd.Series) -> tuple[pd.Series, str]:
    if isinstance(ranking, pd.Series):
        missing = areas.index.difference(ranking.index)
        if len(missing):
            raise ValidationError(
                f"the ranking has no score for {len(missing)} area(s) "
                f"({', '.join(map(str, missing[:3]))}); give one score per area, indexed by "
                "area code"
            )
        scores = ranking.reindex(areas.index).astype(float)
        if scores.isna().any():
            raise ValidationError("the ranking has blank scores; give every area a number")
        return scores, str(ranking.name or "score")
    if ranking not in RANKINGS:
        raise ValidationError(
            f"unknown ranking '{ranking}'; valid: {', '.join(RANKINGS)}, or a Series of scores"
        )
    return RANKINGS[ranking](areas).astype(float), ranking


def _counts(areas: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "under5": areas["under5"].astype(float),
            "idaci_children": areas["idaci_children"].astype(float),
            "in_need": under5_income_deprived(areas).astype(float),
        },
        index=areas.index,
    )


def gains_curve(areas: pd.DataFrame, ranking: str | pd.Series = "idaci") -> pd.DataFrame:
    """Cumulative gains of targeting the top k areas of a ranking, for k = 0 .. n.

    Areas are sorted by the ranking's score, highest first; ties keep the order of ``areas``
    (a stable sort), so the curve never depends on the outcome being measured.

    Parameters
    ----------
    areas : DataFrame
        Small areas with ``under5``, ``idaci_children``, ``children_0_15`` and whatever the
        ranking needs (``imd_score``, ``income_score``...).
    ranking : str or Series
        A name in :data:`RANKINGS` or one score per area (e.g. a model's).

    Returns
    -------
    DataFrame
        One row per k (0 .. n): ``areas_targeted``, ``share_of_areas``, ``last_area`` (the k-th
        area added), ``under5``, ``in_need`` and ``idaci_children`` targeted, ``under5_share``,
        ``idaci_share``, ``coverage``, ``exclusion_error``, ``inclusion_error``, ``in_need_missed``
        and ``idaci_missed`` (counts outside), ``in_need_total``, with the formulas in the module
        docstring.

    Examples
    --------
    >>> from planning import toy_town
    >>> town = toy_town(rows=1, columns=2, under5=[100, 300], imd_decile=[1, 9])
    >>> curve = gains_curve(town, "imd")
    >>> curve["under5_share"].tolist()
    [0.0, 0.25, 1.0]
    """
    _check_areas(areas)
    scores, _ = _scores(areas, ranking)
    order = np.argsort(-scores.to_numpy(), kind="stable")
    counts = _counts(areas).iloc[order]
    cumulative = counts.cumsum()
    zero = pd.DataFrame(0.0, index=[None], columns=counts.columns)
    cumulative = pd.concat([zero, cumulative])
    totals = counts.sum()
    n = len(counts)
    out = pd.DataFrame(
        {
            "areas_targeted": np.arange(n + 1),
            "share_of_areas": np.arange(n + 1) / n,
            "last_area": [None, *counts.index.tolist()],
            "under5": cumulative["under5"].to_numpy(),
            "in_need": cumulative["in_need"].to_numpy(),
            "idaci_children": cumulative["idaci_children"].to_numpy(),
        }
    )
    return _add_shares(out, totals)


def _add_shares(out: pd.DataFrame, totals: pd.Series) -> pd.DataFrame:
    def share(numerator: pd.Series, denominator: float) -> pd.Series:
        return numerator / denominator if denominator > 0 else numerator * np.nan

    out["under5_share"] = share(out["under5"], totals["under5"])
    out["idaci_share"] = share(out["idaci_children"], totals["idaci_children"])
    out["coverage"] = share(out["in_need"], totals["in_need"])
    out["exclusion_error"] = 1.0 - out["coverage"]
    with np.errstate(divide="ignore", invalid="ignore"):
        out["inclusion_error"] = 1.0 - out["in_need"] / out["under5"].where(out["under5"] > 0)
    out["in_need_missed"] = totals["in_need"] - out["in_need"]
    out["in_need_total"] = totals["in_need"]
    out["idaci_missed"] = totals["idaci_children"] - out["idaci_children"]
    return out


def targeting_errors(areas: pd.DataFrame, targeted: pd.Series) -> dict[str, float]:
    """Coverage, exclusion and inclusion errors of any targeted set of areas.

    Parameters
    ----------
    areas : DataFrame
        As for :func:`gains_curve`.
    targeted : Series of bool
        True for the areas targeted, e.g. ``areas["imd_decile"] <= 3`` (the 30% most deprived
        nationally).

    Returns
    -------
    dict
        ``areas_targeted``, ``under5``, ``in_need``, ``idaci_children`` (targeted),
        ``under5_share``, ``idaci_share``, ``coverage``, ``exclusion_error``,
        ``inclusion_error``, ``in_need_missed``, ``in_need_total``, ``idaci_missed``.

    Examples
    --------
    >>> from planning import toy_town
    >>> town = toy_town(rows=1, columns=2, under5=[100, 300], imd_decile=[1, 9])
    >>> round(targeting_errors(town, town["imd_decile"] <= 3)["exclusion_error"], 2)
    0.75
    """
    _check_areas(areas)
    mask = targeted.reindex(areas.index)
    if mask.isna().any():
        raise ValidationError("targeted must say True or False for every area")
    mask = mask.astype(bool)
    counts = _counts(areas)
    totals = counts.sum()
    row = counts[mask.to_numpy()].sum().to_frame().T
    row.insert(0, "areas_targeted", int(mask.sum()))
    out = _add_shares(row, totals).iloc[0]
    result = {k: float(v) for k, v in out.items()}
    result["areas_targeted"] = int(mask.sum())
    return result


def gains_table(
    areas: pd.DataFrame,
    *,
    rankings: Sequence[str] | Mapping[str, pd.Series] = ("imd", "idaci", "need_index"),
    shares: Sequence[float] = (0.1, 0.2, 0.3, 0.4, 0.5),
) -> pd.DataFrame:
    """Gains of several rankings at chosen shares of areas targeted, in one long table.

    Targeting "the top p of areas" means the first ``ceil(p * n)`` areas of the ranking (so 30%
    of Derby's 152 areas is 46 areas).

    Returns
    -------
    DataFrame
        One row per ranking and share: ``ranking``, ``share_target``, then the columns of
        :func:`gains_curve`.
    """
    items: list[tuple[str, str | pd.Series]]
    if isinstance(rankings, Mapping):
        items = list(rankings.items())
    else:
        items = [(name, name) for name in rankings]
    n = len(areas)
    frames = []
    for name, ranking in items:
        curve = gains_curve(areas, ranking)
        for p in shares:
            if not 0 < p <= 1:
                raise ValidationError(f"shares must be in (0, 1], not {p}")
            k = min(n, math.ceil(p * n - 1e-9))
            row = curve.iloc[[k]].copy()
            row.insert(0, "share_target", p)
            row.insert(0, "ranking", name)
            frames.append(row)
    return pd.concat(frames, ignore_index=True).drop(columns=["last_area"])


# --------------------------------------------------------------------------------------------
# Outreach allocation


@dataclass(frozen=True)
class OutreachModel:
    """What an hour of outreach achieves, and how contacts fall on families in need.

    Attributes
    ----------
    families_per_hour : float
        New families contacted per outreach hour (default 0.25: four hours per family, covering
        travel, repeat visits and follow-up). Illustrative, not sourced: set it from your own
        outreach records.
    under5_per_family : float
        Under-5s per family with under-5s, to turn child counts into families (default 1.0, a
        conservative simplification: it overstates families where siblings are both under 5).
    hours_per_worker : float
        Outreach hours a year of one full-time worker (default 1,300: 37 h x 46 weeks x 75%
        face-to-face), used when allocating whole workers.
    """

    families_per_hour: float = 0.25
    under5_per_family: float = 1.0
    hours_per_worker: float = 1_300.0

    def __post_init__(self) -> None:
        for name in ("families_per_hour", "under5_per_family", "hours_per_worker"):
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and value > 0 and math.isfinite(value)):
                raise ValidationError(
                    f"OutreachModel.{name} must be a positive number, not {value!r}"
                )


def _reach_targeted(contacts: np.ndarray, in_need: np.ndarray, families: np.ndarray) -> np.ndarray:
    return np.minimum(in_need, contacts)


def _reach_untargeted(
    contacts: np.ndarray, in_need: np.ndarray, families: np.ndarray
) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(families > 0, np.minimum(1.0, contacts / families), 0.0)
    return in_need * share


def _reach_saturating(
    contacts: np.ndarray, in_need: np.ndarray, families: np.ndarray
) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        share = np.where(families > 0, 1.0 - np.exp(-contacts / families), 0.0)
    return in_need * share


#: Reach models: expected families in need reached in a group from its contacts.
#: ``targeted``: ``min(in_need, contacts)``: outreach finds in-need families first (the best
#: case). ``untargeted``: ``in_need * min(1, contacts / families)``: contacts fall on families
#: in the group regardless of need, without repeats. ``saturating``: ``in_need * (1 -
#: exp(-contacts / families))``: contacts fall at random, with repeats (random search, Koopman
#: 1956): returns diminish as a group is saturated.
REACH_MODELS: dict[str, Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]] = {
    "saturating": _reach_saturating,
    "untargeted": _reach_untargeted,
    "targeted": _reach_targeted,
}


def _weights_equal(groups: pd.DataFrame, universal_share: float) -> pd.Series:
    return pd.Series(1.0, index=groups.index)


def _weights_per_under5(groups: pd.DataFrame, universal_share: float) -> pd.Series:
    return groups["under5"]


def _weights_idaci(groups: pd.DataFrame, universal_share: float) -> pd.Series:
    return groups["idaci_children"]


def _share(values: pd.Series) -> pd.Series:
    total = values.sum()
    return values / total if total > 0 else pd.Series(1.0 / len(values), index=values.index)


def _weights_proportionate(groups: pd.DataFrame, universal_share: float) -> pd.Series:
    return universal_share * _share(groups["under5"]) + (1 - universal_share) * _share(
        groups["idaci_children"]
    )


def _weights_need_index(groups: pd.DataFrame, universal_share: float) -> pd.Series:
    return groups["need_weighted_under5"]


#: Allocation rules: name -> weights per group (hours are split in proportion).
#: ``equal``: the same to every group. ``per_under5``: in proportion to under-5s.
#: ``idaci``: in proportion to IDACI children. ``proportionate_universalism`` (Marmot 2010):
#: ``universal_share`` of the hours split per under-5 (the universal offer) plus the rest split
#: per IDACI child (in proportion to need). ``need_index``: in proportion to need-weighted
#: under-5s, ``sum(under5 * need_index / 100)`` over the group's areas.
ALLOCATION_RULES: dict[str, Callable[[pd.DataFrame, float], pd.Series]] = {
    "equal": _weights_equal,
    "per_under5": _weights_per_under5,
    "proportionate_universalism": _weights_proportionate,
    "idaci": _weights_idaci,
    "need_index": _weights_need_index,
}


def _largest_remainder(shares: np.ndarray, total: int) -> np.ndarray:
    """Whole units in proportion to ``shares`` (Hamilton's method); ties to the first group."""
    exact = shares * total
    whole = np.floor(exact).astype(int)
    left = total - whole.sum()
    order = np.argsort(-(exact - whole), kind="stable")
    whole[order[:left]] += 1
    return whole


def _group_table(areas: pd.DataFrame, by: str | None) -> pd.DataFrame:
    _check_areas(areas)
    counts = _counts(areas)
    counts["need_weighted_under5"] = counts["under5"] * _need_index(areas) / 100.0
    if by is None:
        return counts
    if by not in areas:
        raise ValidationError(
            f"areas have no column '{by}' to group by; use a sufficiency result's areas "
            "(run_sufficiency(...).result.areas) for 'locality' or 'centre_id', or by=None for "
            "small areas"
        )
    return counts.groupby(areas[by].astype(str), sort=True).sum()


def allocate_outreach(
    areas: pd.DataFrame,
    *,
    hours: float | None = None,
    workers: int | None = None,
    by: str | None = "locality",
    rule: str = "proportionate_universalism",
    universal_share: float = 0.5,
    model: OutreachModel | None = None,
) -> pd.DataFrame:
    """Split outreach hours (or whole workers) between groups of areas by a rule.

    Parameters
    ----------
    areas : DataFrame
        Small areas (a sufficiency result's areas, for ``locality`` or ``centre_id``).
    hours : float, optional
        Outreach hours to allocate (e.g. a year's). Give this or ``workers``.
    workers : int, optional
        Whole workers to allocate (largest-remainder rounding); hours = workers x
        ``model.hours_per_worker``.
    by : str or None
        Column to group areas by (``locality``, ``centre_id``, ``ward_name``); None for areas.
    rule : str
        A name in :data:`ALLOCATION_RULES`.
    universal_share : float
        For ``proportionate_universalism``: the share split per under-5 (default 0.5).
    model : OutreachModel, optional

    Returns
    -------
    DataFrame
        One row per group: ``under5``, ``idaci_children``, ``in_need``, ``families``,
        ``weight``, ``share``, ``workers`` (when given), ``hours``, ``contacts`` (= hours x
        families per hour) and, for each reach model in :data:`REACH_MODELS`,
        ``reached_<model>`` (families in need expected to be reached).

    Examples
    --------
    >>> from planning import toy_town
    >>> town = toy_town(rows=1, columns=2, under5=[100, 300])
    >>> allocate_outreach(town, hours=100, by=None, rule="per_under5")["hours"].tolist()
    [25.0, 75.0]
    """
    model = model or OutreachModel()
    if rule not in ALLOCATION_RULES:
        raise ValidationError(
            f"unknown allocation rule '{rule}'; valid: {', '.join(ALLOCATION_RULES)}"
        )
    if not 0 <= universal_share <= 1:
        raise ValidationError(f"universal_share must be between 0 and 1, not {universal_share}")
    if (hours is None) == (workers is None):
        raise ValidationError("give either hours or workers to allocate (one of them)")
    if hours is not None and not (math.isfinite(hours) and hours >= 0):
        raise ValidationError(f"hours must be a non-negative number, not {hours}")
    if workers is not None and (int(workers) != workers or workers < 0):
        raise ValidationError(f"workers must be a whole number 0 or more, not {workers}")
    groups = _group_table(areas, by)
    weight = ALLOCATION_RULES[rule](groups, universal_share).astype(float)
    out = groups[["under5", "idaci_children", "in_need"]].copy()
    out["families"] = out["under5"] / model.under5_per_family
    out["weight"] = weight
    out["share"] = _share(weight)
    if workers is not None:
        out["workers"] = _largest_remainder(out["share"].to_numpy(), int(workers))
        out["hours"] = out["workers"] * model.hours_per_worker
    else:
        out["hours"] = out["share"] * float(hours)  # type: ignore[arg-type]
    out["contacts"] = out["hours"] * model.families_per_hour
    for name, reach in REACH_MODELS.items():
        out[f"reached_{name}"] = reach(
            out["contacts"].to_numpy(), out["in_need"].to_numpy(), out["families"].to_numpy()
        )
    return out


def compare_outreach(
    areas: pd.DataFrame,
    *,
    hours: float | None = None,
    workers: int | None = None,
    by: str | None = "locality",
    rules: Sequence[str] | None = None,
    universal_share: float = 0.5,
    model: OutreachModel | None = None,
) -> pd.DataFrame:
    """Expected reach of families in need under each allocation rule and reach model.

    Returns
    -------
    DataFrame
        One row per rule and reach model: ``rule``, ``reach_model``, ``hours``, ``contacts``,
        ``in_need_reached``, ``share_of_in_need_reached`` (of all in need in the areas) and
        ``reached_per_100_hours``; sorted as :data:`ALLOCATION_RULES`.
    """
    rows = []
    for rule in rules or list(ALLOCATION_RULES):
        table = allocate_outreach(
            areas,
            hours=hours,
            workers=workers,
            by=by,
            rule=rule,
            universal_share=universal_share,
            model=model,
        )
        total_need = table["in_need"].sum()
        for name in REACH_MODELS:
            reached = table[f"reached_{name}"].sum()
            used = table["hours"].sum()
            rows.append(
                {
                    "rule": rule,
                    "reach_model": name,
                    "hours": used,
                    "contacts": table["contacts"].sum(),
                    "in_need_reached": reached,
                    "share_of_in_need_reached": reached / total_need if total_need > 0 else np.nan,
                    "reached_per_100_hours": 100 * reached / used if used > 0 else np.nan,
                }
            )
    return pd.DataFrame(rows)
