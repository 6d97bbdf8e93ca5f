"""Reach figures from registration counts: rates, bands and the unprotected reach tables.

Holds the reach measures and the assessment that applies them
(:func:`assess_reach` -> :class:`ReachResult`); what may be published from them is
:mod:`planning.runs.reach_publication`, and the run that loads, assesses and writes is
:mod:`planning.runs.reach`, which re-exports this module's public names.

Measures (DOMAIN.md)
--------------------
* ``reach = registered / under5``: registered children living in the unit over its resident
  under-5s (ONS mid-year estimate), with a 95% Wilson score interval;
* ``sustained_reach = sustained / under5``, where *sustained engagement* means at least
  ``sustained_contacts`` (default 3) contacts in the last 12 months; and
  ``sustained_share = sustained / registered``;
* bands: >= 90% "almost all", 75-90% "most", 50-75% "majority", < 50% "minority"; the 65% "good"
  benchmark is flagged separately (``meets_good_benchmark``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import norm

from planning._errors import ValidationError
from planning.inputs.registration_columns import TARGET_GROUPS
from planning.inputs.registrations import AGE_BANDS, RegistrationCounts

__all__ = [
    "GOOD_BENCHMARK",
    "GROUPINGS",
    "REACH_BANDS",
    "ReachResult",
    "assess_reach",
    "reach_band",
    "wilson_interval",
]

#: Reach bands (DOMAIN.md), highest first: (lower bound, label).
REACH_BANDS: tuple[tuple[float, str], ...] = (
    (0.90, "almost all"),
    (0.75, "most"),
    (0.50, "majority"),
    (0.0, "minority"),
)
#: The de facto "good" reach benchmark (DOMAIN.md).
GOOD_BENCHMARK = 0.65

# --------------------------------------------------------------------------------------------
# Rates


def wilson_interval(
    successes: np.ndarray | pd.Series | float,
    trials: np.ndarray | pd.Series | float,
    *,
    confidence: float = 0.95,
) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval for a proportion (Wilson 1927; Newcombe 1998 method 3).

    ``centre = (p + z^2/2n) / (1 + z^2/n)``, ``half = z sqrt(p(1-p)/n + z^2/4n^2) / (1 + z^2/n)``
    with ``p = successes / trials`` capped at 1 (registrations can exceed a population
    estimate). NaN where ``trials`` is 0.

    Examples
    --------
    >>> low, high = wilson_interval(65, 100)
    >>> round(float(low), 3), round(float(high), 3)
    (0.553, 0.736)
    """
    k = np.asarray(successes, dtype=float)
    n = np.asarray(trials, dtype=float)
    z = float(norm.ppf(0.5 + confidence / 2))
    with np.errstate(divide="ignore", invalid="ignore"):
        p = np.clip(np.where(n > 0, k / n, np.nan), 0.0, 1.0)
        denominator = 1 + z**2 / n
        centre = (p + z**2 / (2 * n)) / denominator
        half = z * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / denominator
    low = np.where(n > 0, np.clip(centre - half, 0, 1), np.nan)
    high = np.where(n > 0, np.clip(centre + half, 0, 1), np.nan)
    return low, high


def reach_band(rate: pd.Series | np.ndarray) -> pd.Series:
    """DOMAIN.md band of each reach rate: 'almost all', 'most', 'majority' or 'minority'."""
    values = pd.Series(np.asarray(rate, dtype=float))
    out = pd.Series(pd.NA, index=values.index, dtype=object)
    for lower, label in reversed(REACH_BANDS):
        out = out.mask(values >= lower, label)
    if isinstance(rate, pd.Series):
        out.index = rate.index
    return out


def _rates(table: pd.DataFrame) -> pd.DataFrame:
    """Add reach, sustained reach and sustained share (with Wilson intervals) to count columns."""
    out = table.copy()
    u5 = out["under5"].astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        out["reach"] = (out["registered"] / u5.where(u5 > 0)).astype(float)
        out["sustained_reach"] = (out["sustained"] / u5.where(u5 > 0)).astype(float)
        reg = out["registered"].astype(float)
        out["sustained_share"] = (out["sustained"] / reg.where(reg > 0)).astype(float)
    out["reach_low"], out["reach_high"] = wilson_interval(out["registered"], u5)
    out["reach_band"] = reach_band(out["reach"])
    out["meets_good_benchmark"] = (out["reach"] >= GOOD_BENCHMARK).where(out["reach"].notna())
    out["sustained_reach_low"], out["sustained_reach_high"] = wilson_interval(out["sustained"], u5)
    out["sustained_share_low"], out["sustained_share_high"] = wilson_interval(
        out["sustained"], out["registered"]
    )
    return out


