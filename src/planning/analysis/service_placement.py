"""Where to add a service: maximal covering for one service of the vocabulary (issue 14).

"Place 2 new infant-feeding sessions": choose the sites (the council's sites that do not offer
it yet, plus any candidate points) at which adding the service brings the most children in the
age range within reach of it (Church and ReVelle 1974), solved exactly with HiGHS through PuLP.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from planning._format import share
from planning.analysis.distance import (
    area_points,
    centre_points,
    metres_between,
    nearest_distance,
)
from planning.analysis.services import _neighbour
from planning.analysis.sufficiency import area_reach_standard
from planning.inputs.areas import population_in_ages
from planning.inputs.services import (
    Vocabulary,
    centre_services,
    load_vocabulary,
    parse_services_text,
)
from planning.standards import Standards


@dataclass(frozen=True)
class ServicePlacement:
    """Where to add a service, from :func:`place_service`.

    Attributes
    ----------
    service, label : str
        The service key and its label.
    chosen : list of str
        Sites chosen to offer it (ids of the council's sites, or of ``candidates``).
    children, covered_before, covered_after : float
        The age group, and how many live within reach of a site offering the service before
        and after.
    ages_label : str
    status : str
        The solver's status ("Optimal").
    """

    service: str
    label: str
    chosen: list[str]
    children: float
    covered_before: float
    covered_after: float
    ages_label: str
    status: str

    @property
    def share_before(self) -> float:
        return self.covered_before / self.children if self.children else float("nan")

    @property
    def share_after(self) -> float:
        return self.covered_after / self.children if self.children else float("nan")

    def lines(self, names: pd.Series | None = None) -> list[str]:
        """Plain lines: the sites chosen and the change in reach."""
        shown = [f"{c} {names.get(c, '')}".strip() if names is not None else c for c in self.chosen]
        if not self.chosen:
            first = (
                f"No site needed: every child in range already lives within reach of {self.label}"
                if self.covered_before >= self.children
                else f"No candidate site brings more children within reach of {self.label}"
            )
        else:
            first = f"Add {self.label} at {len(self.chosen)} site(s): {'; '.join(shown)}"
        return [
            first,
            f"{self.ages_label[:1].upper()}{self.ages_label[1:]} within reach of {self.label}: "
            f"{share(self.share_before)} -> {share(self.share_after)}",
        ]


def service_key(text: str, vocabulary: Vocabulary) -> str:
    """The one service a name denotes ("infant-feeding" -> ``infant_feeding_support``).

    Raises
    ------
    ValidationError
        If it names no service, or several (a bundle), with the nearest names.
    """
    from planning._errors import ValidationError
    from planning._validate import did_you_mean
    from planning.inputs.services import term_key

    keys, unknown = parse_services_text(text, vocabulary)
    if unknown or len(keys) != 1:
        hint = did_you_mean(term_key(text), list(vocabulary.terms()))
        raise ValidationError(
            f"service '{text}' is not one service of the vocabulary ({vocabulary.source}){hint}; "
            "use one of: " + ", ".join(vocabulary.label(k) for k in vocabulary.keys)
        )
    return keys[0]


def place_service(
    areas: gpd.GeoDataFrame,
    sites: gpd.GeoDataFrame,
    *,
    service: str,
    p: int,
    standards: Standards,
    vocabulary: Vocabulary | None = None,
    candidates: gpd.GeoDataFrame | None = None,
    population: pd.Series | None = None,
    distances: Any = None,
) -> ServicePlacement:
    """Choose ``p`` sites at which to add a service so that the most children in the age range
    not yet within reach of it come within reach (maximal covering, Church and ReVelle 1974).

    Candidates are the council's own sites that do not offer it yet (a session added at an
    existing building), plus ``candidates`` (points) when given. Sites already offering it,
    the council's or a neighbour's, count as covering. Solved exactly with HiGHS (PuLP).

    maximise sum_i w_i z_i subject to z_i <= sum_{j in N_i} y_j, sum_j y_j <= p, y, z binary,
    where w_i is area i's children not yet covered and N_i the candidates within its reach
    standard: in a straight line, or along the streets when ``distances`` is a street network
    (the run's ``result.distances``), as the building figures are measured.
    """
    import pulp

    vocab = vocabulary if vocabulary is not None else load_vocabulary(standards=standards)
    key = service_key(service, vocab) if service not in vocab.services else service
    offers, _ = centre_services(sites, vocab)
    children = (
        population.reindex(areas.index).astype(float)
        if population is not None
        else population_in_ages(areas, standards.population_ages)
    ).to_numpy(float)
    reach_m = area_reach_standard(areas, standards)
    xy = area_points(areas)
    offering = offers[key].to_numpy(bool)
    site_xy = centre_points(sites)
    covered = nearest_distance(metres_between(xy, site_xy, distances), offering) <= reach_m
    own = ~_neighbour(sites) & ~offering
    ids = [str(i) for i in sites.index[own]]
    cand_xy = [site_xy[own]]
    if candidates is not None and len(candidates):
        ids += [str(i) for i in candidates.index]
        cand_xy.append(centre_points(candidates, source="candidates"))
    all_xy = np.vstack(cand_xy) if ids else np.empty((0, 2))
    cover = metres_between(xy, all_xy, distances) <= reach_m[:, None]
    before = float(children[covered].sum())
    open_ = [i for i in np.flatnonzero(~covered) if cover[i].any() and children[i] > 0]
    problem = pulp.LpProblem("place_service", pulp.LpMaximize)
    y = [
        problem.add_variable(f"site_{j}", lowBound=0, upBound=1, cat="Binary")
        for j in range(len(ids))
    ]
    # z_i <= 1 continuous suffices: the objective pushes it to min(1, sum of y over N_i).
    z = {i: problem.add_variable(f"covered_{i}", lowBound=0, upBound=1) for i in open_}
    problem += pulp.lpSum(children[i] * z[i] for i in open_) if open_ else pulp.lpSum([])
    for i in open_:
        problem += z[i] <= pulp.lpSum(y[j] for j in np.flatnonzero(cover[i]))
    problem += pulp.lpSum(y) <= p
    status = "Optimal"
    chosen: list[str] = []
    if open_:
        problem.solve(pulp.HiGHS(msg=False, gapRel=0.0))
        status = pulp.LpStatus[problem.status]
        chosen = [ids[j] for j, v in enumerate(y) if (v.value() or 0) > 0.5]
    gained = (
        cover[:, [ids.index(c) for c in chosen]].any(axis=1)
        if chosen
        else np.zeros(len(areas), dtype=bool)
    )
    after = float(children[covered | gained].sum())
    return ServicePlacement(
        service=key,
        label=vocab.label(key),
        chosen=chosen,
        children=float(children.sum()),
        covered_before=before,
        covered_after=after,
        ages_label=standards.ages_label,
        status=status,
    )
