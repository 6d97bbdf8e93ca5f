"""Publishing reach: disclosure control over every reach table (:func:`publish_reach`).

Everything published goes through :mod:`planning.analysis.disclosure`: the small-area table and the
deprivation-band, authority, age and target-group (authority, band) tables are exact with cell
suppression whose pattern depends only on the extract; centre, locality and ward tables (and
target groups by locality) are sums of rounded small-area counts, so publications made with
different centre networks or scenarios cannot be subtracted from one another. The figures come
from :func:`planning.runs.reach_assessment.assess_reach`; :mod:`planning.runs.reach` re-exports
this module's public names.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

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
from planning.inputs.registrations import RegistrationCounts
from planning.runs.reach_assessment import ReachResult, _group_table, wilson_interval

__all__ = [
    "DERIVED",
    "FIXED_GROUPINGS",
    "NETWORK_GROUPINGS",
    "PublishedReach",
    "publish_reach",
]

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
