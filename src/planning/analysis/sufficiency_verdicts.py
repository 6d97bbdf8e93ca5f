"""Sufficiency verdicts: red/amber/green with reasons, centre loads, authority and locality figures.

The rules of :func:`verdict` (thresholds in ``standards.yaml``), the load status of each centre
(:func:`load_status`), centre equivalents for centres shared across a boundary
(:func:`resident_shares`), and the figures, verdict and reasons of the authority
(:func:`authority_figures`, :func:`cross_boundary_reasons`) and of each locality
(:func:`locality_table`), all from the count matrix of
:mod:`planning.analysis.sufficiency_counts`. Used by
:func:`planning.analysis.sufficiency.assess_sufficiency` and the scenario engine;
:mod:`planning.analysis.sufficiency` re-exports these names.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from planning._format import count, whole_share
from planning.analysis.sufficiency_counts import group_sums, share_columns
from planning.standards import Standards

__all__ = [
    "RAG_ORDER",
    "authority_figures",
    "cross_boundary_reasons",
    "load_status",
    "locality_table",
    "resident_shares",
    "verdict",
]

RAG_ORDER = {"Green": 0, "Amber": 1, "Red": 2}


def _rate_rag(share: float, green: float, amber: float) -> str:
    return "Green" if share >= green else "Amber" if share >= amber else "Red"


def verdict(
    figures: pd.Series | dict[str, Any],
    standards: Standards,
    *,
    centre_loads: np.ndarray | pd.Series | None = None,
    centre_names: np.ndarray | pd.Series | None = None,
) -> tuple[str, list[str]]:
    """Red/amber/green verdict with one plain-English reason per rule, worst first.

    Rules (thresholds in ``standards.yaml``): the share of under-5s in the most deprived areas
    (:attr:`Standards.deprived_label`, e.g. the 30% most deprived) within reach; the share of all
    under-5s within reach; under-5s per centre against the load range (e.g. 600-1,200; above
    the maximum is amber, above ``red_load_factor`` times it red); each centre's own load against
    the maximum (amber). Every phrase that quotes a standard comes from ``standards``. The verdict is the worst rule's colour.
    """
    s = standards
    reach = f"{s.reach_km:g} km"
    deprived_areas = f"the {s.deprived_label} areas"
    found: list[tuple[str, str]] = []
    deprived = float(figures["deprived_under5"])
    if deprived > 0:
        share = float(figures["share_deprived_within_reach"])
        rag = _rate_rag(share, s.deprived_green, s.deprived_amber)
        if rag == "Green":
            text = (
                f"{whole_share(share)} of under-5s in {deprived_areas} live within "
                f"{reach} of a centre (green needs {whole_share(s.deprived_green)})"
            )
        else:
            text = (
                f"{whole_share(1 - share)} of under-5s in {deprived_areas} live more "
                f"than {reach} from a centre (green needs at least "
                f"{whole_share(s.deprived_green)} within reach, amber "
                f"{whole_share(s.deprived_amber)})"
            )
        found.append((rag, text))
    else:
        found.append(("Green", f"no small area here is in the {s.deprived_label} nationally"))
    share = float(figures["share_within_reach"]) if figures["under5"] > 0 else 1.0
    rag = _rate_rag(share, s.all_green, s.all_amber)
    if rag == "Green":
        text = f"{whole_share(share)} of all under-5s live within {reach} of a centre"
    else:
        text = (
            f"{whole_share(1 - share)} of all under-5s live more than {reach} from a centre "
            f"(green needs at least {whole_share(s.all_green)} within reach, amber "
            f"{whole_share(s.all_amber)})"
        )
    found.append((rag, text))
    # Centres shared with another authority count by the share of their load that lives here
    # (``centre_equivalents``), so no centre's capacity is counted twice.
    centres = float(figures.get("centre_equivalents", figures.get("centres", 0)) or 0)
    if centres > 0:
        per_centre = float(figures["under5"]) / centres
        band = s.load_range_label
        if per_centre > s.red_load_factor * s.load_max:
            found.append(
                (
                    "Red",
                    f"{count(per_centre)} under-5s per centre, far above the {band} range "
                    f"(more than {s.red_load_factor:g} x {s.load_max_label})",
                )
            )
        elif per_centre > s.load_max:
            found.append(
                ("Amber", f"{count(per_centre)} under-5s per centre, above the {band} range")
            )
        elif per_centre < s.load_min:
            found.append(
                (
                    "Green",
                    f"{count(per_centre)} under-5s per centre, below the {band} range: "
                    "generous provision, or room to consolidate",
                )
            )
        else:
            found.append(
                ("Green", f"{count(per_centre)} under-5s per centre, within the {band} range")
            )
    if centre_loads is not None:
        loads = np.asarray(centre_loads, dtype=float)
        names = centre_names if centre_names is not None else getattr(centre_loads, "index", None)
        labels = np.asarray(names if names is not None else np.arange(len(loads)))
        for position in np.argsort(-loads, kind="stable"):
            load, name = loads[position], labels[position]
            if load <= s.load_max:
                break
            found.append(
                (
                    "Amber",
                    f"{name} serves {count(load)} under-5s, above the {s.load_max_label} maximum",
                )
            )
    found.sort(key=lambda item: -RAG_ORDER[item[0]])
    overall = found[0][0]
    return overall, [f"{rag}: {text}" for rag, text in found]


def load_status(load: np.ndarray, standards: Standards) -> np.ndarray:
    """'below range', 'within range' or 'above range' of the standards' under-5s per centre
    (``load_min``-``load_max``, e.g. 600-1,200: :attr:`Standards.load_range_label`)."""
    return np.select(
        [load < standards.load_min, load > standards.load_max],
        ["below range", "above range"],
        default="within range",
    )


def resident_shares(
    resident_load: np.ndarray, load: np.ndarray, neighbour: np.ndarray | None = None
) -> np.ndarray:
    """Each centre's share of its load that lives in the authority: ``r_c / L_c``.

    ``r_c`` is the under-5s of the authority's own residents nearest to centre ``c``, ``L_c``
    all under-5s nearest to it (residents of any authority). A centre that serves nobody counts
    1 if it is one of the council's own centres and 0 if it is a neighbouring authority's
    (``neighbour``). Summed over a group of centres this is the number of *centre
    equivalents* the group gives the authority: a centre shared with a neighbour counts once in
    England, split between the authorities in proportion to the families it serves.

    Examples
    --------
    >>> resident_shares(np.array([500.0, 0.0, 0.0]), np.array([1000.0, 800.0, 0.0]))
    array([0.5, 0. , 1. ])
    """
    resident_load = np.asarray(resident_load, dtype=float)
    load = np.asarray(load, dtype=float)
    idle = np.ones(len(load)) if neighbour is None else (~np.asarray(neighbour, bool)).astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(load > 0, resident_load / np.where(load > 0, load, 1.0), idle)


def authority_figures(
    counts: np.ndarray,
    centre_under5: pd.Series | np.ndarray,
    standards: Standards,
    *,
    centre_names: pd.Series | np.ndarray,
    areas_served: np.ndarray,
    in_authority: pd.Series | np.ndarray | None = None,
    resident_under5: np.ndarray | None = None,
) -> dict[str, Any]:
    """Authority-wide figures, verdict and reasons from the count matrix and centre loads.

    ``counts`` holds the authority's own residents only (one row per resident area);
    ``centre_under5`` each centre's whole load (residents of any authority) and
    ``resident_under5`` the part of it that lives in the authority (default: all of it).
    ``centres`` counts the centres serving at least one resident area (``areas_served > 0``);
    ``centre_equivalents`` = ``sum_c r_c / L_c`` over them (:func:`resident_shares`), and
    ``under5_per_centre`` = residents' under-5s / centre equivalents, so a centre shared with a
    neighbour is never counted twice. ``centres_per_1000_under5`` (IFS's exposure measure) uses
    the equivalents too. ``under5_nearest_outside``: residents' under-5s whose nearest centre
    is outside the authority.
    """
    total = share_columns(counts.sum(axis=0, keepdims=True))
    figures: dict[str, Any] = {k: _plain(v[0]) for k, v in total.items()}
    load = np.asarray(centre_under5, dtype=float)
    resident = load if resident_under5 is None else np.asarray(resident_under5, dtype=float)
    served = np.asarray(areas_served) > 0
    figures["centres"] = int(served.sum())
    figures["centres_listed"] = len(centre_under5)
    figures["centre_equivalents"] = float(resident_shares(resident[served], load[served]).sum())
    if in_authority is not None:
        # NA (not known) is neither inside nor outside: it is never counted as outside.
        if isinstance(in_authority, np.ndarray) and in_authority.dtype == bool:
            inside, outside = in_authority, ~in_authority  # every flag known (the engine's)
        else:
            flags = pd.Series(in_authority).astype("boolean").to_numpy(dtype=object, na_value=None)
            inside = np.array([flag is True for flag in flags], dtype=bool)
            outside = np.array([flag is False for flag in flags], dtype=bool)
        figures["centres_in_authority"] = int(inside.sum())
        figures["centres_outside_serving"] = int((outside & served).sum())
        figures["under5_nearest_outside"] = float(resident[outside].sum())
        if not (inside | outside).all():
            figures["centres_in_authority_unknown"] = int((~(inside | outside)).sum())
    equivalents = figures["centre_equivalents"]
    figures["under5_per_centre"] = figures["under5"] / equivalents if equivalents > 0 else np.nan
    figures["centres_per_1000_under5"] = 1000 * equivalents / max(figures["under5"], 1)
    status = load_status(load[served], standards)
    figures["centres_above_load_range"] = int((status == "above range").sum())
    figures["centres_below_load_range"] = int((status == "below range").sum())
    rag, why = verdict(
        figures,
        standards,
        centre_loads=load[served],
        centre_names=np.asarray(centre_names, dtype=object)[served],
    )
    figures["rag"] = rag
    figures["reasons"] = why + cross_boundary_reasons(figures, centre_under5, in_authority)
    return figures


def cross_boundary_reasons(
    figures: dict[str, Any],
    centre_under5: pd.Series | np.ndarray,
    in_authority: pd.Series | np.ndarray | None,
) -> list[str]:
    """Plain sentences on how far the verdict rests on centres across the boundary (no colour:
    they explain the rules above rather than add one)."""
    outside = figures.get("under5_nearest_outside", 0.0) or 0.0
    if in_authority is None or outside <= 0 or figures["under5"] <= 0:
        return []
    return [
        f"Across the boundary: {count(outside)} of the authority's under-5s "
        f"({whole_share(outside / figures['under5'])}) are nearest to a centre in another "
        f"authority ({figures.get('centres_outside_serving', 0)} centre(s)); those centres' "
        "loads include the families of both authorities, and they count here only in "
        "proportion to the families they serve from this authority."
    ]


def locality_table(
    counts: np.ndarray,
    area_centre: np.ndarray,
    centre_locality: pd.Series | np.ndarray,
    centre_under5: pd.Series | np.ndarray,
    standards: Standards,
    *,
    centre_names: pd.Series | np.ndarray,
    resident_under5: np.ndarray | None = None,
    neighbour: np.ndarray | None = None,
) -> pd.DataFrame:
    """Figures, verdict and reasons for each locality (the localities of the centres listed).

    Areas (the authority's own residents, one row of ``counts`` each) belong to the locality of
    the centre that serves them (``area_centre`` holds the centre's position in
    ``centre_locality``); a locality's centres are the centres listed in it, counted as
    centre equivalents (:func:`resident_shares`) for ``under5_per_centre``.
    """
    codes, labels = pd.factorize(np.asarray(centre_locality, dtype=object), sort=True)
    data = share_columns(group_sums(counts, codes[area_centre], len(labels)))
    loads = np.asarray(centre_under5, dtype=float)
    resident = loads if resident_under5 is None else np.asarray(resident_under5, dtype=float)
    shares = resident_shares(resident, loads, neighbour)
    data["centres"] = np.bincount(codes, minlength=len(labels))
    equivalents = np.bincount(codes, weights=shares, minlength=len(labels))
    data["centre_equivalents"] = equivalents
    with np.errstate(divide="ignore", invalid="ignore"):
        data["under5_per_centre"] = np.where(
            equivalents > 0, data["under5"] / np.where(equivalents > 0, equivalents, 1), np.nan
        )
    # The verdict reads a row's figures; they are taken from the arrays (one frame built, once).
    rule_columns = (
        "under5",
        "deprived_under5",
        "share_deprived_within_reach",
        "share_within_reach",
        "centre_equivalents",
        "centres",
    )
    rags, reasons = [], []
    names = np.asarray(centre_names, dtype=object)
    for position in range(len(labels)):
        members = codes == position
        row = {key: data[key][position].item() for key in rule_columns}
        rag, why = verdict(row, standards, centre_loads=loads[members], centre_names=names[members])
        rags.append(rag)
        reasons.append(why)
    data["rag"] = np.array(rags, dtype=object)
    data["reasons"] = pd.Series(reasons, dtype=object).to_numpy()
    return pd.DataFrame(data, index=pd.Index(labels, name="locality"))


def _plain(value: Any) -> Any:
    if isinstance(value, (np.floating, float)):
        return float(value)
    if isinstance(value, (np.integer, int)):
        return int(value)
    return value
