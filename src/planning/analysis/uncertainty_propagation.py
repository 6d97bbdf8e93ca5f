"""The array core of the uncertainty: each draw carried through one assessment's arithmetic.

:func:`network_from_result` takes from a sufficiency result the structure every draw shares
(:class:`Network`), and :func:`propagate` reruns the assessment's verdict rules (:data:`RULES`)
on every draw of :mod:`planning.analysis.uncertainty_draws`, giving :class:`Propagated`:

* **one distance computation.** Population draws do not move anyone's nearest centre, so the
  assignment and the distances of the assessment (:class:`SufficiencyResult`) are reused for
  every draw. Circuity only stretches walking minutes (``distance x circuity / speed``), so a
  draw of it is a per-draw distance threshold for the walking standard; a drawn reach standard
  (optional) is one for the reach flags.
* **what each source moves.** Population error and apportionment move under-5s, hence every
  share, load and verdict rule; IDACI rounding and suppression move only the IDACI figures;
  circuity moves only the walking-time share; the standards' ranges move the rule they set.
* **the cross-boundary model.** Loads include neighbouring authorities' residents (their
  under-5s are drawn too), shares and verdicts are for the authority's own residents only, and
  centre equivalents are ``r_c / L_c`` per draw, as in
  :func:`planning.analysis.sufficiency_verdicts.resident_shares`.

Used by :func:`planning.analysis.uncertainty.assess_uncertainty` and
:func:`planning.analysis.uncertainty.scenario_uncertainty`; :mod:`planning.analysis.uncertainty`
re-exports these names.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import sparse

from planning._errors import ValidationError
from planning.analysis.sufficiency import SufficiencyResult
from planning.analysis.uncertainty_draws import Draws
from planning.standards import Standards

__all__ = ["RULES", "Network", "Propagated", "network_from_result", "propagate"]

#: The verdict rules, in the order :func:`planning.analysis.sufficiency_verdicts.verdict` checks them.
RULES: dict[str, str] = {
    "deprived_within_reach": "share of under-5s in the most deprived areas within reach",
    "all_within_reach": "share of all under-5s within reach",
    "under5_per_centre": "under-5s per centre against the load range",
    "centre_load": "a centre's own load above the maximum",
}


@dataclass(frozen=True)
class Network:
    """The fixed structure of one assessment that every draw shares (no distance recomputed).

    Built by :func:`network_from_result`. Areas are the assessed ones: the authority's residents
    first (``residents`` of them), then its neighbouring areas.
    """

    area_index: pd.Index
    residents: int
    area_centre: np.ndarray  # position of each assessed area's centre in ``centres`` (-1: none)
    distance_m: np.ndarray  # residents
    reach_m: np.ndarray  # residents: the reach standard of each area
    rural_own_standard: np.ndarray  # residents: rural with a rural reach standard of its own
    within_reach: np.ndarray  # residents, at the point standards
    deprived: np.ndarray  # residents
    centres: pd.Index
    centre_names: np.ndarray
    centre_neighbour: np.ndarray
    locality_codes: np.ndarray  # per centre
    localities: pd.Index
    standards: Standards
    point_rag: dict[str, str] = field(default_factory=dict)
    #: Along a street network, the circuity of its distances (1: the streets are the walk), used
    #: for every draw; ``None`` for straight lines, where the standards' factor or the model's
    #: drawn range applies.
    street_circuity: float | None = None


@dataclass(frozen=True)
class Propagated:
    """Per-draw figures and rule colours for every group (localities, then the authority)."""

    groups: pd.Index
    figures: dict[str, np.ndarray]  # name -> (draws, groups)
    rules: np.ndarray  # (rules, draws, groups) colour codes 0 green, 1 amber, 2 red
    verdict: np.ndarray  # (draws, groups)
    centre_load: np.ndarray  # (draws, centres)


# --------------------------------------------------------------------------------------------
# The fixed structure


def network_from_result(result: SufficiencyResult) -> Network:
    """The structure every draw of ``result`` shares: assignment, distances, reach flags."""
    areas = result.areas
    neighbours = result.neighbour_areas
    assessed = (
        pd.concat([areas[["centre_id", "under5"]], neighbours[["centre_id", "under5"]]])
        if neighbours is not None and len(neighbours)
        else areas[["centre_id", "under5"]]
    )
    centres = result.centres
    area_centre = centres.index.get_indexer(assessed["centre_id"])
    n = len(areas)
    if (area_centre[:n] < 0).any():
        raise ValidationError("result: a resident area's centre is not in the centre table")
    standards = result.standards
    rural = (
        areas["rural"].astype("boolean").fillna(False).to_numpy(bool)
        if "rural" in areas
        else np.zeros(n, dtype=bool)
    )
    localities = centres["locality"].astype(str)
    codes, labels = pd.factorize(localities, sort=True)
    point = {str(k): str(v) for k, v in result.localities["rag"].items()}
    point["authority"] = str(result.authority["rag"])
    names = centres["name"] if "name" in centres else centres.index.to_series()
    return Network(
        area_index=assessed.index,
        residents=n,
        area_centre=area_centre.astype(np.int64),
        distance_m=areas["distance_m"].to_numpy(float),
        reach_m=areas["reach_standard_m"].to_numpy(float),
        rural_own_standard=rural & (standards.rural_reach_km is not None),
        within_reach=areas["within_reach"].to_numpy(bool),
        deprived=areas["most_deprived_30"].to_numpy(bool),
        centres=centres.index,
        centre_names=names.astype(str).to_numpy(),
        centre_neighbour=(
            centres["neighbour"].astype(bool).to_numpy()
            if "neighbour" in centres
            else np.zeros(len(centres), dtype=bool)
        ),
        locality_codes=codes.astype(np.int64),
        localities=pd.Index(labels, name="locality"),
        standards=standards,
        point_rag=point,
        street_circuity=(
            float(result.distances.circuity) if result.distances is not None else None
        ),
    )


# --------------------------------------------------------------------------------------------
# The array core


def _rate_colour(share: np.ndarray, green: float, amber: float) -> np.ndarray:
    return np.where(share >= green, 0, np.where(share >= amber, 1, 2)).astype(np.int8)


def _ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(
            denominator > 0, numerator / np.where(denominator > 0, denominator, 1), np.nan
        )


def propagate(network: Network, draws: Draws, *, standards: Standards | None = None) -> Propagated:
    """Figures and verdict rules for every draw, localities then the authority.

    The assessment's arithmetic (:func:`planning.analysis.sufficiency_verdicts.verdict`) on arrays:
    sums by locality are one sparse product per quantity; a centre's load ``L_c`` sums every
    assessed area nearest to it, ``r_c`` its residents; centre equivalents ``sum r_c / L_c``
    (an idle centre counts 1 if the council's, 0 if a neighbour's); under-5s per centre =
    residents' under-5s / equivalents.
    """
    s = standards or network.standards
    if not draws.area_index.equals(network.area_index):
        raise ValidationError(
            "draws: the assessed areas differ from the network's; draw them from the same "
            "assessment (same areas and neighbours, same order)"
        )
    n, k = network.residents, draws.n
    n_loc = len(network.localities)
    n_centres = len(network.centres)
    groups = n_loc + 1
    resident_centre = network.area_centre[:n]
    rows = np.arange(n)
    # residents -> locality and authority (last column)
    to_group = sparse.csr_matrix(
        (
            np.ones(2 * n),
            (
                np.concatenate([rows, rows]),
                np.concatenate([network.locality_codes[resident_centre], np.full(n, n_loc)]),
            ),
        ),
        shape=(n, groups),
    )
    listed = network.area_centre >= 0
    all_rows = np.flatnonzero(listed)
    to_centre = sparse.csr_matrix(
        (np.ones(len(all_rows)), (all_rows, network.area_centre[listed])),
        shape=(len(network.area_index), n_centres),
    )

    def by_group(values: np.ndarray) -> np.ndarray:
        return np.asarray((to_group.T @ values.T).T)

    u_all = draws.under5
    u = u_all[:, :n]
    reach = network.within_reach[None, :]
    if draws.reach_km is not None:
        drawn = draws.reach_km[:, None] * 1_000.0
        reach_m = np.where(network.rural_own_standard[None, :], network.reach_m[None, :], drawn)
        reach = network.distance_m[None, :] <= reach_m
    walk_metres = s.walk_minutes * s.walk_speed_kmh * 1_000.0 / 60.0
    # Along a street network the distance is the walk itself: the model's circuity range (a
    # stand-in for unknown streets) does not apply, and walking minutes use no factor.
    if network.street_circuity is not None:
        circuity = np.full(k, network.street_circuity)
    else:
        circuity = draws.circuity if draws.circuity is not None else np.full(k, s.walk_circuity)
    # distance x circuity / speed <= minutes  <=>  distance <= minutes x speed / circuity
    walk = network.distance_m[None, :] <= (walk_metres / circuity)[:, None]
    deprived = network.deprived[None, :]
    under5 = by_group(u)
    within = by_group(u * reach)
    deprived_u5 = by_group(u * deprived)
    deprived_within = by_group(u * (deprived & reach))
    within_walk = by_group(u * walk)
    idaci = by_group(draws.idaci_children)
    idaci_within = by_group(draws.idaci_children * reach)

    load = np.asarray((to_centre.T @ u_all.T).T)  # (draws, centres): all authorities
    resident_load = np.asarray((to_centre[:n].T @ u.T).T)
    own_idle = (~network.centre_neighbour).astype(float)
    share = np.where(load > 0, resident_load / np.where(load > 0, load, 1.0), own_idle[None, :])
    served = np.zeros(n_centres, dtype=bool)
    served[resident_centre] = True
    authority_share = np.where(load > 0, share, 1.0)[:, served].sum(axis=1)
    locality_share = np.zeros((k, n_loc))
    for code in range(n_loc):
        locality_share[:, code] = share[:, network.locality_codes == code].sum(axis=1)
    equivalents = np.column_stack([locality_share, authority_share])
    per_centre = _ratio(under5, equivalents)
    largest = np.zeros((k, groups))
    for code in range(n_loc):
        members = network.locality_codes == code
        largest[:, code] = load[:, members].max(axis=1) if members.any() else 0.0
    largest[:, n_loc] = load[:, served].max(axis=1) if served.any() else 0.0

    load_max = draws.load_max[:, None] if draws.load_max is not None else s.load_max
    share_deprived = _ratio(deprived_within, deprived_u5)
    share_all = _ratio(within, under5)
    rules = np.zeros((len(RULES), k, groups), dtype=np.int8)
    rules[0] = np.where(
        deprived_u5 > 0,
        _rate_colour(np.nan_to_num(share_deprived, nan=1.0), s.deprived_green, s.deprived_amber),
        0,
    )
    rules[1] = _rate_colour(np.where(under5 > 0, share_all, 1.0), s.all_green, s.all_amber)
    per = np.nan_to_num(per_centre, nan=0.0)
    rules[2] = np.where(
        equivalents > 0,
        np.where(per > s.red_load_factor * load_max, 2, np.where(per > load_max, 1, 0)),
        0,
    )
    rules[3] = np.where(largest > load_max, 1, 0)
    figures = {
        "under5": under5,
        "share_within_reach": share_all,
        "share_deprived_within_reach": share_deprived,
        "share_within_walk": _ratio(within_walk, under5),
        "share_idaci_within_reach": _ratio(idaci_within, idaci),
        "idaci_children": idaci,
        "under5_per_centre": per_centre,
        "largest_centre_load": largest,
    }
    return Propagated(
        groups=pd.Index([*network.localities, "authority"]),
        figures=figures,
        rules=rules,
        verdict=rules.max(axis=0),
        centre_load=load,
    )
