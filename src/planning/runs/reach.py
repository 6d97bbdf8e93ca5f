"""Reach from registration records: small-area counts -> reach rates -> safe tables.

Registration extracts are read by :mod:`planning.inputs.registrations` (counts per small area, no
row-level data kept); this module turns the counts into reach per small area, centre, locality,
deprivation band, ward and target group, and publishes them through disclosure control.

Measures (DOMAIN.md)
--------------------
* ``reach = registered / under5``: registered children living in the unit over its resident
  under-5s (ONS mid-year estimate), with a 95% Wilson score interval;
* ``sustained_reach = sustained / under5``, where *sustained engagement* means at least
  ``sustained_contacts`` (default 3) contacts in the last 12 months; and
  ``sustained_share = sustained / registered``;
* bands: >= 90% "almost all", 75-90% "most", 50-75% "majority", < 50% "minority"; the 65% "good"
  benchmark is flagged separately (``meets_good_benchmark``).

Everything published goes through :mod:`planning.analysis.disclosure`: the small-area table and the
deprivation-band, authority, age and target-group (authority, band) tables are exact with cell
suppression whose pattern depends only on the extract; centre, locality and ward tables (and
target groups by locality) are sums of rounded small-area counts, so publications made with
different centre networks or scenarios cannot be subtracted from one another
(:func:`publish_reach`).
"""

from __future__ import annotations

import datetime as dt
import logging
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import norm

from planning import _format, settings
from planning._errors import ValidationError
from planning._html import Markup, render
from planning.analysis.disclosure import (
    DEFAULT_THRESHOLD,
    ROUNDING_BASE,
    Suppression,
    apply_suppression,
    check_threshold,
    describe_count,
    protect_counts,
    round_counts,
)
from planning.analysis.disclosure_rules import ALL
from planning.inputs.registration_columns import TARGET_GROUPS
from planning.inputs.registrations import (
    AGE_BANDS,
    DEFAULT_SUSTAINED_CONTACTS,
    RegistrationCounts,
    read_registrations,
    registration_counts,
)

logger = logging.getLogger(__name__)

