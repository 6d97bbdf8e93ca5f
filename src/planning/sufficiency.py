"""Sufficiency of children's centre provision (Childcare Act 2006 s.5A).

Applies the standards (``standards.yaml``) to every small area, centre, locality, ward and the
authority as a whole, and gives a red/amber/green verdict with plain-English reasons.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from planning._errors import ValidationError
from planning._validate import Problems, require_non_empty, require_projected, require_unique_index
from planning.accessibility import (
    area_points,
    centre_points,
    pairs_within,
    two_step_fca,
    walking_minutes,
)
from planning.catchments import assign_catchments, centre_localities
from planning.config import Standards
from planning.need import assess_need

RAG_ORDER = {"Green": 0, "Amber": 1, "Red": 2}

#: Counts summed over a group before shares are taken (never sum the shares themselves).
_SUMMED = [
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
]


@dataclass(frozen=True)
class SufficiencyResult:
    """Everything a sufficiency assessment produces.

    Attributes
    ----------
    areas : GeoDataFrame
        One row per small area (input index and columns kept) with need, centre, distance and
        reach flags.
    centres : GeoDataFrame
        One row per centre with its catchment's under-5s (its load) and load status.
    localities, wards : DataFrame
        Aggregates with shares within reach; localities also carry ``rag`` and ``reasons``.
    authority : dict
        Authority-wide figures, ``rag`` and ``reasons``.
    standards : Standards
        The standards applied.
    notes : list of str
        Caveats every output must carry (illustrative centres, estimated IDACI counts).
    """

    areas: gpd.GeoDataFrame
    centres: gpd.GeoDataFrame
    localities: pd.DataFrame
    wards: pd.DataFrame
    authority: dict[str, Any]
    standards: Standards
    notes: list[str] = field(default_factory=list)

    def to_frame(self) -> gpd.GeoDataFrame:
        """The per-area table (the main result), aligned to the input areas."""
        return self.areas


def _validate_centres(centres: gpd.GeoDataFrame) -> None:
    require_non_empty(centres, "centres", "centre")
    require_projected(centres, "centres")
    problems = Problems("centres")
    require_unique_index(centres, "centre id", problems)
    if not (centres.geometry.geom_type == "Point").all():
        problems.add("every centre must be a point geometry")
    problems.raise_if_any()


def area_measures(
    areas: gpd.GeoDataFrame, centres: gpd.GeoDataFrame, standards: Standards
) -> pd.DataFrame:
    """Need, nearest centre, distance, walking time and reach flags for each area.

    ``within_reach``: distance to the nearest centre <= the reach standard (the rural standard
    for rural areas when one is set); ``within_short``: <= the short distance (1 mile);
    ``within_walk``: walking minutes <= the walking standard.
    """
    need = assess_need(
        areas,
        weights=standards.need_weights,
        normaliser=standards.need_normaliser,
        most_deprived_deciles=standards.most_deprived_deciles,
    )
    catchment = assign_catchments(areas, centres)
    rural = areas["rural"].astype(bool) if "rural" in areas else pd.Series(False, areas.index)
    reach_m = np.where(rural, standards.rural_reach_m, standards.reach_m)
    minutes = walking_minutes(
        catchment["distance_m"], speed_kmh=standards.walk_speed_kmh, circuity=standards.walk_circuity
    )
    localities = centre_localities(centres)
    out = need.join(catchment)
    out["centre_name"] = out["centre_id"].map(centres["name"]) if "name" in centres else out[
        "centre_id"
    ]
    out["locality"] = out["centre_id"].map(localities)
    out["walk_minutes"] = minutes
    out["reach_standard_m"] = reach_m
    out["within_reach"] = out["distance_m"] <= reach_m
    out["within_short"] = out["distance_m"] <= standards.short_reach_m
    out["within_walk"] = minutes <= standards.walk_minutes
    return out


def _weighted_columns(frame: pd.DataFrame) -> pd.DataFrame:
    u5 = frame["under5"].astype(float)
    deprived = frame["most_deprived_30"].astype(bool)
    reach = frame["within_reach"].astype(bool)
    return pd.DataFrame(
        {
            "under5": u5,
            "idaci_children": frame["idaci_children"].astype(float),
            "under5_income_deprived": frame["under5_income_deprived"],
            "under5_within_reach": u5 * reach,
            "under5_within_short": u5 * frame["within_short"],
            "under5_within_walk": u5 * frame["within_walk"],
            "deprived_under5": u5 * deprived,
            "deprived_under5_within_reach": u5 * (deprived & reach),
            "other_under5": u5 * ~deprived,
            "other_under5_within_reach": u5 * (~deprived & reach),
            "idaci_children_within_reach": frame["idaci_children"] * reach,
            "under5_distance_m": u5 * frame["distance_m"],
            "areas": 1,
            "idaci_estimated_areas": frame.get("idaci_estimated", False) * 1,
        },
        index=frame.index,
    )


def _shares(sums: pd.DataFrame) -> pd.DataFrame:
    def ratio(numerator: str, denominator: str) -> pd.Series:
        d = sums[denominator]
        return (sums[numerator] / d.where(d > 0)).astype(float)

    out = sums.copy()
    out["share_within_reach"] = ratio("under5_within_reach", "under5")
    out["share_within_short"] = ratio("under5_within_short", "under5")
    out["share_within_walk"] = ratio("under5_within_walk", "under5")
    out["share_deprived_within_reach"] = ratio("deprived_under5_within_reach", "deprived_under5")
    out["share_other_within_reach"] = ratio("other_under5_within_reach", "other_under5")
    out["share_idaci_within_reach"] = ratio("idaci_children_within_reach", "idaci_children")
    out["mean_distance_m"] = ratio("under5_distance_m", "under5")
    return out.drop(columns=["under5_distance_m"])


def summarise(frame: pd.DataFrame, by: str | None = None) -> pd.DataFrame:
    """Sum counts over groups of areas, then take shares (counts and rates never mixed).

    ``share_within_reach = sum(under5 * within_reach) / sum(under5)``; likewise for the 1-mile and
    walking standards, for the 30% most deprived areas (``share_deprived_within_reach``), the rest
    (``share_other_within_reach``) and IDACI children. ``mean_distance_m`` is under-5-weighted.
    """
    weighted = _weighted_columns(frame)
    if by is None:
        sums = weighted.sum().to_frame().T
    else:
        sums = weighted.groupby(frame[by], observed=True, sort=True).sum()
    return _shares(sums)


def _pct(share: float) -> str:
    return f"{100 * share:.0f}%"


def _rate_rag(share: float, green: float, amber: float) -> str:
    return "Green" if share >= green else "Amber" if share >= amber else "Red"


def verdict(
    figures: pd.Series | dict[str, Any],
    standards: Standards,
    *,
    centre_loads: pd.Series | None = None,
    centre_names: pd.Series | None = None,
) -> tuple[str, list[str]]:
    """Red/amber/green verdict with one plain-English reason per rule, worst first.

    Rules (thresholds in ``standards.yaml``): the share of under-5s in the 30% most deprived areas
    within reach; the share of all under-5s within reach; under-5s per centre against the
    600-1,200 range (above the maximum is amber, above ``red_load_factor`` times it red); each
    centre's own load against the maximum (amber). The verdict is the worst rule's colour.
    """
    s = standards
    reach = f"{s.reach_km:g} km"
    found: list[tuple[str, str]] = []
    deprived = float(figures["deprived_under5"])
    if deprived > 0:
        share = float(figures["share_deprived_within_reach"])
        rag = _rate_rag(share, s.deprived_green, s.deprived_amber)
        if rag == "Green":
            text = (
                f"{_pct(share)} of under-5s in the 30% most deprived areas live within {reach} "
                f"of a centre (green needs {_pct(s.deprived_green)})"
            )
        else:
            text = (
                f"{_pct(1 - share)} of under-5s in the 30% most deprived areas live more than "
                f"{reach} from a centre (green needs at least {_pct(s.deprived_green)} within "
                f"reach, amber {_pct(s.deprived_amber)})"
            )
        found.append((rag, text))
    else:
        found.append(("Green", "no small area here is in the 30% most deprived nationally"))
    share = float(figures["share_within_reach"]) if figures["under5"] > 0 else 1.0
    rag = _rate_rag(share, s.all_green, s.all_amber)
    if rag == "Green":
        text = f"{_pct(share)} of all under-5s live within {reach} of a centre"
    else:
        text = (
            f"{_pct(1 - share)} of all under-5s live more than {reach} from a centre (green needs "
            f"at least {_pct(s.all_green)} within reach, amber {_pct(s.all_amber)})"
        )
    found.append((rag, text))
    centres = float(figures.get("centres", 0) or 0)
    if centres > 0:
        per_centre = float(figures["under5"]) / centres
        band = f"{s.load_min:,.0f}-{s.load_max:,.0f}"
        if per_centre > s.red_load_factor * s.load_max:
            found.append(
                ("Red", f"{per_centre:,.0f} under-5s per centre, far above the {band} range "
                 f"(more than {s.red_load_factor:g} x {s.load_max:,.0f})")
            )
        elif per_centre > s.load_max:
            found.append(("Amber", f"{per_centre:,.0f} under-5s per centre, above the {band} range"))
        elif per_centre < s.load_min:
            found.append(
                ("Green", f"{per_centre:,.0f} under-5s per centre, below the {band} range: "
                 "generous provision, or room to consolidate")
            )
        else:
            found.append(("Green", f"{per_centre:,.0f} under-5s per centre, within the {band} range"))
    if centre_loads is not None:
        over = centre_loads[centre_loads > s.load_max].sort_values(ascending=False)
        for centre_id, load in over.items():
            name = centre_names.get(centre_id, centre_id) if centre_names is not None else centre_id
            found.append(
                ("Amber", f"{name} serves {load:,.0f} under-5s, above the {s.load_max:,.0f} maximum")
            )
    found.sort(key=lambda item: -RAG_ORDER[item[0]])
    overall = found[0][0]
    return overall, [f"{rag}: {text}" for rag, text in found]


def _load_status(load: pd.Series, standards: Standards) -> pd.Series:
    status = np.select(
        [load < standards.load_min, load > standards.load_max],
        ["below range", "above range"],
        default="within range",
    )
    return pd.Series(status, index=load.index)


def _capacity(centres: gpd.GeoDataFrame) -> pd.Series | None:
    if "capacity" not in centres:
        return None
    capacity = pd.to_numeric(centres["capacity"], errors="coerce")
    if capacity.isna().all():
        return None
    if capacity.isna().any():
        missing = ", ".join(map(str, centres.index[capacity.isna()][:5]))
        raise ValidationError(
            f"centres: capacity is given for some centres but not for {missing}; give every "
            "centre a capacity (the two-step floating catchment needs all) or leave the column empty"
        )
    return capacity


def assess_sufficiency(
    areas: gpd.GeoDataFrame,
    centres: gpd.GeoDataFrame,
    *,
    standards: Standards | None = None,
) -> SufficiencyResult:
    """Apply the sufficiency standards to an authority's areas and centres.

    Parameters
    ----------
    areas : GeoDataFrame
        Small areas in EPSG:27700, indexed by area code, with ``under5``, ``children_0_15``,
        ``idaci_children``, ``imd_decile``, ``imd_score`` (see :func:`planning.load_areas`).
    centres : GeoDataFrame
        Centres in EPSG:27700, indexed by ``centre_id``, with ``name`` and optionally
        ``locality``, ``kind``, ``capacity`` (see :func:`planning.io.read_centres`).
    standards : Standards, optional
        Defaults to the packaged ``standards.yaml``.

    Returns
    -------
    SufficiencyResult
    """
    if standards is None:
        from planning.config import load_standards

        standards = load_standards()
    require_non_empty(areas, "areas", "small area")
    require_projected(areas, "areas")
    _validate_centres(centres)
    measures = area_measures(areas, centres, standards)
    area_table = areas.join(measures)

    # ---- centres -------------------------------------------------------------------------
    by_centre = summarise(area_table, by="centre_id").reindex(centres.index)
    counts = ["under5", "idaci_children", "under5_income_deprived", "areas"]
    by_centre[counts] = by_centre[counts].fillna(0)
    centre_table = centres.copy()
    centre_table["locality"] = centre_localities(centres)
    centre_table["under5"] = by_centre["under5"]
    centre_table["idaci_children"] = by_centre["idaci_children"]
    centre_table["under5_income_deprived"] = by_centre["under5_income_deprived"]
    centre_table["areas_served"] = by_centre["areas"].astype(int)
    centre_table["share_within_reach"] = by_centre["share_within_reach"]
    centre_table["load_ratio"] = centre_table["under5"] / standards.load_target
    centre_table["load_status"] = _load_status(centre_table["under5"], standards)
    capacity = _capacity(centres)
    if capacity is not None:
        origin, destination, metres = pairs_within(
            area_points(areas), centre_points(centres), standards.reach_m
        )
        access, ratio = two_step_fca(
            areas["under5"].to_numpy(dtype=float),
            capacity.to_numpy(dtype=float),
            origin,
            destination,
            metres,
            max_metres=standards.reach_m,
        )
        area_table["places_per_under5_2sfca"] = access
        centre_table["places_per_under5_in_reach"] = ratio
        centre_table["places_per_catchment_under5"] = capacity / centre_table["under5"].where(
            centre_table["under5"] > 0
        )

    # ---- localities, wards, authority ---------------------------------------------------
    localities = summarise(area_table, by="locality")
    centres_per_locality = centre_table.groupby("locality").size()
    localities = localities.reindex(centres_per_locality.index.union(localities.index))
    localities = localities.fillna({c: 0 for c in _SUMMED if c != "under5_distance_m"})
    localities["centres"] = centres_per_locality.reindex(localities.index).fillna(0).astype(int)
    rags, reasons = [], []
    for name, row in localities.iterrows():
        members = centre_table[centre_table["locality"] == name]
        rag, why = verdict(
            row, standards, centre_loads=members["under5"], centre_names=members["name"]
        )
        rags.append(rag)
        reasons.append(why)
    localities["under5_per_centre"] = localities["under5"] / localities["centres"].where(
        localities["centres"] > 0
    )
    localities["rag"] = rags
    localities["reasons"] = reasons
    localities.index.name = "locality"

    wards = summarise(area_table, by="ward_name") if "ward_name" in area_table else pd.DataFrame()
    total = summarise(area_table).iloc[0]
    serving = centre_table[centre_table["areas_served"] > 0]
    figures: dict[str, Any] = {k: _plain(v) for k, v in total.items()}
    figures["centres"] = int(len(serving))
    figures["centres_listed"] = int(len(centre_table))
    if "in_authority" in centre_table:
        inside = centre_table["in_authority"].astype("boolean").fillna(False)
        figures["centres_in_authority"] = int(inside.sum())
        figures["centres_outside_serving"] = int((~inside & (centre_table["areas_served"] > 0)).sum())
    figures["under5_per_centre"] = figures["under5"] / max(figures["centres"], 1)
    figures["centres_per_1000_under5"] = 1000 * figures["centres"] / max(figures["under5"], 1)
    figures["centres_above_load_range"] = int((centre_table["load_status"] == "above range").sum())
    figures["centres_below_load_range"] = int((centre_table["load_status"] == "below range").sum())
    rag, why = verdict(
        figures, standards, centre_loads=centre_table["under5"], centre_names=centre_table["name"]
    )
    figures["rag"] = rag
    figures["reasons"] = why
    if "utla_code" in areas and areas["utla_code"].nunique() == 1:
        figures["authority_code"] = str(areas["utla_code"].iloc[0])
        figures["authority_name"] = str(areas["utla_name"].iloc[0])
    return SufficiencyResult(
        areas=gpd.GeoDataFrame(area_table, geometry=areas.geometry.name, crs=areas.crs),
        centres=gpd.GeoDataFrame(centre_table, geometry=centres.geometry.name, crs=centres.crs),
        localities=localities,
        wards=wards,
        authority=figures,
        standards=standards,
        notes=result_notes(area_table, centre_table),
    )


def _plain(value: Any) -> Any:
    if isinstance(value, (np.floating, float)):
        return float(value)
    if isinstance(value, (np.integer, int)):
        return int(value)
    return value


ILLUSTRATIVE_NOTE = (
    "The centres used are ILLUSTRATIVE sites, not the council's real centres: they were placed by "
    "under-5-weighted k-means over real small-area demand (data/centres/README.md). Supply the "
    "council's own centres file with --centres FILE (format in data/centres/README.md) before "
    "relying on any figure."
)


def result_notes(areas: pd.DataFrame, centres: pd.DataFrame) -> list[str]:
    """Caveats that every output of this result must carry."""
    notes = []
    if "source" in centres and (centres["source"].astype(str) == "illustrative").any():
        notes.append(ILLUSTRATIVE_NOTE)
    if "idaci_estimated" in areas and areas["idaci_estimated"].astype(bool).any():
        n = int(areas["idaci_estimated"].astype(bool).sum())
        notes.append(
            f"{n} small area(s) have an IDACI count suppressed in the published indicators "
            "(fewer than 10 children); their count is estimated within 0-9 and flagged "
            "'idaci_estimated' (method in data/README.md)."
        )
    return notes
