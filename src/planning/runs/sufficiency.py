"""The sufficiency run as planners and the command line use it: load, assess, write.

``run_sufficiency`` loads an authority's embedded data, a centres file and a standards file and
assesses them; ``write_sufficiency_outputs`` writes the tables, GeoPackage and summary.json into a
folder atomically (a failed run leaves no half-written folder behind).
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from planning import settings
from planning._files import atomic_directory, file_sha256, input_label, json_safe, write_json
from planning.analysis.sufficiency import SufficiencyResult, assess_sufficiency
from planning.inputs.areas import (
    ATTRIBUTION,
    DATA_VINTAGES,
    VINTAGE_FILES,
    authority_boundary,
    load_areas,
    resolve_authority,
)
from planning.inputs.centres import read_centres
from planning.inputs.safe_csv import write_csv
from planning.standards import Standards, load_standards
from planning.standards import standards_file as resolve_standards_file


@dataclass(frozen=True)
class SufficiencyRun:
    """A sufficiency result with the inputs that produced it (for provenance)."""

    result: SufficiencyResult
    authority_code: str
    authority_name: str
    inputs: dict[str, Any]
    #: Service-level sufficiency (:mod:`planning.analysis.services`) when the standards ask for
    #: it (``services.assess``); its rules are already in ``result``'s verdicts.
    services: Any = None


def run_sufficiency(
    authority: str = settings.DEFAULT_AUTHORITY,
    *,
    centres: str | Path | None = None,
    standards: str | Path | Standards | None = None,
    layer: str | None = None,
    neighbour_centres: str | Path | None = None,
    cross_boundary: bool = True,
    network: str | Path | None = None,
) -> SufficiencyRun:
    """Load an authority's data, its centres and standards, and assess sufficiency.

    No authority is assessed as an island (:mod:`planning.inputs.neighbours`): the small areas
    of other authorities within the buffer of its boundary (the largest reach standard plus
    5 km) and the centres of other authorities near it are assessed alongside, so that border
    families use their nearest centre whichever council runs it and shared centres carry both
    authorities' families. Every figure is for the authority's own residents.

    Parameters
    ----------
    authority : str
        Upper-tier authority code or name (default Derby, E06000015).
    centres : path, optional
        Centres file (CSV, GeoJSON or GeoPackage); default: the authority's illustrative sites
        (shipped for Derby and Thurrock, otherwise placed by
        :func:`planning.inputs.illustrative.illustrative_centres`), flagged as illustrative in every
        output. It may list centres outside the authority too.
    standards : path or Standards, optional
        Standards YAML; default: the packaged ``standards.yaml``.
    layer : str, optional
        The layer of a GeoPackage centres file that holds the centres (``--layer``).
    neighbour_centres : path, optional
        Other authorities' centres (``--neighbour-centres``): any centres format, or a GIAS
        extract (national or not); the centres near the boundary are taken. Default: the
        illustrative national network.
    cross_boundary : bool
        ``False`` assesses the authority as an island (its own areas and centres file only),
        for comparison with the cross-boundary model.
    network : path, optional
        A street network file (``--network``): an OpenStreetMap extract (``.osm.pbf``) or a
        GraphML file, read by :func:`planning.inputs.network.read_network` (walking graph,
        cached next to the file). Distances are then measured along it
        (:class:`planning.analysis.network_distance.NetworkDistances`) for the authority's
        areas, its neighbours' and every centre.
    """
    code, name = resolve_authority(authority)
    areas = load_areas(code)
    from planning.inputs.illustrative import resolve_centres
    from planning.inputs.neighbours import buffer_metres

    centres_path = resolve_centres(code, centres)
    if isinstance(standards, Standards):
        applied, standards_file = standards, None
    else:
        applied = load_standards(standards)
        # the packaged default is a file too: its hash identifies the standards applied
        standards_file = (
            resolve_standards_file(standards)
            if standards is not None
            else settings.package_path("standards.yaml")
        )
    centre_frame = read_centres(centres_path, areas=areas, layer=layer)
    distances = None
    if network is not None:
        from planning.analysis.network_distance import NetworkDistances, largest_reach_metres
        from planning.inputs.network import read_network

        street = read_network(network)
        distances = NetworkDistances(street, max_metres=largest_reach_metres(applied))
    neighbours = None
    supply = centre_frame
    if cross_boundary:
        supply, neighbours, supply_notes = cross_boundary_inputs(
            areas,
            centre_frame,
            applied,
            neighbour_centres=neighbour_centres,
            distances=distances,
        )
    result = assess_sufficiency(
        areas, supply, standards=applied, neighbours=neighbours, distances=distances
    )
    if cross_boundary:
        result.notes.extend(supply_notes)
    services = None
    if applied.services_assess:
        from planning.analysis.services import services_for_result, with_service_verdicts

        services = services_for_result(result, source=input_label(centres_path))
        result = with_service_verdicts(result, services)
    data_file = settings.DATA_DIR / VINTAGE_FILES[2021]
    inputs: dict[str, Any] = {
        "centres_file": input_label(centres_path),
        "centres_sha256": file_sha256(centres_path),
        "standards_file": input_label(standards_file) if standards_file else "given in code",
        "standards_sha256": file_sha256(standards_file) if standards_file else None,
        "data_file": data_file.name,
        "data_sha256": file_sha256(data_file),
    }
    if cross_boundary:
        from planning.inputs.neighbours import national_network_path

        supply_file = (
            Path(neighbour_centres) if neighbour_centres is not None else national_network_path()
        )
        inputs |= {
            "neighbour_centres_file": input_label(supply_file)
            if neighbour_centres is not None
            else f"illustrative national network ({supply_file.name})",
            "neighbour_centres_sha256": file_sha256(supply_file),
            "neighbour_buffer_m": buffer_metres(applied),
            "neighbour_areas": len(neighbours) if neighbours is not None else 0,
        }
    else:
        inputs["cross_boundary"] = "off: the authority was assessed as an island"
    if distances is not None and network is not None:
        street = distances.network
        inputs |= {
            "network_file": input_label(network),
            "network_sha256": street.sha256,
            "network_graph": f"{street.mode}: {street.n_nodes} nodes, {street.n_edges} edges",
            "network_cache": str(street.cache_path) if street.cache_path else None,
        }
    if services is not None:
        inputs["service_vocabulary"] = services.vocabulary.source
    return SufficiencyRun(
        result=result, authority_code=code, authority_name=name, inputs=inputs, services=services
    )


def cross_boundary_inputs(
    areas: gpd.GeoDataFrame,
    centres: gpd.GeoDataFrame,
    standards: Standards,
    *,
    neighbour_centres: str | Path | None = None,
    distances: Any = None,
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, list[str]]:
    """What an authority is assessed with besides its own areas and centres file.

    Returns ``(supply, neighbours, notes)``: the council's centres followed by other
    authorities' centres near the boundary (:func:`planning.inputs.neighbours.neighbour_centres`,
    flagged ``neighbour``), the other authorities' areas within the buffer plus the catchment
    completion (:func:`complete_catchments`, along the street network when ``distances`` is
    one), and notes on what was left out.
    """
    from planning.inputs.neighbours import (
        buffer_metres,
        neighbour_areas,
        neighbour_sites,
    )
    from planning.inputs.neighbours import (
        neighbour_centres as find_neighbour_centres,
    )

    boundary = authority_boundary(areas)
    neighbours = neighbour_areas(areas, buffer_metres(standards), boundary=boundary)
    sites = neighbour_sites(neighbour_centres)
    others, notes = find_neighbour_centres(
        areas,
        centres,
        standards=standards,
        source=neighbour_centres,
        boundary=boundary,
        sites=sites,
    )
    supply = _with_neighbours(centres, others)
    completed = complete_catchments(areas, neighbours, supply, sites, distances=distances)
    return supply, completed, notes


def complete_catchments(
    areas: gpd.GeoDataFrame,
    neighbours: gpd.GeoDataFrame,
    supply: gpd.GeoDataFrame,
    sites: gpd.GeoDataFrame,
    *,
    distances: Any = None,
    candidates: gpd.GeoDataFrame | None = None,
) -> gpd.GeoDataFrame:
    """The neighbouring areas, plus any area beyond the buffer nearest to a centre the
    authority's residents use, so that every such centre's load is complete.

    Where centres are sparse a catchment runs past the buffer (reach + 5 km). Every English
    small area not yet assessed is assigned, by the one nearest-centre rule, to the supply and
    every other site of the neighbours' list (``sites``, so that an area whose own nearest
    centre lies far off is not pulled towards the supply); those nearest to a centre that serves
    the authority's residents join the assessment. ``benchmarks/bench_neighbours.py`` measures
    the effect on the illustrative national network (99.6% of the loads of centres serving an
    authority's residents then match the national run).

    Parameters
    ----------
    distances : NetworkDistances, optional
        A street network: "nearest" is then along its streets (one multi-source search over
        the whole graph) for the residents and for every candidate area that snaps to it within
        250 m, so the completion follows the same rule as the catchments it completes. A river
        can make an area's nearest centre by street a different one from its nearest in a
        straight line. Areas the extract does not reach keep the straight-line rule.
    candidates : GeoDataFrame, optional
        The small areas that may join (with ``point_easting`` / ``point_northing``); default
        every English small area.
    """
    from planning.analysis.distance import area_points, centre_points, nearest

    supply_xy = centre_points(supply)
    site_xy = centre_points(sites, source="neighbour centres")
    if distances is None:
        serving = np.unique(nearest(area_points(areas), supply_xy)[0])
    else:
        serving = np.unique(distances.nearest(area_points(areas), supply_xy)[0])
    points = _candidate_points(candidates)
    xy = points[["point_easting", "point_northing"]].to_numpy(float)
    # The nearest of supply + sites, with the supply first on a tie: the supply's nearest
    # centre when it is no farther than the nearest site. The sites' distances are the same
    # for every authority using the same list, so they are kept for the process.
    supply_index, supply_metres = nearest(xy, supply_xy)
    if candidates is None:
        site_metres = _nearest_site_metres(site_xy.tobytes(), len(site_xy))
    else:
        site_metres = nearest(xy, site_xy)[1] if len(site_xy) else np.full(len(xy), np.inf)
    to_supply = supply_metres <= site_metres + 1e-3
    known = points.index.isin(areas.index) | points.index.isin(neighbours.index)
    if distances is not None:
        # Along the streets where the extract reaches: supply first, so a centre listed in
        # both (or a tie at one node) goes to the supply, as in the straight-line rule.
        reached = ~known & ~distances.snap(xy).far
        if reached.any():
            rows = np.flatnonzero(reached)
            index, metres = distances.nearest(xy[rows], np.vstack([supply_xy, site_xy]))
            # a node no centre can be reached from keeps the straight-line rule
            rows, index = rows[np.isfinite(metres)], index[np.isfinite(metres)]
            to_supply[rows] = index < len(supply_xy)
            supply_index[rows] = np.where(index < len(supply_xy), index, -1)
    extra = points.index[~known & to_supply & np.isin(supply_index, serving)]
    if len(extra) == 0:
        return neighbours
    more = _candidate_areas(candidates, extra)
    combined = pd.concat([neighbours, more.reindex(columns=neighbours.columns)])
    return gpd.GeoDataFrame(combined, geometry=neighbours.geometry.name, crs=neighbours.crs)


def _candidate_points(candidates: gpd.GeoDataFrame | None) -> pd.DataFrame:
    """The points of the areas that may join a catchment: every English small area by default."""
    from planning.inputs.neighbours import national_points

    return national_points() if candidates is None else candidates


def _candidate_areas(candidates: gpd.GeoDataFrame | None, codes: pd.Index) -> gpd.GeoDataFrame:
    """The rows of the areas that join, each with its point as geometry."""
    from planning.inputs.neighbours import areas_by_code

    return areas_by_code(codes) if candidates is None else candidates.loc[codes]


@functools.lru_cache(maxsize=4)
def _nearest_site_metres(site_bytes: bytes, n_sites: int) -> np.ndarray:
    """Metres from every English small area's point to the nearest of the given sites."""
    from planning.analysis.distance import nearest
    from planning.inputs.neighbours import national_points

    sites = np.frombuffer(site_bytes, dtype=float).reshape(n_sites, 2)
    points = national_points()[["point_easting", "point_northing"]].to_numpy(float)
    if n_sites == 0:
        return np.full(len(points), np.inf)
    metres = nearest(points, sites)[1]
    metres.setflags(write=False)
    return metres


def _with_neighbours(own: gpd.GeoDataFrame, others: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The council's centres followed by other authorities' (flagged ``neighbour``)."""
    own = own.assign(neighbour=False)
    if len(others) == 0:
        return own
    columns = list(dict.fromkeys([*own.columns.drop(own.geometry.name), "authority_name"]))
    combined = pd.concat(
        [
            own,
            others.reindex(columns=[*columns, others.geometry.name]).set_geometry(
                others.geometry.name
            ),
        ]
    )
    combined["neighbour"] = combined["neighbour"].astype(bool)
    return gpd.GeoDataFrame(combined, geometry=own.geometry.name, crs=own.crs)


def run_uncertainty(
    run: SufficiencyRun,
    *,
    draws: int = 1_000,
    model: str | Path | Any = None,
    seed: int | None = None,
) -> Any:
    """How sure the run's verdicts are: :func:`planning.analysis.uncertainty.assess_uncertainty`
    with the uncertainty model (a path, an ``UncertaintyModel`` or ``None`` for the packaged
    ``uncertainty.yaml``) and the embedded list of split areas."""
    from planning.analysis.uncertainty import assess_uncertainty
    from planning.inputs.splits import split_groups
    from planning.uncertainty_model import UncertaintyModel, load_uncertainty

    chosen = model if isinstance(model, UncertaintyModel) else load_uncertainty(model)
    return assess_uncertainty(
        run.result, chosen, draws=draws, seed=seed, split_groups=split_groups()
    )


def run_scenario_uncertainty(
    run: SufficiencyRun,
    evaluation: Any,
    *,
    draws: int = 1_000,
    model: str | Path | Any = None,
    seed: int | None = None,
) -> pd.DataFrame:
    """How likely a scenario (a :class:`planning.analysis.scenarios.Evaluation` of the run's
    network) is to change each verdict, the same draws going through both networks
    (:func:`planning.analysis.uncertainty.scenario_uncertainty`)."""
    from planning.analysis.uncertainty import scenario_uncertainty
    from planning.inputs.splits import split_groups
    from planning.uncertainty_model import UncertaintyModel, load_uncertainty

    chosen = model if isinstance(model, UncertaintyModel) else load_uncertainty(model)
    return scenario_uncertainty(
        run.result,
        evaluation.to_result(),
        chosen,
        draws=draws,
        seed=seed,
        split_groups=split_groups(),
    )


def summary(run: SufficiencyRun, *, uncertainty: Any = None) -> dict[str, Any]:
    """The authority-wide summary written to ``summary.json`` (with ``uncertainty``, an
    :class:`planning.analysis.uncertainty.UncertaintyResult`, its figures too)."""
    result = run.result
    localities = result.localities[
        ["under5", "centres", "share_within_reach", "share_deprived_within_reach", "rag", "reasons"]
    ]
    extra: dict[str, Any] = {}
    if run.services is not None:
        extra["services"] = run.services.figures()
    return {
        **extra,
        "authority": {"code": run.authority_code, "name": run.authority_name},
        "generated": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "planning_version": settings.VERSION,
        "verdict": result.authority["rag"],
        "reasons": result.authority["reasons"],
        "figures": {k: v for k, v in result.authority.items() if k not in ("rag", "reasons")},
        "localities": {
            str(name): {k: json_safe(v) for k, v in row.items()}
            for name, row in localities.iterrows()
        },
        "standards": result.standards.describe(),
        "notes": result.notes,
        "data_vintages": DATA_VINTAGES,
        "attribution": ATTRIBUTION,
        "inputs": run.inputs,
    } | ({"uncertainty": uncertainty.summary()} if uncertainty is not None else {})


def run_input_files(inputs: dict[str, Any]) -> list[str]:
    """The input files named in a run's ``inputs`` record (an output folder must not hold one)."""
    return [
        str(value)
        for key, value in inputs.items()
        if key.endswith("_file") and value and Path(str(value)).is_file()
    ]


def _flat(frame: pd.DataFrame) -> pd.DataFrame:
    """Plain columns for CSV/GPKG: categoricals as text, lists joined with ' | '."""
    out = pd.DataFrame(
        frame.drop(columns=frame.geometry.name) if hasattr(frame, "geometry") else frame
    )
    for column in out.columns:
        if isinstance(out[column].dtype, pd.CategoricalDtype):
            out[column] = out[column].astype(str)
        elif out[column].map(lambda v: isinstance(v, list)).any():
            out[column] = out[column].map(lambda v: " | ".join(v) if isinstance(v, list) else v)
    return out


def write_sufficiency_outputs(
    run: SufficiencyRun, out: str | Path, *, force: bool = False, uncertainty: Any = None
) -> Path:
    """Write ``areas.csv``, ``centres.csv``, ``localities.csv``, ``wards.csv``, ``areas.gpkg``
    (layers ``areas`` and ``centres``) and ``summary.json`` into ``out``, atomically; with
    ``uncertainty`` (:func:`run_uncertainty`) also ``uncertainty.csv``, and its figures in
    ``summary.json``; with a street network also ``network_by_band.csv`` (reach in a straight
    line and along the network by deprivation band,
    :func:`planning.analysis.network_distance.reach_by_band`).

    ``out`` is replaced only if it is empty or an earlier output of this tool, unless ``force``
    (see :func:`planning._files.atomic_directory`); it never may be a folder holding an input.
    """
    import geopandas as gpd

    result = run.result
    out = Path(out)
    with atomic_directory(
        out, inputs=run_input_files(run.inputs), force=force, kind="sufficiency"
    ) as staging:
        areas = _flat(result.areas)
        write_csv(areas, staging / "areas.csv", index_label="area_code")
        centres = _flat(result.centres)
        centres.insert(0, "easting", result.centres.geometry.x.round(1))
        centres.insert(1, "northing", result.centres.geometry.y.round(1))
        write_csv(centres, staging / "centres.csv", index_label="centre_id")
        write_csv(_flat(result.localities), staging / "localities.csv", index_label="locality")
        write_csv(_flat(result.wards), staging / "wards.csv", index_label="ward_name")
        gpd.GeoDataFrame(areas, geometry=result.areas.geometry, crs=result.areas.crs).to_file(
            staging / "areas.gpkg", layer="areas", driver="GPKG"
        )
        gpd.GeoDataFrame(centres, geometry=result.centres.geometry, crs=result.centres.crs).to_file(
            staging / "areas.gpkg", layer="centres", driver="GPKG"
        )
        if uncertainty is not None:
            write_csv(uncertainty.table, staging / "uncertainty.csv", index=False)
        if run.services is not None:
            write_services_outputs(run.services, staging)
        write_json(staging / "summary.json", summary(run, uncertainty=uncertainty))
        if result.distances is not None and result.supply is not None:
            from planning.analysis.network_distance import reach_by_band

            write_csv(
                reach_by_band(result.areas, result.supply),
                staging / "network_by_band.csv",
                index_label="deprivation_band",
            )
    return out.resolve()


def write_services_outputs(services: Any, folder: Path) -> None:
    """Write the service-level tables into ``folder`` (a staging folder):

    ``services.csv`` (reach per target: any site, a hub, each service; the age group counted is
    named in the columns, e.g. ``children_0_19``), ``services_matrix.csv`` (localities x
    services: offered or missing), ``services_sites.csv`` (which site offers what, and whether
    from the file or the illustrative defaults), ``hub_links.csv`` (each branch's hub) and
    ``services_distances.csv`` (km from each area to the nearest site offering each target) and
    ``services_localities.csv`` (share of each locality's age group within reach of each).
    """
    column = services.population_column
    reach = services.reach.rename(
        columns={"children": column, "children_within_reach": f"{column}_within_reach"}
    )
    reach.insert(0, "ages", services.ages_label)
    shares = [c for c in reach.columns if c.startswith(("share_", "under5_share"))]
    reach[shares] = reach[shares].round(4)
    reach[["mean_distance_km", "max_distance_km"]] = reach[
        ["mean_distance_km", "max_distance_km"]
    ].round(3)
    write_csv(reach, folder / "services.csv", index_label="target")
    write_csv(services.matrix_labels(), folder / "services_matrix.csv", index_label="locality")
    write_csv(services.offers, folder / "services_sites.csv", index_label="centre_id")
    write_csv(services.hub_links, folder / "hub_links.csv", index_label="branch")
    if len(services.locality_reach):
        by_locality = services.locality_reach.round(4).add_prefix("share_within_reach_")
        by_locality.insert(0, "ages", services.ages_label)
        write_csv(by_locality, folder / "services_localities.csv", index_label="locality")
    distances = services.distances.drop(columns="children")
    distances = (distances / 1000.0).round(3).replace(np.inf, np.nan).add_prefix("km_to_")
    distances.insert(0, column, services.distances["children"])
    write_csv(distances, folder / "services_distances.csv", index_label="area_code")


def comparison_summary(comparison: Any) -> dict[str, Any]:
    """JSON-ready summary of a scenario comparison (headline before/after, verdicts, lines)."""
    before, after = comparison.before, comparison.after
    return {
        "scenario": comparison.after.scenario.name,
        "actions": comparison.after.scenario.describe(),
        "summary": comparison.summary_lines(),
        "verdict_before": before.figures["rag"],
        "verdict_after": after.figures["rag"],
        "reasons_before": before.figures["reasons"],
        "reasons_after": after.figures["reasons"],
        "headline": {
            str(k): {c: json_safe(v) for c, v in row.items()}
            for k, row in comparison.headline.iterrows()
        },
        "standards_before": before.standards.describe(),
        "standards_after": after.standards.describe(),
    }


#: Centre fields written to ``scenario_centres.csv`` (read back with ``--centres``).
_COUNCIL_FIELDS = (
    "name",
    "locality",
    "kind",
    "capacity",
    "services",
    "source",
    "easting",
    "northing",
)


def write_comparison_outputs(
    comparison: Any,
    out: str | Path,
    *,
    extra: dict[str, Any] | None = None,
    force: bool = False,
    uncertainty: pd.DataFrame | None = None,
    services: pd.DataFrame | None = None,
) -> Path:
    """Write a scenario comparison into ``out`` atomically.

    With ``uncertainty`` (:func:`run_scenario_uncertainty`) also ``uncertainty.csv``: the
    probability that the scenario changes each verdict, also under ``uncertainty`` in
    ``summary.json``.

    Files: ``comparison.csv`` (headline figures before, after, change), ``bands.csv`` (within
    reach by deprivation band), ``areas_changed.csv`` (small areas that gain or lose reach),
    ``loads.csv`` (under-5s per centre), ``localities.csv`` (verdicts before and after),
    ``scenario_centres.csv`` (the network after the scenario, readable with ``--centres``) and
    ``summary.json``; with ``services`` (from
    :func:`planning.analysis.services.compare_scenario_services`) also
    ``services_comparison.csv``.
    """
    from planning.analysis.scenarios import table_to_centres
    from planning.inputs.centres import write_centres

    out = Path(out)
    inputs = run_input_files(dict((extra or {}).get("inputs", {})))
    with atomic_directory(out, inputs=inputs, force=force, kind="comparison") as staging:
        write_csv(comparison.headline, staging / "comparison.csv")
        write_csv(comparison.bands, staging / "bands.csv")
        write_csv(comparison.areas_changed, staging / "areas_changed.csv", index_label="area_code")
        write_csv(comparison.loads, staging / "loads.csv", index_label="centre_id")
        write_csv(_flat(comparison.localities), staging / "localities.csv", index_label="locality")
        after = comparison.after.centres
        # The council's own network, readable with --centres: neighbours' centres are not its.
        after = after.loc[~after["neighbour"].astype(bool), [*_COUNCIL_FIELDS]]
        write_centres(table_to_centres(after), staging / "scenario_centres.csv")
        content = comparison_summary(comparison) | (extra or {})
        if uncertainty is not None:
            write_csv(uncertainty, staging / "uncertainty.csv", index=False)
            content["uncertainty"] = [
                {k: json_safe(v) for k, v in row.items()} for row in uncertainty.to_dict("records")
            ]
        if services is not None:
            write_csv(services, staging / "services_comparison.csv", index_label="target")
        write_json(staging / "summary.json", content)
    return out.resolve()
