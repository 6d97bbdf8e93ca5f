"""Plausible inputs for the uncertainty of a sufficiency assessment: one row per draw.

:func:`draw_inputs` draws ``N`` sets of inputs from
:class:`planning.uncertainty_model.UncertaintyModel` (``uncertainty.yaml``) for the areas a
:class:`~planning.analysis.sufficiency.SufficiencyResult` assessed, the neighbouring
authorities' areas included, and returns them as :class:`Draws`: under-5s by age band with
population and apportionment error, IDACI counts anywhere in their rounding and suppression
interval (:func:`idaci_intervals`), and per draw the circuity and the standards' ranges. They
are carried to the verdicts by :mod:`planning.analysis.uncertainty_propagation`;
:mod:`planning.analysis.uncertainty` re-exports these names.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from planning._errors import ValidationError
from planning.analysis.sufficiency import SufficiencyResult
from planning.uncertainty_model import AGE_BANDS, UncertaintyModel

__all__ = ["DEFAULT_DRAWS", "Draws", "draw_inputs", "idaci_intervals"]

DEFAULT_DRAWS = 1_000


@dataclass(frozen=True)
class Draws:
    """Plausible inputs: one row per draw.

    ``under5`` for every assessed area, ``idaci_children`` for residents, ``circuity``,
    ``reach_km`` and ``load_max`` per draw (``None``: the standards' point value).
    """

    area_index: pd.Index
    under5: np.ndarray
    idaci_children: np.ndarray
    circuity: np.ndarray | None
    reach_km: np.ndarray | None
    load_max: np.ndarray | None
    seed: int

    @property
    def n(self) -> int:
        return int(self.under5.shape[0])


# --------------------------------------------------------------------------------------------
# Plausible inputs


def _assessed_frame(result: SufficiencyResult) -> pd.DataFrame:
    neighbours = result.neighbour_areas
    if neighbours is None or len(neighbours) == 0:
        return pd.DataFrame(result.areas)
    columns = list(result.areas.columns)
    return pd.concat([pd.DataFrame(result.areas), neighbours.reindex(columns=columns)])


def _lognormal_factors(rng: np.random.Generator, cv: float, shape: tuple[int, int]) -> np.ndarray:
    """Multiplicative errors with mean 1 and coefficient of variation ``cv``:
    ``exp(sigma z - sigma^2 / 2)``, ``sigma^2 = log(1 + cv^2)`` (exactly 1 when ``cv`` is 0)."""
    if cv <= 0:
        return np.ones(shape)
    sigma = np.sqrt(np.log1p(cv * cv))
    return np.exp(sigma * rng.standard_normal(shape) - sigma * sigma / 2)


def _bands(frame: pd.DataFrame) -> np.ndarray:
    """Each area's under-5s by :data:`AGE_BANDS`, scaled to sum to ``under5``; without single
    years of age, a fifth of the under-5s count as babies."""
    under5 = frame["under5"].to_numpy(float)
    columns = [c for cols in AGE_BANDS.values() for c in cols]
    if set(columns) <= set(frame.columns):
        bands = np.column_stack(
            [frame[list(cols)].to_numpy(float).sum(axis=1) for cols in AGE_BANDS.values()]
        )
        total = bands.sum(axis=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            scale = np.where(total > 0, under5 / np.where(total > 0, total, 1), 0.0)
        missing = total <= 0
        bands = bands * scale[:, None]
        bands[missing, 0] = under5[missing] / 5
        bands[missing, 1] = under5[missing] * 4 / 5
        return np.asarray(bands, dtype=float)
    return np.column_stack([under5 / 5, under5 * 4 / 5])


def idaci_intervals(frame: pd.DataFrame, model: UncertaintyModel) -> tuple[np.ndarray, np.ndarray]:
    """The exact interval of whole numbers each area's IDACI count may be (low, high).

    A published count ``x``, rounded to the nearest ``b`` (half up), is a whole number in
    ``[x - (b - 1) // 2, x + b // 2]``, and no less than the suppression limit ``s`` (a smaller
    count would have been suppressed); a suppressed count (``idaci_estimated``) is in
    ``[0, s - 1]``. Areas with no published count (a toy town) are exact.

    Examples
    --------
    >>> frame = pd.DataFrame({"idaci_children": [230.0, 10.0, 4.0, 7.0],
    ...                       "idaci_children_published": [230.0, 10.0, None, None],
    ...                       "idaci_estimated": [False, False, True, False]})
    >>> low, high = idaci_intervals(frame, UncertaintyModel())
    >>> low.tolist(), high.tolist()
    ([228.0, 10.0, 0.0, 7.0], [232.0, 12.0, 9.0, 7.0])
    """
    point = frame["idaci_children"].to_numpy(float)
    low, high = point.copy(), point.copy()
    base, below = model.idaci_rounding_base, model.idaci_suppressed_below
    if base is None or below is None:
        return low, high
    estimated = (
        frame["idaci_estimated"].astype("boolean").fillna(False).to_numpy(bool)
        if "idaci_estimated" in frame
        else np.zeros(len(frame), dtype=bool)
    )
    if "idaci_children_published" in frame:
        published = pd.to_numeric(frame["idaci_children_published"], errors="coerce").to_numpy(
            float
        )
        known = np.isfinite(published) & ~estimated
        low[known] = np.maximum(published[known] - (base - 1) // 2, below)
        high[known] = published[known] + base // 2
    low[estimated] = 0.0
    high[estimated] = max(below - 1, 0)
    return low, high


def _split_units(
    index: pd.Index, split_groups: pd.Series | None
) -> tuple[np.ndarray, list[np.ndarray]]:
    """Each area's error unit (areas apportioned from one 2011 area share its error) and the
    members of every split group with two or more assessed areas."""
    units = np.arange(len(index))
    groups: list[np.ndarray] = []
    if split_groups is None or len(split_groups) == 0:
        return units, groups
    group = pd.Series(index.map(split_groups), index=range(len(index))).dropna()
    for _, members in group.groupby(group, sort=True):
        positions = members.index.to_numpy(np.int64)
        if len(positions) > 1:
            units[positions] = positions[0]
            groups.append(positions)
    _, units = np.unique(units, return_inverse=True)
    return units, groups


def draw_inputs(
    result: SufficiencyResult,
    model: UncertaintyModel,
    *,
    draws: int = DEFAULT_DRAWS,
    seed: int | None = None,
    split_groups: pd.Series | None = None,
) -> Draws:
    """``draws`` plausible sets of inputs for ``result``'s assessed areas.

    Population (per error unit and age band ``b``): ``u_b * exp(sigma_b z - sigma_b^2 / 2)``
    with ``sigma_b^2 = log(1 + cv_b^2)``, times a factor shared by each authority when
    ``authority_cv`` is set. Apportionment: each split group's drawn total is divided among its
    areas by Dirichlet shares with mean the point shares and concentration ``k``
    (``split_groups`` maps area code to group, :func:`planning.inputs.splits.split_groups`).
    IDACI: a whole number uniform in :func:`idaci_intervals`. Circuity and the standards'
    ranges: uniform per draw. ``seed`` defaults to :data:`planning.settings.RANDOM_SEED`.
    """
    from planning import settings

    if draws < 1:
        raise ValidationError(f"draws must be at least 1, not {draws}")
    seed = settings.RANDOM_SEED if seed is None else int(seed)
    rng = np.random.default_rng(seed)
    frame = _assessed_frame(result)
    n_all, n = len(frame), len(result.areas)
    bands = _bands(frame)
    units, groups = _split_units(frame.index, split_groups)
    n_units = int(units.max()) + 1 if n_all else 0
    under5 = np.zeros((draws, n_all))
    for column, band in enumerate(AGE_BANDS):
        factor = _lognormal_factors(rng, model.population_cv.get(band, 0.0), (draws, n_units))
        under5 += bands[:, column] * factor[:, units]
    if model.authority_cv > 0 and "utla_code" in frame:
        codes, _ = pd.factorize(frame["utla_code"].astype(str))
        shared = _lognormal_factors(rng, model.authority_cv, (draws, int(codes.max()) + 1))
        under5 *= shared[:, codes]
    kappa = model.apportionment_concentration
    if kappa is not None:
        point = frame["under5"].to_numpy(float)
        for members in groups:
            weights = point[members]
            live = members[weights > 0]
            if len(live) < 2:
                continue
            shares = rng.gamma(kappa * point[live] / point[live].sum(), size=(draws, len(live)))
            total = under5[:, members].sum(axis=1, keepdims=True)
            under5[:, members] = 0.0
            under5[:, live] = total * shares / shares.sum(axis=1, keepdims=True)
    low, high = idaci_intervals(frame.iloc[:n], model)
    width = (high - low + 1).astype(np.int64)
    idaci = low + np.floor(rng.random((draws, n)) * width) if (width > 1).any() else None
    if idaci is None:
        idaci = np.broadcast_to(low, (draws, n)).copy()

    def uniform(bounds: tuple[float, float] | None) -> np.ndarray | None:
        if bounds is None:
            return None
        return rng.uniform(bounds[0], bounds[1], draws)

    return Draws(
        area_index=frame.index,
        under5=under5,
        idaci_children=idaci,
        circuity=uniform(model.circuity),
        reach_km=uniform(model.reach_km),
        load_max=uniform(model.max_under5_per_centre),
        seed=seed,
    )