#: Groupings of areas reached tables are published for: result attribute -> area column.
GROUPINGS: dict[str, str] = {
    "centres": "centre_id",
    "localities": "locality",
    "bands": "deprivation_band",
    "wards": "ward_name",
}


def _group_table(table: pd.DataFrame, column: str, summed: list[str]) -> pd.DataFrame:
    """Sums of ``summed`` per group of ``column`` with a final ``All`` row, and their rates."""
    sums = table.groupby(column, sort=True)[summed].sum()
    sums.loc["All"] = table[summed].sum()
    sums["areas"] = table.groupby(column).size().reindex(sums.index).fillna(len(table))
    sums.index.name = column
    return _rates(sums)


@dataclass(frozen=True)
class ReachResult:
    """Reach per small area and group: unsuppressed (for analysis inside the council).

    Publish only what :func:`publish_reach` returns.

    Attributes
    ----------
    areas : DataFrame
        Per LSOA: ``under5``, ``under5_income_deprived``, grouping columns, ``distance_m`` (when
        known), counts and rates.
    groups : dict of name -> DataFrame
        ``centres``, ``localities``, ``bands``, ``wards`` (those the areas allow), each with a
        final ``All`` row.
    authority : dict
        Authority-wide counts and rates.
    target_groups : DataFrame
        Per target group and unit (authority, deprivation band, locality): registered, sustained,
        sustained share.
    ages : DataFrame
        Per age band: registered, resident under-5s, reach.
    counts : RegistrationCounts
    notes : list of str
    """

    areas: pd.DataFrame
    groups: dict[str, pd.DataFrame]
    authority: dict[str, Any]
    target_groups: pd.DataFrame
    ages: pd.DataFrame
    counts: RegistrationCounts
    notes: list[str] = field(default_factory=list)

    def to_frame(self) -> pd.DataFrame:
        return self.areas


_AREA_KEEP = (
    "under5",
    "under5_income_deprived",
    "idaci_children",
    "imd_decile",
    "centre_id",
    "locality",
    "deprivation_band",
    "ward_name",
    "distance_m",
)


def assess_reach(counts: RegistrationCounts, areas: pd.DataFrame) -> ReachResult:
    """Reach rates per small area, centre, locality, deprivation band, ward and target group.

    Parameters
    ----------
    counts : RegistrationCounts
        From :func:`read_registrations`.
    areas : DataFrame
        The authority's areas, ideally a sufficiency result's areas
        (``run_sufficiency(...).result.areas``) so that each has its centre, locality,
        deprivation band and distance; with plain :func:`planning.load_areas` output only the
        bands and wards are available.

    Returns
    -------
    ReachResult
        Counts and rates, not yet protected from disclosure: see :func:`publish_reach`.
    """
    missing = sorted(set(counts.counts.index) - set(areas.index))
    if missing:
        raise ValidationError(
            f"registration counts hold areas not in the areas given ({', '.join(missing[:5])}); "
            "read the extract with the same authority's areas"
        )
    base = _area_base(areas)
    table = base.join(counts.counts.reindex(base.index).fillna(0).astype(int))
    area_table = _rates(table)

    summed = ["under5", "registered", "sustained"] + (
        ["under5_income_deprived"] if "under5_income_deprived" in table else []
    )
    groups: dict[str, pd.DataFrame] = {}
    for name, column in GROUPINGS.items():
        if column in table:
            groups[name] = _group_table(table, column, summed)
    total = _rates(table[summed].sum().to_frame().T).iloc[0]
    authority = {k: (v.item() if hasattr(v, "item") else v) for k, v in total.items()}
    return ReachResult(
        areas=area_table,
        groups=groups,
        authority=authority,
        target_groups=_target_group_table(counts, table),
        ages=_age_table(table, areas),
        counts=counts,
        notes=_reach_notes(counts, area_table),
    )


