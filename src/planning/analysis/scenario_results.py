"""What evaluating a scenario gives: the full :class:`Evaluation` and the array-only
:class:`Headline`, from :class:`planning.analysis.scenarios.ScenarioEngine`, and compared by
:func:`planning.analysis.scenario_comparison.compare`.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from planning.analysis.scenario_actions import CENTRE_FIELDS, Scenario, table_to_centres
from planning.analysis.sufficiency import SufficiencyResult, build_result
from planning.standards import Standards


@dataclass(frozen=True)
class Evaluation:
    """One scenario's figures, from :meth:`ScenarioEngine.evaluate`.

    Attributes
    ----------
    figures : dict
        Authority-wide figures for its own residents, ``rag`` and ``reasons`` (as
        ``SufficiencyResult.authority``).
    localities : DataFrame
        Per locality figures with ``rag`` and ``reasons``.
    centres : DataFrame
        The centre table after the scenario (the council's centres, and neighbouring
        authorities' centres that serve its residents), with ``under5`` (the whole load),
        ``under5_residents``, ``under5_other_authorities`` and ``load_status``.
    areas : DataFrame
        Per area of the authority: ``centre_id``, ``distance_m``, ``within_reach``,
        ``within_short``, ``within_walk``.
    bands : DataFrame
        Under-5s and IDACI children within reach by national deprivation band.
    catchment : DataFrame
        ``centre_id`` and ``distance_m`` for every assessed area (the authority's, then its
        neighbours'), for :meth:`to_result`.
    """

    scenario: Scenario
    standards: Standards
    figures: dict[str, Any]
    localities: pd.DataFrame
    centres: pd.DataFrame
    areas: pd.DataFrame
    bands: pd.DataFrame
    catchment: pd.DataFrame
    #: The scenario's centre table as arrays (every row, listed or not), for :attr:`_table`.
    _fields: dict[str, np.ndarray] = field(repr=False, compare=False)
    #: The ScenarioEngine that made it (typed loosely: the engine's module imports this one).
    _engine: Any = field(repr=False, compare=False)

    @functools.cached_property
    def _table(self) -> pd.DataFrame:
        """The centre table after the scenario (as :func:`apply_scenario` gives it, with
        ``in_authority`` worked out), built on first use: most evaluations never need it."""
        return self._engine._centre_frame(self._fields)

    @property
    def notes(self) -> list[str]:
        """What the scenario asked for that does not apply here, in words."""
        engine = self._engine
        notes = []
        if (
            engine.distances is not None
            and self.standards.walk_circuity != engine.standards.walk_circuity
        ):
            # Along a street network walking minutes are network metres at the walking speed:
            # the circuity factor is the straight line's stand-in for the streets, so it has
            # nothing to scale. The rest of the scenario still applies (the same file can be
            # run with and without a network), and the figures are the network's; saying so
            # keeps a planner from reading "no change" as "circuity does not matter".
            notes.append(
                f"The walking circuity change ({engine.standards.walk_circuity:g} -> "
                f"{self.standards.walk_circuity:g}) does not apply: distances are walked "
                f"{engine.distances.describe()}, so walking minutes are network metres at the "
                "walking speed with no circuity factor; remove it from the scenario, or run "
                "without --network to test it on straight lines."
            )
        return notes

    def to_result(self) -> SufficiencyResult:
        """The full :class:`SufficiencyResult` (maps, tables, 2SFCA) for this scenario."""
        engine = self._engine
        return build_result(
            engine.areas,
            engine.need_for(self.standards),
            self.catchment,
            table_to_centres(self._table[list(CENTRE_FIELDS)], engine.crs),
            self.standards,
            neighbours=engine.neighbours,
            distances=engine.distances,
        )


@dataclass(frozen=True)
class Headline:
    """A scenario's headline figures, from :meth:`ScenarioEngine.headline` (arrays only).

    The same numbers as :meth:`ScenarioEngine.evaluate` gives in ``figures``, ``bands`` and
    ``centres``, without building any table: for sliders, sweeps and many-scenario searches.

    Attributes
    ----------
    share_within_reach, share_deprived_within_reach, share_other_within_reach : float
        Shares of the authority's under-5s within reach: all, in the most deprived areas, the
        rest (NaN where there are none).
    under5, under5_within_reach : float
        The authority's under-5s, and those within reach.
    deprived_under5, deprived_under5_within_reach : float
        Those in the most deprived areas, and those of them within reach.
    under5_income_deprived : float
        The estimated under-5s in income-deprived families (as ``figures``).
    band_share_within_reach : ndarray
        Share within reach by national deprivation band, in the order of
        :data:`planning.analysis.need.BAND_LABELS` (NaN for a band with no under-5s).
    centre_ids : ndarray of str
        The centres listed (the council's, and neighbours' that serve its residents).
    centre_under5, centre_under5_residents : ndarray
        Each listed centre's whole load and the part of it that lives in the authority.
    centre_equivalents, under5_per_centre : float
    rag : str
        The verdict (Red, Amber or Green), with ``reasons`` worst first.
    """

    scenario: Scenario
    standards: Standards
    share_within_reach: float
    share_deprived_within_reach: float
    share_other_within_reach: float
    under5: float
    under5_within_reach: float
    deprived_under5: float
    deprived_under5_within_reach: float
    under5_income_deprived: float
    band_share_within_reach: np.ndarray
    centre_ids: np.ndarray
    centre_under5: np.ndarray
    centre_under5_residents: np.ndarray
    centre_equivalents: float
    under5_per_centre: float
    rag: str
    reasons: list[str]
