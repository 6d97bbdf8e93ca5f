"""Service-level sufficiency: does the offer, not just a building, reach the families it should?

A centre or family hub is a site with a list of services (parsed from the centres file's
``services`` text against the vocabulary, :mod:`planning.inputs.services`). For each service
this module measures, for the authority's own residents in the age range in force
(``population.ages`` in the standards):

* the share of children within reach of a site offering it (the area's reach standard, as for
  the building figures), overall, in the most deprived areas and by national deprivation band;
* the distance from each area to the nearest site offering it;
* the localities where no site offers it (a universal service missing from a locality is a
  verdict reason: "Amber: no site in West offers child health clinics").

Hub and spoke: each branch is linked to its hub (the centres frame's ``hub`` column, by id or
name, else the nearest hub); access to any site and access to a hub (the full offer) are
reported apart, and hubs whose branches lie farther than ``services.hub_branch_max_km`` are
flagged. Other authorities' sites count for access (Childcare Act 2006 s.5A(3)) but never for a
locality, which is the council's own organisation.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from planning._format import share, whole_share
from planning.analysis.distance import (
    area_points,
    centre_points,
    metres_between,
    nearest_distance,
)
from planning.analysis.need import BAND_LABELS, deprivation_band
from planning.analysis.sufficiency import SufficiencyResult, area_reach_standard
from planning.analysis.sufficiency_verdicts import RAG_ORDER
from planning.inputs.areas import population_in_ages
from planning.inputs.services import (
    SOURCE_ILLUSTRATIVE,
    Vocabulary,
    centre_services,
    load_vocabulary,
)
from planning.standards import Standards

#: Rows of the reach table besides the services: any site, and a hub (the full offer).
ANY_SITE, HUB = "any_site", "hub"
ILLUSTRATIVE_NOTE = (
    "{n} site(s) had no services listed and were given the ILLUSTRATIVE default offer (a hub "
    "the full list, a branch {branch}); the service figures are illustrative until the "
    "council's own service lists are supplied"
)

#: ``nearest_sites(site_xy, groups)``: per group of sites (a boolean mask), each area's metres to
#: the group's nearest site (:meth:`ScenarioEngine.resident_nearest`).
NearestSites = Callable[[np.ndarray, Mapping[str, np.ndarray]], Mapping[str, np.ndarray]]


@dataclass(frozen=True)
class ServicesResult:
    """What :func:`assess_services` produces.

    Attributes
    ----------
    reach : DataFrame
        One row per target (``any_site``, ``hub``, then each service): label, offer,
        ``sites`` (the council's sites offering it; ``illustrative_sites`` of them only by the
        illustrative defaults), ``children`` (residents in the age range),
        ``children_within_reach``, ``share_within_reach``, ``share_deprived_within_reach``,
        ``share_within_reach_<band>`` per national deprivation band, ``under5_share_within_reach``
        (under-5s alongside), ``mean_distance_km`` (child-weighted) and ``max_distance_km``.
    distances : DataFrame
        Per resident area: ``children`` (the age group), then the metres to the nearest site
        offering each target (inf: none).
    offers : DataFrame
        Boolean, one row per site (the council's and neighbours'), one column per service.
    matrix : DataFrame
        Localities (rows) x services (columns): how many of the council's sites in the
        locality offer it (0 = missing).
    hub_links : DataFrame
        One row per branch: its hub, how it was linked, the distance and whether it is too far.
    localities : DataFrame
        Per locality: ``rag`` and ``reasons`` of the service rules alone.
    locality_reach : DataFrame
        Localities (of the centre nearest each area, as in the building figures) x targets:
        the share of the locality's children within reach of a site offering each (empty when
        the areas carry no ``locality``).
    rag, reasons : str, list of str
        The authority-wide service verdict and its reasons, worst first.
    ages, ages_label : tuple, str
        The age range in force ('children aged 0-19').
    notes : list of str
        Caveats (illustrative defaults, the load standard's age range).
    """

    reach: pd.DataFrame
    distances: pd.DataFrame
    offers: pd.DataFrame
    matrix: pd.DataFrame
    hub_links: pd.DataFrame
    localities: pd.DataFrame
    rag: str
    reasons: list[str]
    ages: tuple[int, int]
    ages_label: str
    vocabulary: Vocabulary
    notes: list[str] = field(default_factory=list)
    locality_reach: pd.DataFrame = field(default_factory=pd.DataFrame)

    @property
    def population_column(self) -> str:
        """The column that counts the age group, e.g. ``children_0_19``."""
        return f"children_{self.ages[0]}_{self.ages[1]}"

    def matrix_labels(self) -> pd.DataFrame:
        """The matrix with service labels as columns and 'offered' / 'missing' cells."""
        out = self.matrix.gt(0).replace({True: "offered", False: "missing"})
        return out.rename(columns=self.vocabulary.label)

    def figures(self) -> dict[str, Any]:
        """JSON-ready figures for ``summary.json``."""
        return {
            "ages": list(self.ages),
            "ages_label": self.ages_label,
            "verdict": self.rag,
            "reasons": self.reasons,
            "reach": {
                str(k): {c: _plain(v) for c, v in row.items()} for k, row in self.reach.iterrows()
            },
            "matrix": {
                str(loc): {self.vocabulary.label(s): bool(n > 0) for s, n in row.items()}
                for loc, row in self.matrix.iterrows()
            },
            "hubs_with_far_branches": sorted(
                set(self.hub_links.loc[self.hub_links["too_far"], "hub"].astype(str))
            ),
            "notes": self.notes,
        }


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value


def _rag(share: float, green: float, amber: float) -> str:
    return "Green" if share >= green else "Amber" if share >= amber else "Red"


def _nearest_by_target(
    area_xy: np.ndarray,
    site_xy: np.ndarray,
    masks: dict[str, np.ndarray],
    *,
    distances: Any = None,
    nearest_sites: NearestSites | None = None,
) -> dict[str, np.ndarray]:
    """Per target (a mask over the sites), each area's metres to the nearest site in it, at
    any distance: from the caller's ``nearest_sites``; along the streets, one search per
    distinct target (:meth:`NetworkDistances.nearest_in_groups`), not one per site; else from
    straight lines."""
    if nearest_sites is not None:
        return dict(nearest_sites(site_xy, masks))
    if distances is not None:
        return dict(distances.nearest_in_groups(area_xy, site_xy, masks))
    distance = metres_between(area_xy, site_xy)
    return {key: nearest_distance(distance, mask) for key, mask in masks.items()}


def link_branches(sites: pd.DataFrame, *, max_km: float) -> pd.DataFrame:
    """Each branch's hub: the ``hub`` column (a hub's id or name) when given, else the nearest
    hub in a straight line; with the distance and whether it exceeds ``max_km``.

    Only the council's own sites (``neighbour`` false) are linked.
    """
    own = sites[~_neighbour(sites)]
    kinds = own["kind"].fillna("").astype(str).str.lower() if "kind" in own else None
    columns = ["branch_name", "hub", "hub_name", "linked_by", "distance_km", "too_far"]
    if kinds is None:
        return pd.DataFrame(columns=columns, index=pd.Index([], name="branch"))
    hubs, branches = own[kinds == "hub"], own[kinds == "branch"]
    rows: list[tuple[Any, ...]] = []
    hub_xy = centre_points(hubs) if len(hubs) else np.empty((0, 2))
    by_name = {str(n).strip().lower(): h for h, n in hubs["name"].items()} if len(hubs) else {}
    for branch, row in branches.iterrows():
        xy = np.array([row.geometry.x, row.geometry.y])
        given = str(row.get("hub", "") or "").strip() if "hub" in branches else ""
        hub, how = None, "nearest hub"
        if given:
            hub = given if given in hubs.index else by_name.get(given.lower())
            how = "file" if hub is not None else "nearest hub (file's hub not found)"
        if hub is None and len(hubs):
            hub = hubs.index[int(np.argmin(np.hypot(*(hub_xy - xy).T)))]
        if hub is None:
            rows.append((branch, row.get("name", branch), None, None, "no hub", np.nan, False))
            continue
        point = hubs.loc[hub].geometry
        km = float(np.hypot(point.x - xy[0], point.y - xy[1])) / 1000.0
        rows.append(
            (branch, row.get("name", branch), hub, hubs.loc[hub, "name"], how, km, km > max_km)
        )
    frame = pd.DataFrame(rows, columns=["branch", *columns]).set_index("branch")
    frame["too_far"] = frame["too_far"].astype(bool)
    return frame


def _neighbour(sites: pd.DataFrame) -> np.ndarray:
    if "neighbour" not in sites:
        return np.zeros(len(sites), dtype=bool)
    return sites["neighbour"].astype("boolean").fillna(False).to_numpy(dtype=bool)


def assess_services(
    areas: gpd.GeoDataFrame,
    sites: gpd.GeoDataFrame,
    *,
    standards: Standards,
    vocabulary: Vocabulary | None = None,
    population: pd.Series | None = None,
    source: str = "centres",
    distances: Any = None,
    nearest_sites: NearestSites | None = None,
) -> ServicesResult:
    """Service-level sufficiency for the authority's own residents.

    Parameters
    ----------
    areas : GeoDataFrame
        The authority's small areas (residents only), EPSG:27700, with ``imd_decile``,
        ``under5`` and a point (see :func:`planning.load_areas`); the single years of the age
        range are joined from the embedded data when absent.
    sites : GeoDataFrame
        Every site residents may use: the council's and other authorities' (``neighbour``),
        with ``name``, ``services``, ``kind`` and ``locality``.
    standards : Standards
        ``population_ages``, the reach standard, ``hub_branch_max_km`` and the service rules.
    vocabulary : Vocabulary, optional
        Default: :func:`planning.inputs.services.load_vocabulary` for ``standards``.
    population : Series, optional
        Children in the age range per area (default :func:`population_in_ages`).
    distances : NetworkDistances, optional
        A street network: distances are then along its streets, as for the building figures
        (the run's, ``result.distances``), searched with no limit (a service's nearest site
        may be far off): one search per service from all its sites at once.
    nearest_sites : callable, optional
        ``nearest_sites(site_xy, groups)``: per group (a boolean mask over the sites), each
        area's metres to the group's nearest site, when the caller keeps them (the scenario
        engine: :meth:`ScenarioEngine.resident_nearest`). Default: measured here.

    Notes
    -----
    share within reach of service s = sum over areas of children x [d(area, nearest site
    offering s) <= the area's reach standard] / sum of children. Distances are straight lines
    between the area's interior point and the site, or along the street network when one is
    given, as for the building figures.
    """
    s = standards
    vocab = vocabulary if vocabulary is not None else load_vocabulary(standards=s)
    offers, origin = centre_services(sites, vocab, source=source)
    children = (
        population.reindex(areas.index).astype(float)
        if population is not None
        else population_in_ages(areas, s.population_ages)
    ).to_numpy(float)
    under5 = areas["under5"].to_numpy(float)
    reach_m = area_reach_standard(areas, s)
    area_xy, site_xy = area_points(areas), centre_points(sites)
    neighbour = _neighbour(sites)
    kinds = (
        sites["kind"].fillna("").astype(str).str.lower().to_numpy()
        if "kind" in sites
        else (np.full(len(sites), ""))
    )
    deciles = areas["imd_decile"].astype(int)
    deprived = deciles.isin(s.most_deprived_deciles).to_numpy()
    bands = deprivation_band(deciles).astype(str).to_numpy()
    illustrative_offer = (origin == SOURCE_ILLUSTRATIVE).to_numpy()
    targets: dict[str, tuple[str, str, np.ndarray]] = {
        ANY_SITE: ("any site", "", np.ones(len(sites), dtype=bool)),
        HUB: ("a hub (the full offer)", "", kinds == "hub"),
    }
    for key in vocab.keys:
        entry = vocab.services[key]
        targets[key] = (entry.label, entry.offer, offers[key].to_numpy(bool))
    masks = {key: mask for key, (_, _, mask) in targets.items()}
    by_target = _nearest_by_target(
        area_xy, site_xy, masks, distances=distances, nearest_sites=nearest_sites
    )
    rows = []
    for key, (label, offer, mask) in targets.items():
        nearest = by_target[key]
        within = nearest <= reach_m

        def share(weights: np.ndarray, where: np.ndarray, within: np.ndarray = within) -> float:
            total = float(weights[where].sum())
            return float(weights[where & within].sum()) / total if total > 0 else np.nan

        everyone = np.ones(len(areas), dtype=bool)
        finite = np.isfinite(nearest)
        row = {
            "target": key,
            "label": label,
            "offer": offer,
            "sites": int((mask & ~neighbour).sum()),
            # of which offer it only by the ILLUSTRATIVE defaults (no services listed)
            "illustrative_sites": int((mask & ~neighbour & illustrative_offer).sum()),
            "neighbour_sites": int((mask & neighbour).sum()),
            "children": float(children.sum()),
            "children_within_reach": float(children[within].sum()),
            "share_within_reach": share(children, everyone),
            "share_deprived_within_reach": share(children, deprived),
            **{
                f"share_within_reach_{band}": share(children, bands == band) for band in BAND_LABELS
            },
            "under5_share_within_reach": share(under5, everyone),
            "mean_distance_km": float(
                (children[finite] * nearest[finite]).sum() / children[finite].sum() / 1000
            )
            if finite.any() and children[finite].sum() > 0
            else np.nan,
            "max_distance_km": float(nearest.max() / 1000) if finite.all() else np.inf,
        }
        rows.append(row)
    reach = pd.DataFrame(rows).set_index("target")
    distance_frame = pd.DataFrame(by_target, index=areas.index)
    distance_frame.insert(0, "children", children)
    locality_reach = pd.DataFrame()
    if "locality" in areas:
        within_all = distance_frame[list(targets)].le(reach_m, axis=0)
        weighted = within_all.mul(children, axis=0)
        groups = areas["locality"].astype(str)
        totals = pd.Series(children, index=areas.index).groupby(groups).sum()
        locality_reach = weighted.groupby(groups).sum().div(totals.where(totals > 0), axis=0)
        locality_reach.index.name = "locality"

    own = sites[~neighbour]
    own_offers = offers[~neighbour]
    localities = own["locality"].fillna("").astype(str) if "locality" in own else own["name"]
    matrix = own_offers.astype(int).groupby(localities.to_numpy()).sum()
    matrix.index.name = "locality"
    links = link_branches(sites, max_km=s.hub_branch_max_km)

    locality_reasons: dict[str, list[tuple[str, str]]] = {loc: [] for loc in matrix.index}
    for loc, row in matrix.iterrows():
        for key in vocab.universal:
            if row[key] == 0:
                locality_reasons[str(loc)].append(
                    (s.services_missing_rag, f"no site in {loc} offers {vocab.label(key)}")
                )
    for _, link in links[links["too_far"]].iterrows():
        loc = str(localities.get(link["hub"], ""))
        locality_reasons.setdefault(loc, []).append(
            (
                "Amber",
                f"branch {link['branch_name']} lies {link['distance_km']:.1f} km from its hub "
                f"{link['hub_name']} (standard {s.hub_branch_max_km:g} km)",
            )
        )
    loc_rows = []
    for loc, found in locality_reasons.items():
        found.sort(key=lambda item: -RAG_ORDER[item[0]])
        rag = found[0][0] if found else "Green"
        why = [f"{r}: {t}" for r, t in found] or [
            "Green: every universal service is offered at a site in the locality"
        ]
        loc_rows.append({"locality": loc, "rag": rag, "reasons": why})
    locality_frame = pd.DataFrame(loc_rows, columns=["locality", "rag", "reasons"]).set_index(
        "locality"
    )

    found_all: list[tuple[str, str]] = []
    group = s.ages_label
    for key in vocab.universal:
        row = reach.loc[key]
        share_ = row["share_within_reach"] if row["children"] > 0 else 1.0
        rag = _rag(float(share_), s.services_green, s.services_amber)
        text = (
            f"{whole_share(share_)} of {group} live within {s.reach_km:g} km of a site "
            f"offering {row['label']}"
        )
        if rag != "Green":
            text += f" (green needs {whole_share(s.services_green)})"
        found_all.append((rag, text))
    for found in locality_reasons.values():
        found_all.extend(item for item in found if item[0] != "Green")
    found_all.sort(key=lambda item: -RAG_ORDER[item[0]])
    rag = found_all[0][0] if found_all else "Green"
    reasons = [f"{r}: {t}" for r, t in found_all]

    notes = []
    illustrative = int((origin[~neighbour] == SOURCE_ILLUSTRATIVE).sum())
    if illustrative:
        notes.append(
            ILLUSTRATIVE_NOTE.format(
                n=illustrative, branch=", ".join(vocab.label(k) for k in vocab.branch_default)
            )
        )
    others = int((origin[neighbour] == SOURCE_ILLUSTRATIVE).sum())
    if others:
        notes.append(
            f"{others} other authorities' site(s) near the boundary had no services listed and "
            "were given the same ILLUSTRATIVE default offer by kind; they count towards reach "
            "of a service, never towards a locality"
        )
    if s.population_ages != (0, 4):
        notes.append(
            f"Service figures count {group}; the load standard ({s.load_target:g} per centre, "
            f"{s.load_range_label}) is defined for under-5s (DCSF 2008) and is applied to "
            "under-5s only: centre loads are under-5s, and under-5 reach is shown alongside"
        )
    return ServicesResult(
        reach=reach,
        distances=distance_frame,
        offers=offers.assign(services_source=origin),
        matrix=matrix,
        hub_links=links,
        localities=locality_frame,
        rag=rag,
        reasons=reasons,
        ages=s.population_ages,
        ages_label=group,
        vocabulary=vocab,
        notes=notes,
        locality_reach=locality_reach,
    )


def services_for_result(
    result: SufficiencyResult, *, vocabulary: Vocabulary | None = None, source: str = "centres"
) -> ServicesResult:
    """:func:`assess_services` on a sufficiency result: its residents and every site they may
    use (``result.supply``: the council's and neighbours')."""
    sites = result.supply if result.supply is not None else result.centres
    return assess_services(
        result.areas,
        sites,
        standards=result.standards,
        vocabulary=vocabulary,
        source=source,
        distances=result.distances,
    )


def with_service_verdicts(result: SufficiencyResult, services: ServicesResult) -> SufficiencyResult:
    """The result with the service rules added to each locality's and the authority's verdict
    (the worst colour wins; reasons worst first)."""

    def merge(rag: str, reasons: list[str], more_rag: str, more: list[str]) -> tuple[str, list]:
        extra = [r for r in more if not r.startswith("Green")]
        # Stable: lines that are not a colour (e.g. the cross-boundary note) keep their place
        # after the coloured ones.
        combined = sorted([*reasons, *extra], key=lambda r: -RAG_ORDER.get(r.split(":", 1)[0], -1))
        worst = max([rag, more_rag if extra else "Green"], key=RAG_ORDER.__getitem__)
        return worst, combined

    localities = result.localities.copy()
    for loc in localities.index:
        if loc in services.localities.index:
            row = services.localities.loc[loc]
            localities.at[loc, "rag"], localities.at[loc, "reasons"] = merge(
                localities.at[loc, "rag"],
                list(localities.at[loc, "reasons"]),
                row["rag"],
                list(row["reasons"]),
            )
    authority = dict(result.authority)
    authority["rag"], authority["reasons"] = merge(
        authority["rag"], list(authority["reasons"]), services.rag, services.reasons
    )
    notes = [*result.notes, *(n for n in services.notes if n not in result.notes)]
    return dataclasses.replace(result, localities=localities, authority=authority, notes=notes)


def compare_services(before: ServicesResult, after: ServicesResult) -> pd.DataFrame:
    """Per target: share within reach before, after and the change, sites before and after,
    and the localities that lose or gain it (offered at no site after / before)."""
    rows = []
    for key in before.reach.index:
        b, a = before.reach.loc[key], after.reach.loc[key]
        lost, gained = [], []
        if key in before.matrix.columns:
            was = before.matrix[key].gt(0)
            now = after.matrix[key].reindex(was.index, fill_value=0).gt(0)
            lost = [str(loc) for loc in was.index[was & ~now]]
            new = after.matrix[key].gt(0)
            old = before.matrix[key].reindex(new.index, fill_value=0).gt(0)
            gained = [str(loc) for loc in new.index[new & ~old]]
        rows.append(
            {
                "target": key,
                "label": b["label"],
                "offer": b["offer"],
                "sites_before": int(b["sites"]),
                "sites_after": int(a["sites"]),
                "share_within_reach_before": b["share_within_reach"],
                "share_within_reach_after": a["share_within_reach"],
                "change": a["share_within_reach"] - b["share_within_reach"],
                "localities_losing": "; ".join(lost),
                "localities_gaining": "; ".join(gained),
            }
        )
    return pd.DataFrame(rows).set_index("target")


def service_change_lines(table: pd.DataFrame, ages_label: str) -> list[str]:
    """Plain lines for a scenario's service changes: localities that lose a service first."""
    lines = []
    for _, row in table.iterrows():
        if row["localities_losing"]:
            lines.append(
                f"{row['localities_losing']} would lose {row['label']} (no other site there "
                "offers it)"
            )
    for _, row in table.iterrows():
        before, after = (
            share(row["share_within_reach_before"]),
            share(row["share_within_reach_after"]),
        )
        if before != after:
            lines.append(
                f"{ages_label[:1].upper()}{ages_label[1:]} within reach of {row['label']}: "
                f"{before} -> {after}"
            )
    return lines


def services_for_evaluation(
    evaluation: Any, *, vocabulary: Vocabulary | None = None, source: str = "scenario"
) -> ServicesResult:
    """:func:`assess_services` for one scenario of a
    :class:`planning.analysis.scenarios.ScenarioEngine` (its network after the scenario, its
    standards, the engine's residents)."""
    from planning.analysis.scenarios import CENTRE_FIELDS, table_to_centres

    engine = evaluation._engine
    table = evaluation._table
    columns = [c for c in (*CENTRE_FIELDS, "neighbour") if c in table.columns]
    sites = table_to_centres(table[list(dict.fromkeys(columns))], engine.crs)
    return assess_services(
        engine.areas,
        sites,
        standards=evaluation.standards,
        vocabulary=vocabulary,
        source=source,
        nearest_sites=engine.resident_nearest,
    )


def compare_scenario_services(
    comparison: Any, *, vocabulary: Vocabulary | None = None
) -> tuple[pd.DataFrame, list[str]]:
    """The service figures of a scenario comparison: :func:`compare_services` of before and
    after, and plain lines (localities that lose a service, changes in reach)."""
    before = services_for_evaluation(comparison.before, vocabulary=vocabulary)
    after = services_for_evaluation(comparison.after, vocabulary=before.vocabulary)
    table = compare_services(before, after)
    return table, service_change_lines(table, after.ages_label)


def summary_lines(services: ServicesResult, *, reach_km: float) -> list[str]:
    """Plain lines for the command line: reach per target and the gaps in the matrix."""
    group = services.ages_label
    lines = [
        f"Services ({group}; share within {reach_km:g} km of a site offering each; under-5s "
        "alongside):"
    ]
    for _, row in services.reach.iterrows():
        offer = f"{row['offer']}, " if row["offer"] else ""
        lines.append(
            f"  {row['label']} ({offer}{row['sites']} site(s)): {whole_share(row['share_within_reach'])}"
            f" of {group}, {whole_share(row['under5_share_within_reach'])} of under-5s"
        )
    gaps = [
        f"{loc}: {', '.join(services.vocabulary.label(k) for k in row.index[row.eq(0)])}"
        for loc, row in services.matrix.iterrows()
        if row.eq(0).any()
    ]
    lines.append(
        "Services offered at no site in the locality: " + ("; ".join(gaps) if gaps else "none")
    )
    return lines