def _area_base(areas: pd.DataFrame) -> pd.DataFrame:
    """The area columns reach needs, deriving income-deprived under-5s and bands when missing."""
    from planning.analysis.need import deprivation_band, under5_income_deprived

    base = pd.DataFrame(index=areas.index)
    for column in _AREA_KEEP:
        if column in areas:
            base[column] = areas[column]
    if "under5_income_deprived" not in base and {"idaci_children", "children_0_15"} <= set(areas):
        base["under5_income_deprived"] = under5_income_deprived(areas)
    if "deprivation_band" not in base and "imd_decile" in areas:
        base["deprivation_band"] = deprivation_band(areas["imd_decile"])
    for column in ("deprivation_band",):
        if column in base:
            base[column] = base[column].astype(str)
    return base


def _target_units(table: pd.DataFrame) -> list[tuple[str, str, pd.Series]]:
    """(level, unit, area mask) of the authority, each deprivation band and each locality."""
    units: list[tuple[str, str, pd.Series]] = [("authority", "All", pd.Series(True, table.index))]
    if "deprivation_band" in table:
        units += [
            ("deprivation band", str(b), table["deprivation_band"] == b)
            for b in sorted(table["deprivation_band"].unique())
        ]
    if "locality" in table:
        units += [
            ("locality", str(loc), table["locality"] == loc)
            for loc in sorted(table["locality"].unique())
        ]
    return units


def _target_group_table(counts: RegistrationCounts, table: pd.DataFrame) -> pd.DataFrame:
    """Registered and sustained counts of each target group per unit, with shares."""
    rows = []
    units = _target_units(table)
    for group in counts.groups:
        for level, unit, mask in units:
            sub = table.loc[mask]
            rows.append(
                {
                    "group": group,
                    "label": TARGET_GROUPS[group],
                    "level": level,
                    "unit": unit,
                    "registered": int(sub[group].sum()),
                    "sustained": int(sub[f"{group}_sustained"].sum()),
                    "unit_registered": int(sub["registered"].sum()),
                }
            )
    target = pd.DataFrame(
        rows,
        columns=["group", "label", "level", "unit", "registered", "sustained", "unit_registered"],
    )
    if len(target):
        reg = target["registered"].astype(float)
        target["share_of_registered"] = target["registered"] / target["unit_registered"].where(
            target["unit_registered"] > 0
        )
        target["sustained_share"] = target["sustained"] / reg.where(reg > 0)
        target["sustained_share_low"], target["sustained_share_high"] = wilson_interval(
            target["sustained"], reg
        )
    return target


def _age_table(table: pd.DataFrame, areas: pd.DataFrame) -> pd.DataFrame:
    """Registered children per age band, with reach when the areas give single-year ages."""
    ages = pd.DataFrame(index=pd.Index(list(AGE_BANDS), name="age_band"))
    ages["registered"] = [int(table["age_0_1"].sum()), int(table["age_2_4"].sum())]
    if all(f"age_{a}" in areas for a in range(5)):
        ages["under5"] = [
            float(sum(areas[f"age_{a}"].sum() for a in years)) for years in AGE_BANDS.values()
        ]
        with np.errstate(divide="ignore", invalid="ignore"):
            ages["reach"] = ages["registered"] / ages["under5"].where(ages["under5"] > 0)
        ages["reach_low"], ages["reach_high"] = wilson_interval(ages["registered"], ages["under5"])
    return ages


def _reach_notes(counts: RegistrationCounts, area_table: pd.DataFrame) -> list[str]:
    """Notes on the data: synthetic extract, children outside, reach over 100%, sustained rule."""
    notes = []
    if counts.synthetic:
        notes.append(
            f"SYNTHETIC DATA: {counts.source} is a synthetic registration extract made by "
            "planning.inputs.synthetic for demonstration; no figure describes real families."
        )
    if counts.rows_outside:
        # No count here: notes are published (targeting, reports); publish_reach says how many,
        # protected, with its threshold.
        notes.append(
            "Registrations of children living outside the authority are left out (the "
            "denominator is resident under-5s)."
        )
    over = area_table.index[area_table["reach"] > 1]
    if len(over):
        notes.append(
            f"{len(over)} small area(s) have more registered children than the ONS estimate of "
            "resident under-5s (the estimate is mid-2020); their reach is shown above 100% and "
            "their interval capped at 100%."
        )
    notes.append(
        f"Sustained engagement: at least {counts.sustained_contacts} contacts in the 12 months "
        f"to {counts.as_of:%d %B %Y}."
    )
    return notes