__all__ = [
    "AGE_BANDS",
    "REACH_BANDS",
    "TARGET_GROUPS",
    "PublishedReach",
    "ReachResult",
    "ReachRun",
    "RegistrationCounts",
    "assess_reach",
    "publish_reach",
    "reach_band",
    "reach_html",
    "read_registrations",
    "registration_counts",
    "run_reach",
    "wilson_interval",
    "write_reach_outputs",
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


#: Published figures derived from each count (blanked when the count is withheld).
DERIVED: dict[str, list[str]] = {
    "reach": ["registered"],
    "reach_low": ["registered"],
    "reach_high": ["registered"],
    "reach_band": ["registered"],
    "meets_good_benchmark": ["registered"],
    "sustained_reach": ["sustained"],
    "sustained_reach_low": ["sustained"],
    "sustained_reach_high": ["sustained"],
    "sustained_share": ["sustained", "registered"],
    "sustained_share_low": ["sustained", "registered"],
    "sustained_share_high": ["sustained", "registered"],
}

#: Groupings of areas reached tables are published for: result attribute -> area column.
GROUPINGS: dict[str, str] = {
    "centres": "centre_id",
    "localities": "locality",
    "bands": "deprivation_band",
    "wards": "ward_name",
}
#: Large groupings that are the same whatever the centre network: published exactly, with
#: cell suppression audited together with the small-area table.
FIXED_GROUPINGS: dict[str, str] = {"bands": "deprivation_band"}
#: Groupings published as sums of rounded small-area counts
#: (:func:`planning.analysis.disclosure.round_counts`): those that change with the centre network or
#: scenario (so they cannot be differenced) and wards (a few areas each: exact ward totals
#: would force many more blanks in the small-area table).
NETWORK_GROUPINGS: dict[str, str] = {
    "centres": "centre_id",
    "localities": "locality",
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


# --------------------------------------------------------------------------------------------
# Publishing


@dataclass(frozen=True)
class PublishedReach:
    """Reach tables safe to publish: small counts and what they could be deduced from withheld.

    ``tables`` maps an output name (``areas``, ``centres``, ``localities``, ``bands``,
    ``wards``, ``target_groups``, ``ages``) to a frame whose withheld cells are blank (NA).
    ``audit`` holds every sensitive count of every table (column ``table``) with the interval
    the audit's intruder could deduce; all are protected (otherwise publishing is refused).
    """

    tables: dict[str, pd.DataFrame]
    authority: dict[str, Any]
    threshold: int
    withheld: int
    notes: list[str]
    suppression: Suppression = field(repr=False)
    audit: pd.DataFrame = field(repr=False, default_factory=pd.DataFrame)
    disclosure: dict[str, Any] = field(default_factory=dict)


def _rounded_group_table(areas: pd.DataFrame, column: str, threshold: int) -> pd.DataFrame:
    """A network grouping's table from small-area counts rounded before summing."""
    table = areas[[column, "under5"]].copy()
    if "under5_income_deprived" in areas:
        table["under5_income_deprived"] = areas["under5_income_deprived"]
    for count in ("registered", "sustained"):
        table[count] = round_counts(areas[count], threshold=threshold)
    summed = [
        c for c in ("under5", "registered", "sustained", "under5_income_deprived") if c in table
    ]
    frame = _group_table(table, column, summed)
    frame.index = frame.index.astype(str)
    return frame


def publish_reach(result: ReachResult, *, threshold: int = DEFAULT_THRESHOLD) -> PublishedReach:
    """Apply disclosure control to every reach table (see :mod:`planning.analysis.disclosure`).

    Two designs together, so that no publication, and no set of publications from the same
    extract with different centre networks or scenarios, gives back a count below
    ``threshold``:

    * the small-area table and the large groupings that do not depend on the centre network
      (deprivation bands, the authority, age bands, target groups for the authority and by
      band) are exact, with cell suppression audited against an intruder who knows all of
      them; the suppression pattern depends only on the extract, so it is the same whatever
      centres are assessed;
    * the tables whose groups depend on the centre network (centres, localities, target groups
      by locality), and wards (small groups whose exact totals would force many more blanks),
      are sums of small-area counts rounded by
      :func:`planning.analysis.disclosure.round_counts` (totals from the rounded cells, as ONS does), so
      they hold nothing beyond each area's rounded count, which the audit assumes the intruder
      knows (a scenario can give any one area a centre of its own).

    Rates, intervals and bands computed from a withheld count are withheld too.

    Raises
    ------
    ValidationError
        If ``threshold`` is below 3.
    DisclosureError
        If any table's audit fails: nothing is published.
    """
    threshold = check_threshold(threshold)
    areas = result.areas
    fixed = {name: areas[column] for name, column in FIXED_GROUPINGS.items() if column in areas}
    counts = areas[["registered", "sustained"]].astype(int)
    protection = protect_counts(
        counts,
        groupings=fixed,
        threshold=threshold,
        not_greater=[("sustained", "registered")],
        rounding_known=True,
    )
    audits = [protection.audit.assign(table="areas")]
    tables = _publish_area_tables(result, protection, threshold)
    all_hidden = protection.totals[ALL].loc[ALL]
    authority = _published_authority(result.authority, all_hidden)
    withheld = protection.withheld

    tables["target_groups"], group_audits, group_withheld = _publish_target_groups(
        result, protection, fixed, threshold
    )
    audits += group_audits
    withheld += group_withheld

    tables["ages"], age_audits, age_withheld = _publish_ages(
        result.ages, bool(all_hidden["registered"]), threshold
    )
    audits += age_audits
    withheld += age_withheld
    smallest = int(round_counts([1], threshold=threshold)[0])
    notes = list(result.notes) + _disclosure_notes(
        result.counts.rows_outside, threshold=threshold, withheld=withheld, smallest=smallest
    )
    audit = pd.concat(audits, ignore_index=True)
    return PublishedReach(
        tables=tables,
        authority=authority,
        threshold=threshold,
        withheld=withheld,
        notes=notes,
        suppression=protection,
        audit=audit,
        disclosure=_disclosure_summary(
            threshold=threshold, smallest=smallest, fixed=fixed, tables=tables, audit=audit
        ),
    )


def _disclosure_summary(
    *,
    threshold: int,
    smallest: int,
    fixed: dict[str, pd.Series],
    tables: dict[str, pd.DataFrame],
    audit: pd.DataFrame,
) -> dict[str, Any]:
    """What the publication's disclosure control did, for its provenance."""
    return {
        "threshold": threshold,
        "rounding_base": ROUNDING_BASE,
        "smallest_rounded": smallest,
        "exact_tables": [
            "areas",
            *[n for n in fixed],
            "ages",
            "target_groups (authority, deprivation band)",
        ],
        "rounded_tables": [n for n in NETWORK_GROUPINGS if n in tables]
        + ["target_groups (locality)"],
        "sensitive_counts_audited": len(audit),
    }


def _publish_area_tables(
    result: ReachResult, protection: Suppression, threshold: int
) -> dict[str, pd.DataFrame]:
    """The small-area table and the group tables: exact with suppression, or rounded sums."""
    areas = result.areas
    tables: dict[str, pd.DataFrame] = {}
    # Per area only registered and sustained (and their rates) are published: ages and target
    # groups per area would be small counts everywhere, so they are published only for groups.
    private = [c for c in result.counts.counts.columns if c not in ("registered", "sustained")]
    tables["areas"] = apply_suppression(
        areas.drop(columns=private, errors="ignore"), protection.cells, derived=DERIVED
    )
    for name, frame in result.groups.items():
        if name in NETWORK_GROUPINGS:
            tables[name] = _rounded_group_table(areas, NETWORK_GROUPINGS[name], threshold)
            continue
        hidden = protection.totals[name].copy()
        hidden.loc[ALL] = protection.totals[ALL].loc[ALL]
        hidden.index = hidden.index.astype(str)
        frame = frame.copy()
        frame.index = frame.index.astype(str)
        tables[name] = apply_suppression(frame, hidden.reindex(frame.index), derived=DERIVED)
    return tables


def _published_authority(authority: dict[str, Any], all_hidden: pd.Series) -> dict[str, Any]:
    """Authority-wide figures with those from a withheld grand total set to None."""
    published = dict(authority)
    for column in ["registered", "sustained", *DERIVED]:
        sources = DERIVED.get(column, [column])
        if any(bool(all_hidden.get(s, False)) for s in sources):
            published[column] = None
    return published


def _publish_ages(
    ages: pd.DataFrame, total_hidden: bool, threshold: int
) -> tuple[pd.DataFrame, list[pd.DataFrame], int]:
    """Age-band table: a line whose total is the authority's registered count.

    Returns the table, its audits and how many counts it withholds.
    """
    ages = ages.copy()
    age_counts = ages[["registered"]].astype(int)
    audits: list[pd.DataFrame] = []
    if total_hidden:
        # Without the authority's total there is no line: each band is protected on its own.
        age_hidden = pd.DataFrame(True, index=ages.index, columns=["registered"])
        age_withheld = int((age_counts["registered"] > 0).sum())
    else:
        age_protection = protect_counts(age_counts, threshold=threshold)
        audits.append(age_protection.audit.assign(table="ages"))
        age_hidden = age_protection.cells.copy()
        age_withheld = age_protection.withheld
    table = apply_suppression(
        ages,
        age_hidden,
        derived={c: ["registered"] for c in ("reach", "reach_low", "reach_high")},
    )
    return table, audits, age_withheld


def _disclosure_notes(
    rows_outside: int, *, threshold: int, withheld: int, smallest: int
) -> list[str]:
    """Notes on what disclosure control did: children outside, withheld figures, rounding."""
    notes = []
    if rows_outside:
        notes.append(
            f"{describe_count(rows_outside, threshold=threshold).capitalize()} "
            "registrations of children living outside the authority are left out."
        )
    notes += [
        f"Disclosure control: counts below {threshold} are withheld, and further counts where "
        "the published tables together would narrow a withheld count down (cell suppression "
        "audited by linear programming against an intruder who knows every table published "
        "from this extract); "
        + (f"{withheld:,} figures" if withheld >= 5 else "some figures" if withheld else "none")
        + " withheld. Rates from a withheld count are withheld.",
        f"Centre, locality and ward tables (and target groups by locality) are sums of "
        f"small-area counts rounded to the nearest {ROUNDING_BASE}, with any count from 1 to "
        f"{smallest + 2} shown as {smallest}, so they are the same whatever centre network is "
        "assessed and cannot be subtracted from one another; their totals differ slightly from "
        "the exact totals in the deprivation band table.",
    ]
    return notes


#: Target-group levels published exactly, with the grouping of the protection they come from.
_EXACT_LEVELS: dict[str, str] = {"deprivation band": "bands", "authority": ALL}
#: Target-group figures derived from each count (blanked when the count is withheld).
_TARGET_DERIVED: dict[str, list[str]] = {
    "share_of_registered": ["registered", "unit_registered"],
    "sustained_share": ["sustained", "registered"],
    "sustained_share_low": ["sustained", "registered"],
    "sustained_share_high": ["sustained", "registered"],
}


def _publish_target_groups(
    result: ReachResult,
    protection: Suppression,
    fixed: dict[str, pd.Series],
    threshold: int,
) -> tuple[pd.DataFrame, list[pd.DataFrame], int]:
    """Target-group table: exact and audited for the authority and bands, rounded by locality.

    Each group is audited together with the published registered and sustained counts (the
    intruder knows a group's count is at most the registered count, and every published and
    withheld count of the main tables), and with every area's rounded group count known.
    """
    areas = result.areas
    target = result.target_groups.copy()
    if not len(target):
        return target, [], 0
    counts = areas[["registered", "sustained"]].astype(int)
    target_hidden = pd.DataFrame(False, index=target.index, columns=["registered", "sustained"])
    audits: list[pd.DataFrame] = []
    withheld = 0
    for group in result.counts.groups:
        joint = _joint_counts(result.counts, counts, group)
        p = _protect_target_group(joint, protection, fixed, threshold)
        audit = p.audit.copy()
        # The audit names the group's own counts as the table publishes them.
        audit["column"] = audit["column"].map(
            {"group": "registered", "group_sustained": "sustained"}
        )
        audits.append(audit.assign(table=f"target group {group}"))
        for states in p.total_state.values():
            withheld += int((states[["group", "group_sustained"]].to_numpy() == 1).sum())
        rows = target["group"] == group
        _mark_exact_hidden(target, target_hidden, rows, p)
        if "locality" in areas:
            _set_locality_rounded(target, rows, joint, areas["locality"], threshold)
    target_hidden["unit_registered"] = _unit_registered_hidden(target, protection)
    _target_rates(target)
    published = apply_suppression(target, target_hidden, derived=_TARGET_DERIVED)
    return published, audits, withheld


def _joint_counts(counts: RegistrationCounts, main: pd.DataFrame, group: str) -> pd.DataFrame:
    """Per area: registered, sustained, and the target group's ``group``, ``group_sustained``."""
    return main.join(
        counts.counts[[group, f"{group}_sustained"]]
        .reindex(main.index)
        .fillna(0)
        .astype(int)
        .rename(columns={group: "group", f"{group}_sustained": "group_sustained"})
    )


def _protect_target_group(
    joint: pd.DataFrame,
    protection: Suppression,
    fixed: dict[str, pd.Series],
    threshold: int,
) -> Suppression:
    """Protect a target group's totals given the main protection (cells are not published)."""
    return protect_counts(
        joint,
        groupings=fixed,
        threshold=threshold,
        publish_cells=False,
        not_greater=[
            ("sustained", "registered"),
            ("group_sustained", "group"),
            ("group", "registered"),
            ("group_sustained", "sustained"),
        ],
        rounding_known=True,
        known=protection,
        totals_for=[name for name in ("bands",) if name in fixed],
    )


def _mark_exact_hidden(
    target: pd.DataFrame, target_hidden: pd.DataFrame, rows: pd.Series, p: Suppression
) -> None:
    """Copy the group's withheld totals into ``target_hidden`` for its exact (non-locality) rows."""
    for position, row in target[rows].iterrows():
        key = _EXACT_LEVELS.get(row["level"])
        if key is None:
            continue
        frame = p.totals[key][["group", "group_sustained"]]
        frame = frame.set_axis(frame.index.astype(str))
        target_hidden.loc[position] = frame.loc[str(row["unit"])].to_numpy()


def _set_locality_rounded(
    target: pd.DataFrame,
    rows: pd.Series,
    joint: pd.DataFrame,
    locality: pd.Series,
    threshold: int,
) -> None:
    """Replace the group's locality counts (in place) by sums of rounded small-area counts."""
    rounded = (
        pd.DataFrame(
            {
                "registered": round_counts(joint["group"], threshold=threshold),
                "sustained": round_counts(joint["group_sustained"], threshold=threshold),
                "unit_registered": round_counts(joint["registered"], threshold=threshold),
            },
            index=joint.index,
        )
        .groupby(locality.astype(str))
        .sum()
    )
    for position, row in target[rows & (target["level"] == "locality")].iterrows():
        for column in rounded.columns:
            target.loc[position, column] = int(rounded.loc[str(row["unit"]), column])


def _unit_registered_hidden(target: pd.DataFrame, protection: Suppression) -> pd.Series:
    """Whether each exact row's unit registered count is withheld in the main tables."""
    # The unit's registered count: published in the band table (or withheld there).
    unit_hidden = pd.Series(False, index=target.index)
    for position, row in target.iterrows():
        key = _EXACT_LEVELS.get(row["level"])
        if key is not None:
            frame = protection.totals[key]
            frame = frame.set_axis(frame.index.astype(str))
            unit_hidden[position] = bool(frame.loc[str(row["unit"]), "registered"])
    return unit_hidden


def _target_rates(target: pd.DataFrame) -> None:
    """Recompute shares and intervals (in place) from the published, partly rounded counts."""
    reg = target["registered"].astype(float)
    unit = target["unit_registered"].astype(float)
    target["share_of_registered"] = reg / unit.where(unit > 0)
    target["sustained_share"] = target["sustained"].astype(float) / reg.where(reg > 0)
    target["sustained_share_low"], target["sustained_share_high"] = wilson_interval(
        target["sustained"].astype(float), reg
    )


def _pct(value: object) -> str:
    return _format.whole_share(value, missing="withheld")


def _count(value: object) -> str:
    return _format.count(value, missing="withheld")


def _table(frame: pd.DataFrame) -> dict[str, Any]:
    return {"kind": "table", "html": Markup(frame.to_html(classes="planning", border=0))}


def reach_html(published: PublishedReach, *, title: str = "Reach from registrations") -> str:
    """An HTML block (a ``<section>``) for a report: headline reach, tables, notes.

    Built only from a :class:`PublishedReach`, so it shows nothing disclosure control withheld,
    and rendered from ``templates/html/report_section.html.j2`` (autoescaped). Tables: reach by
    locality and deprivation band, and sustained engagement by target group for the authority.
    Classes follow the sufficiency report (``planning``, ``note``, ``cards``).

    Examples
    --------
    In a notebook::

        from IPython.display import HTML
        HTML(reach_html(publish_reach(assess_reach(counts, run.result.areas))))
    """
    a = published.authority
    cards = [
        (_pct(a.get("reach")), "of under-5s registered with a centre"),
        (_pct(a.get("sustained_reach")), "of under-5s with sustained engagement"),
        (str(a.get("reach_band") or "withheld"), "reach band (DOMAIN.md)"),
    ]
    bands = published.tables.get("bands")
    if bands is not None and "0-30%" in bands.index:
        cards.append(
            (_pct(bands.loc["0-30%", "reach"]), "registered in the 30% most deprived areas")
        )
    parts: list[dict[str, Any]] = []

    def table(frame: pd.DataFrame, name: str) -> dict[str, Any]:
        show = pd.DataFrame(
            {
                "Under-5s": frame["under5"].map(_count),
                "Registered": frame["registered"].map(_count),
                "Reach": frame["reach"].map(_pct),
                "95% interval": [
                    "withheld" if pd.isna(lo) else f"{100 * lo:.0f}-{100 * hi:.0f}%"
                    for lo, hi in zip(frame["reach_low"], frame["reach_high"])
                ],
                "Band": frame["reach_band"].fillna("withheld"),
                "Sustained engagement": frame["sustained_reach"].map(_pct),
            },
            index=frame.index,
        )
        show.index.name = name
        return _table(show)

    for key, name in (("localities", "Locality"), ("bands", "Deprivation band (national)")):
        if key in published.tables:
            parts.append({"kind": "heading", "text": f"Reach by {name.lower()}"})
            parts.append(table(published.tables[key], name))
    target = published.tables.get("target_groups")
    if target is not None and len(target):
        own = target[target["level"] == "authority"]
        show = pd.DataFrame(
            {
                "Registered": own["registered"].map(_count),
                "Share of registrations": own["share_of_registered"].map(_pct),
                "Sustained engagement": own["sustained_share"].map(_pct),
            }
        )
        show.index = own["label"].to_numpy()
        show.index.name = "Target group"
        parts += [{"kind": "heading", "text": "Target groups (authority)"}, _table(show)]
    parts.append(
        {
            "kind": "paragraph",
            "text": "Reach = registered children living in the area / resident under-5s (ONS). Bands: "
            "90%+ almost all, 75-90% most, 50-75% majority, below 50% minority; the 'good' "
            f"benchmark is {_format.whole_share(GOOD_BENCHMARK)}. Counts below "
            f"{published.threshold} are withheld.",
        }
    )
    return str(
        render(
            "report_section.html.j2",
            css_class="reach",
            title=title,
            notes=published.notes,
            cards=cards,
            parts=parts,
        )
    )


def write_reach_outputs(
    published: PublishedReach,
    out: str | Path,
    *,
    provenance: Mapping[str, Any] | None = None,
    inputs: Sequence[str | Path | None] = (),
    force: bool = False,
) -> Path:
    """Write the published reach tables into ``out`` atomically.

    ``out`` is replaced only if it is empty or an earlier output of this tool (or with
    ``force``), and never if it holds one of ``inputs`` (the extract, centres, standards):
    :func:`planning._files.atomic_directory`.

    Files: ``areas.csv``, ``centres.csv``, ``localities.csv``, ``deprivation_bands.csv``,
    ``wards.csv`` (each with a final ``All`` row), ``target_groups.csv``, ``ages.csv``,
    ``summary.json`` and ``reach.html``. Only :class:`PublishedReach` tables are written: no
    row-level data, no withheld count.
    """
    from planning._files import atomic_directory, write_json
    from planning.inputs.safe_csv import write_csv

    names = {"bands": "deprivation_bands"}
    out = Path(out)
    with atomic_directory(out, inputs=inputs, force=force, kind="reach") as staging:
        for key, frame in published.tables.items():
            frame = frame.drop(columns=["geometry"], errors="ignore")
            write_csv(frame, staging / f"{names.get(key, key)}.csv", index=key != "target_groups")
        summary = {
            "figures": dict(published.authority),
            "threshold": published.threshold,
            "withheld": published.withheld,
            "disclosure": published.disclosure,
            "notes": published.notes,
            **(dict(provenance) if provenance else {}),
        }
        write_json(staging / "summary.json", summary)
        page = (
            "<!DOCTYPE html><html><head><meta charset='utf-8'><title>Reach</title></head><body>"
            + reach_html(published)
            + "</body></html>"
        )
        (staging / "reach.html").write_text(page, encoding="utf-8")
    return out


@dataclass(frozen=True)
class ReachRun:
    """A reach result with the sufficiency run that placed each area, and provenance."""

    result: ReachResult
    sufficiency: Any  # planning.runs.sufficiency.SufficiencyRun
    provenance: dict[str, Any]


def run_reach(
    authority: str = settings.DEFAULT_AUTHORITY,
    registrations: str | Path | None = None,
    *,
    centres: str | Path | None = None,
    standards: str | Path | None = None,
    sustained_contacts: int = DEFAULT_SUSTAINED_CONTACTS,
    as_of: dt.date | str | None = None,
    run: Any = None,
) -> ReachRun:
    """Load an authority, assess sufficiency (for catchments), read an extract, assess reach.

    Parameters are those of :func:`planning.runs.sufficiency.run_sufficiency` and
    :func:`read_registrations`; ``run``, a :class:`planning.runs.sufficiency.SufficiencyRun` already
    made (e.g. by the report), is used instead of assessing again. The provenance records the
    extract's file name and SHA-256 (not its folder or contents).
    """
    from planning.runs.sufficiency import run_sufficiency

    if registrations is None:
        raise ValidationError("give a registration extract (--registrations FILE)")
    if run is None:
        run = run_sufficiency(authority, centres=centres, standards=standards)
    counts = read_registrations(
        registrations, run.result.areas, sustained_contacts=sustained_contacts, as_of=as_of
    )
    if counts.rows_outside:
        # Warnings can end up in published reports: the count is described, never given.
        warnings.warn(
            f"{counts.source}: {describe_count(counts.rows_outside)} registrations are of "
            "children living outside the authority; they are left out of reach, whose "
            "denominator is the authority's resident under-5s",
            UserWarning,
            stacklevel=2,
        )
    result = assess_reach(counts, run.result.areas)
    result.notes.extend(run.result.notes)
    provenance = {
        "authority": {"code": run.authority_code, "name": run.authority_name},
        "generated": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "registrations": {
            "file": counts.source,
            "sha256": counts.sha256,
            "as_of": counts.as_of.isoformat(),
            "synthetic": counts.synthetic,
            # No registration counts here: provenance is published (reach and targeting
            # summaries), and the protected figures say how many were counted.
            "sustained_contacts": counts.sustained_contacts,
            "target_groups": list(counts.groups),
        },
        "inputs": run.inputs,
    }
    return ReachRun(result=result, sufficiency=run, provenance=provenance)
