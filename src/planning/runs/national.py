"""The national run: every English small area assigned to its nearest centre in one pass.

With the illustrative national network (:func:`planning.inputs.neighbours.read_national_network`)
every under-5 in England is nearest to exactly one centre, whichever authority runs it, so the
loads add up to the England total (3,239,447 under-5s, ONS mid-2020). Splitting each centre's
load by the authority its families live in gives each authority's share of every centre: the
figures the per-authority cross-boundary assessment reproduces for the centres its residents
use (:func:`planning.runs.sufficiency.run_sufficiency`), so no centre is counted twice.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from planning.analysis.distance import nearest
from planning.inputs.neighbours import national_points, read_national_network


@dataclass(frozen=True)
class NationalRun:
    """The national assignment.

    Attributes
    ----------
    centres : DataFrame
        One row per centre of the network: ``name``, ``authority_code`` (who runs it),
        ``under5`` (its load), ``under5_own_authority`` and ``under5_other_authorities``.
    shares : DataFrame
        Under-5s by centre (index ``centre_id``) and the authority they live in
        (``resident_authority``): ``under5``, ``centre_share`` (``under5 / load``).
    authorities : DataFrame
        One row per authority: ``under5``, ``under5_nearest_outside`` (its under-5s nearest to
        another authority's centre) and ``centre_equivalents`` (the sum of its centre shares).
    areas : DataFrame
        Every small area's ``centre_id`` and ``distance_m``.
    """

    centres: pd.DataFrame
    shares: pd.DataFrame
    authorities: pd.DataFrame
    areas: pd.DataFrame


def national_run() -> NationalRun:
    """Assign every English small area to its nearest centre of the illustrative national network.

    The workbench's one nearest-centre rule (:func:`planning.analysis.distance.nearest`:
    straight-line metres in EPSG:27700, ties to the centre listed first).

    Examples
    --------
    >>> run = national_run()
    >>> int(run.centres["under5"].sum())
    3239447
    """
    points = national_points()
    network = read_national_network()
    xy = points[["point_easting", "point_northing"]].to_numpy(float)
    sites = np.column_stack([network.geometry.x, network.geometry.y])
    index, metres = nearest(xy, sites)
    under5 = points["under5"].to_numpy(float)
    centre_ids = network.index.to_numpy()
    areas = pd.DataFrame(
        {"centre_id": centre_ids[index], "distance_m": metres, "utla_code": points["utla_code"]},
        index=points.index,
    )
    shares = (
        pd.DataFrame(
            {
                "centre_id": centre_ids[index],
                "resident_authority": points["utla_code"].to_numpy(),
                "under5": under5,
            }
        )
        .groupby(["centre_id", "resident_authority"], sort=True)["under5"]
        .sum()
        .to_frame()
    )
    load = np.bincount(index, weights=under5, minlength=len(network))
    centres = pd.DataFrame(
        {
            "name": network["name"],
            "authority_code": network["authority_code"],
            "under5": load,
        },
        index=network.index,
    )
    runner = centres["authority_code"].reindex(shares.index.get_level_values("centre_id"))
    own = shares["under5"].to_numpy() * (
        runner.to_numpy() == shares.index.get_level_values("resident_authority")
    )
    centres["under5_own_authority"] = (
        pd.Series(own, index=shares.index.get_level_values("centre_id"))
        .groupby(level=0)
        .sum()
        .reindex(centres.index, fill_value=0.0)
    )
    centres["under5_other_authorities"] = centres["under5"] - centres["under5_own_authority"]
    shares["centre_share"] = (
        shares["under5"]
        / centres["under5"].reindex(shares.index.get_level_values("centre_id")).to_numpy()
    )
    outside = runner.to_numpy() != shares.index.get_level_values("resident_authority")
    by_authority = shares.assign(outside=np.where(outside, shares["under5"], 0.0)).groupby(
        level="resident_authority"
    )
    authorities = pd.DataFrame(
        {
            "under5": by_authority["under5"].sum(),
            "under5_nearest_outside": by_authority["outside"].sum(),
            "centre_equivalents": by_authority["centre_share"].sum(),
        }
    )
    authorities.index.name = "authority_code"
    return NationalRun(centres=centres, shares=shares, authorities=authorities, areas=areas)
