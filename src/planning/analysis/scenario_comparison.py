"""Before and after a scenario: the headline figures, the areas that change, the loads.

:func:`compare` sets two :class:`planning.analysis.scenario_results.Evaluation` side by side; the
figures compared and their wording under a council's standards are :func:`headlines`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from planning._format import count, whole_share
from planning.analysis.scenario_results import Evaluation
from planning.standards import Standards


def headlines(standards: Standards) -> dict[str, tuple[str, str]]:
    """Headline figures in a comparison: key -> (label, kind), kind 'count', 'share' or 'ratio'.

    Labels that quote a standard (the most deprived deciles, the load maximum) are worded from
    ``standards`` (:attr:`Standards.deprived_label`, :attr:`Standards.load_max_label`), so a
    council's own standards file changes them.
    """
    return {
        "under5": ("Under-5s", "count"),
        "under5_within_reach": ("Under-5s within reach", "count"),
        "share_within_reach": ("Share of under-5s within reach", "share"),
        "share_deprived_within_reach": (
            f"Share in the {standards.deprived_label} areas within reach",
            "share",
        ),
        "share_other_within_reach": ("Share in other areas within reach", "share"),
        "idaci_children_within_reach": ("IDACI children within reach", "count"),
        "share_idaci_within_reach": ("Share of IDACI children within reach", "share"),
        "share_within_short": (f"Share within {standards.short_reach_label}", "share"),
        "share_within_walk": ("Share within the walking standard", "share"),
        "mean_distance_m": ("Mean distance to nearest centre (m)", "count"),
        "centres": ("Centres serving the area", "count"),
        "under5_per_centre": ("Under-5s per centre", "count"),
        "centres_per_1000_under5": ("Centres per 1,000 under-5s", "ratio"),
        "centres_above_load_range": (
            f"Centres above {standards.load_max_label} under-5s",
            "count",
        ),
    }


#: Headline figures under the default standards (:func:`headlines` words them for a run's own).
HEADLINES: dict[str, tuple[str, str]] = headlines(Standards())


@dataclass(frozen=True)
class Comparison:
    """Before and after a scenario: every headline figure, the areas that change, centre loads
    and locality verdicts."""

    before: Evaluation
    after: Evaluation
    #: Numeric headline figures (rows) before, after and the change; verdicts are in
    #: ``before.figures['rag']`` and ``after.figures['rag']``.
    headline: pd.DataFrame
    bands: pd.DataFrame
    areas_changed: pd.DataFrame
    loads: pd.DataFrame
    localities: pd.DataFrame

    @property
    def is_noop(self) -> bool:
        return bool(
            self.areas_changed.empty
            and np.allclose(self.headline["change"].astype(float), 0, equal_nan=True)
            and self.before.figures["rag"] == self.after.figures["rag"]
            and (self.localities["rag_before"] == self.localities["rag_after"]).all()
        )

    @property
    def standards_changed(self) -> list[str]:
        """Each standard the scenario changes, in words: 'reasonable reach 2.5 km -> 2 km'."""
        before, after = self.before.standards.describe(), self.after.standards.describe()
        return [
            f"{_STANDARD_WORDS.get(key, (key, ''))[0]} {_plain(before[key], key)} -> "
            f"{_plain(after[key], key)}"
            for key in before
            if key != "source" and before[key] != after[key]
        ]

    def summary_lines(self) -> list[str]:
        """Plain-English summary of the change, most important first.

        An area that crosses the reach standard is classified by cause: its distance rose
        ("lose reasonable reach") or fell ("gain"), or only the standard moved ("fall outside"
        or "come within the changed reach standard"), so an area whose centre came nearer is
        never said to lose reach."""
        lines = []
        if self.standards_changed:
            lines.append(
                "This scenario changes the standards, so before and after are measured "
                f"differently: {'; '.join(self.standards_changed)}."
            )
        lines.extend(self.after.notes)
        deprived_label = self.before.standards.deprived_label
        changed = self.areas_changed
        for change, verb in (
            ("loses reach", "lose reasonable reach"),
            ("gains reach", "gain reasonable reach"),
            ("outside new standard", "fall outside the changed reach standard"),
            ("inside new standard", "come within the changed reach standard"),
        ):
            rows = changed[changed["change"] == change]
            if len(rows):
                deprived = rows.loc[rows["most_deprived_30"], "under5"].sum()
                lines.append(
                    f"{count(rows['under5'].sum())} under-5s in {len(rows)} small area(s) "
                    f"{verb} ({count(deprived)} of them in the {deprived_label} "
                    f"areas; an estimated {count(rows['under5_income_deprived'].sum())} of them "
                    "in income-deprived families)."
                )
        if changed.empty:
            lines.append("No small area gains or loses reasonable reach.")
        b, a = self.before.figures, self.after.figures
        lines.append(
            f"Share of under-5s in the {deprived_label} areas within reach: "
            f"{whole_share(b['share_deprived_within_reach'])} -> "
            f"{whole_share(a['share_deprived_within_reach'])}."
        )
        lines.append(f"Authority verdict: {b['rag']} -> {a['rag']}.")
        for name, row in self.localities.iterrows():
            if row["rag_before"] != row["rag_after"]:
                lines.append(f"{name}: {row['rag_before']} -> {row['rag_after']}.")
        return lines


#: Standards fields in words, with their unit, for the summary of a scenario that changes them.
_STANDARD_WORDS: dict[str, tuple[str, str]] = {
    "reach_km": ("reasonable reach", " km"),
    "rural_reach_km": ("rural reasonable reach", " km"),
    "short_reach_km": ("short distance", " km"),
    "walk_minutes": ("walking standard", " minutes"),
    "walk_speed_kmh": ("walking speed", " km/h"),
    "walk_circuity": ("walking circuity factor", ""),
    "load_target": ("target under-5s per centre", ""),
    "load_min": ("fewest under-5s per centre", ""),
    "load_max": ("most under-5s per centre", ""),
    "most_deprived_deciles": ("most deprived IMD deciles", ""),
}


def _plain(value: Any, key: str) -> str:
    unit = _STANDARD_WORDS.get(key, ("", ""))[1]
    if value is None:
        return "none"
    return (f"{value:g}" if isinstance(value, float) else str(value)) + unit


def _reach_change(within_after: np.ndarray, before_m: np.ndarray, after_m: np.ndarray) -> Any:
    """Why an area crossed the reach standard: its distance rose ('loses reach') or fell
    ('gains reach'), or, with the distance no worse (no better), only the standard moved."""
    return np.select(
        [
            within_after & (after_m < before_m),
            within_after,
            after_m > before_m,
        ],
        ["gains reach", "inside new standard", "loses reach"],
        default="outside new standard",
    )


def compare(before: Evaluation, after: Evaluation) -> Comparison:
    """Compare two evaluations of the same areas (``after`` is usually a scenario)."""
    rows = []
    for key, (label, _) in headlines(before.standards).items():
        b, a = before.figures.get(key, np.nan), after.figures.get(key, np.nan)
        rows.append({"figure": label, "before": b, "after": a, "change": a - b})
    headline = pd.DataFrame(rows).set_index("figure")
    bands = pd.DataFrame(
        {
            "under5": before.bands["under5"],
            "within_reach_before": before.bands["under5_within_reach"],
            "within_reach_after": after.bands["under5_within_reach"],
            "idaci_within_reach_before": before.bands["idaci_children_within_reach"],
            "idaci_within_reach_after": after.bands["idaci_children_within_reach"],
        }
    )
    bands["change"] = bands["within_reach_after"] - bands["within_reach_before"]
    engine = before._engine
    need = engine.need_for(before.standards).iloc[: engine.residents]
    flip = before.areas["within_reach"] != after.areas["within_reach"]
    areas = engine.areas.loc[flip]
    areas_changed = pd.DataFrame(
        {
            "area_name": areas.get("area_name", pd.Series(areas.index, index=areas.index)),
            "ward_name": areas.get("ward_name", ""),
            "deprivation_band": need.loc[flip, "deprivation_band"].astype(str),
            "most_deprived_30": need.loc[flip, "most_deprived_30"],
            "under5": areas["under5"],
            "idaci_children": areas["idaci_children"],
            "under5_income_deprived": need.loc[flip, "under5_income_deprived"],
            "centre_before": before.areas.loc[flip, "centre_id"],
            "centre_after": after.areas.loc[flip, "centre_id"],
            "distance_before_m": before.areas.loc[flip, "distance_m"],
            "distance_after_m": after.areas.loc[flip, "distance_m"],
            "change": _reach_change(
                after.areas.loc[flip, "within_reach"].to_numpy(bool),
                before.areas.loc[flip, "distance_m"].to_numpy(float),
                after.areas.loc[flip, "distance_m"].to_numpy(float),
            ),
        },
        index=areas.index,
    ).sort_values(["change", "under5"], ascending=[False, False])
    loads = pd.DataFrame(
        {
            "name": after.centres["name"].combine_first(before.centres["name"]),
            "under5_before": before.centres["under5"],
            "under5_after": after.centres["under5"],
            "status_before": before.centres["load_status"],
            "status_after": after.centres["load_status"],
        }
    )
    loads["status_before"] = loads["status_before"].fillna("not open")
    loads["status_after"] = loads["status_after"].fillna("closed")
    loads["change"] = loads["under5_after"].fillna(0) - loads["under5_before"].fillna(0)
    localities = pd.DataFrame(
        {
            "rag_before": before.localities["rag"],
            "rag_after": after.localities["rag"],
            "share_within_reach_before": before.localities["share_within_reach"],
            "share_within_reach_after": after.localities["share_within_reach"],
            "reasons_before": before.localities["reasons"],
            "reasons_after": after.localities["reasons"],
        }
    )
    localities["rag_before"] = localities["rag_before"].fillna("not open")
    localities["rag_after"] = localities["rag_after"].fillna("closed")
    return Comparison(before, after, headline, bands, areas_changed, loads, localities)
