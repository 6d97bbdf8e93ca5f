"""The location-allocation models as mixed-integer programmes, built as sparse matrices for HiGHS.

:class:`_Program` lays out one model of :class:`planning.analysis.allocation.LocationAllocation`
(coverage, p-median, set covering, with its options) as the arrays
:func:`scipy.optimize.milp` takes, solves it and reads the answer back; :class:`_Rows` collects
its constraint rows as coordinate triples. No per-pair Python objects, so a county of about
1,000 small areas and as many sites fits easily.

Size: coverage and equity use only the area-site pairs within reach (exact by construction); the
p-median gives each area its ``k`` nearest sites plus a lower-bound "beyond" variable and grows
``k`` until no area uses it, which proves the answer equals the full model's (see
:class:`_Program`). Only the load band keeps all ``areas x sites`` assignment pairs.

This module is internal: :mod:`planning.analysis.allocation` is the optimiser's API.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
from scipy import optimize, sparse

from planning.analysis.distance import nearest

# Private: the solver's building blocks, for planning.analysis.allocation only.
__all__: list[str] = []


class _Model(Protocol):
    """What :meth:`_Program.build` reads of its model: a
    :class:`planning.analysis.allocation.LocationAllocation` (named here by its shape, since that
    module imports this one)."""

    objective: str
    p: int | None
    lock: np.ndarray | None
    existing: np.ndarray | None
    max_closures: int | None
    min_deprived_share: float | None
    load_band: tuple[float, float] | None
    fixed: np.ndarray | None

    @property
    def _needs_assignment(self) -> bool: ...

    def _must_cover(self, n_areas: int) -> np.ndarray: ...

    def _cover(self, cost: np.ndarray) -> np.ndarray: ...


_STATUS = {0: "Optimal", 1: "Time limit", 2: "Infeasible", 3: "Unbounded", 4: "Not Solved"}


@dataclass
class _Program:
    """A location-allocation model as sparse arrays for HiGHS (:func:`scipy.optimize.milp`).

    Columns are laid out as ``[open y (sites) | covered z (areas) | assign x (pairs) | beyond s]``;
    ``z`` exists only when coverage counts, ``x`` only for the median and the load band, ``s``
    only for a pruned p-median. Rows are built as one coordinate list, never pair by pair in
    Python.

    Pruning (why it is exact):

    * Coverage and equity only ever use the pairs within an area's reach (``z_i <= sum of y_j``
      over the sites within reach): leaving the other pairs out is the model itself, not an
      approximation.
    * p-median: area ``i`` gets assignment variables for its ``k_i`` nearest sites and one
      "beyond" variable ``s_i`` costing ``w_i`` times the distance to its ``(k_i + 1)``-th
      nearest site, the least any site outside the list could cost. Every network of the full
      model is feasible here at no more cost, so this programme's optimum is a lower bound on
      the full optimum; when no ``s_i`` is used its solution is feasible for the full model at
      the same cost, hence optimal for it. Areas that use ``s_i`` get ``k_i`` doubled and the
      programme is solved again, so the answer is always the exact p-median.
    * The load band assigns areas against capacity, where the nearest sites may all be full;
      it keeps every pair.
    """

    c: np.ndarray
    integrality: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    matrix: sparse.csr_array
    row_lower: np.ndarray
    row_upper: np.ndarray
    n_sites: int
    n_areas: int
    x_start: int
    pair_area: np.ndarray
    pair_site: np.ndarray
    s_start: int
    slack_areas: np.ndarray
    gap: float = 0.0

    @classmethod
    def build(
        cls,
        model: _Model,
        cost: np.ndarray,
        weights: np.ndarray,
        under5: np.ndarray,
        deprived: np.ndarray | None,
        *,
        k: np.ndarray,
    ) -> _Program:
        n_areas, n_sites = cost.shape
        fixed = (
            np.asarray(model.fixed, bool) if model.fixed is not None else np.zeros(n_sites, bool)
        )
        cover = model._cover(cost)
        cover_area, cover_site = np.nonzero(cover)
        needs_cover = model.objective == "coverage" or model.min_deprived_share is not None
        n_z = n_areas if needs_cover else 0
        pair_area = pair_site = np.array([], dtype=int)
        slack_areas = np.array([], dtype=int)
        slack_cost = np.array([], dtype=float)
        if model._needs_assignment:
            if np.all(k >= n_sites):
                pair_area = np.repeat(np.arange(n_areas), n_sites)
                pair_site = np.tile(np.arange(n_sites), n_areas)
            else:
                order = np.argsort(cost, axis=1, kind="stable")
                pair_area, rank = np.nonzero(np.arange(n_sites)[None, :] < k[:, None])
                pair_site = order[pair_area, rank]
                slack_areas = np.flatnonzero(k < n_sites)
                next_site = order[slack_areas, k[slack_areas]]
                slack_cost = weights[slack_areas] * cost[slack_areas, next_site]
        n_x, n_s = len(pair_area), len(slack_areas)
        z_start = n_sites
        x_start = z_start + n_z
        s_start = x_start + n_x
        n_vars = s_start + n_s

        c = np.zeros(n_vars)
        if model.objective == "coverage":
            c[z_start:x_start] = -weights  # maximise covered weight
        elif model.objective == "median":
            c[x_start:s_start] = weights[pair_area] * cost[pair_area, pair_site]
            c[s_start:] = slack_cost
        else:
            c[:n_sites] = (~fixed).astype(float)
        integrality = np.zeros(n_vars, dtype=np.uint8)
        integrality[:n_sites] = 1
        lower = np.zeros(n_vars)
        upper = np.ones(n_vars)
        lower[:n_sites][fixed] = 1.0
        if model.lock is not None:
            lower[:n_sites][np.asarray(model.lock, bool)] = 1.0

        rows = _Rows()
        choosable = np.flatnonzero(~fixed)
        if model.p is not None:
            low = 0.0 if model.objective == "cover-all" else float(model.p)
            rows.entries(rows.add(1, low, float(model.p)), choosable, 1.0)
        if needs_cover:
            first = rows.add(n_areas, -np.inf, 0.0)
            rows.entries(first + np.arange(n_areas), z_start + np.arange(n_areas), 1.0)
            rows.entries(first + cover_area, cover_site, -1.0)
        if n_x:
            first = rows.add(n_areas, 1.0, 1.0)  # each area assigned once (or beyond its list)
            rows.entries(first + pair_area, x_start + np.arange(n_x), 1.0)
            rows.entries(first + slack_areas, s_start + np.arange(n_s), 1.0)
            # x_ij <= y_j: the strong formulation, whose LP bound is tight for the p-median.
            first = rows.add(n_x, -np.inf, 0.0)
            rows.entries(first + np.arange(n_x), x_start + np.arange(n_x), 1.0)
            rows.entries(first + np.arange(n_x), pair_site, -1.0)
        if model.load_band is not None:
            position = np.full(n_sites, -1)
            position[choosable] = np.arange(len(choosable))
            held = position[pair_site] >= 0
            low, high = model.load_band
            for bound, lo, hi in ((high, -np.inf, 0.0), (low, 0.0, np.inf)):
                first = rows.add(len(choosable), lo, hi)
                rows.entries(first + np.arange(len(choosable)), choosable, -bound)
                rows.entries(
                    first + position[pair_site[held]],
                    x_start + np.flatnonzero(held),
                    under5[pair_area[held]],
                )
        if model.max_closures is not None and model.existing is not None:
            existing = np.flatnonzero(model.existing)
            keep = float(len(existing) - model.max_closures)
            rows.entries(rows.add(1, keep, np.inf), existing, 1.0)
        if model.min_deprived_share is not None and deprived is not None:
            counted = np.flatnonzero(np.asarray(deprived, bool) & model._must_cover(n_areas))
            target = model.min_deprived_share * float(under5[counted].sum())
            rows.entries(rows.add(1, target, np.inf), z_start + counted, under5[counted])
        if model.objective == "cover-all":
            must = model._must_cover(n_areas)
            position = np.cumsum(must) - 1
            first = rows.add(int(must.sum()), 1.0, np.inf)
            counts = must[cover_area]
            rows.entries(first + position[cover_area[counts]], cover_site[counts], 1.0)
        matrix, row_lower, row_upper = rows.to_arrays(n_vars)
        return cls(
            c=c,
            integrality=integrality,
            lower=lower,
            upper=upper,
            matrix=matrix,
            row_lower=row_lower,
            row_upper=row_upper,
            n_sites=n_sites,
            n_areas=n_areas,
            x_start=x_start,
            pair_area=pair_area,
            pair_site=pair_site,
            s_start=s_start,
            slack_areas=slack_areas,
        )

    def solve(self, time_limit: float) -> tuple[str, np.ndarray | None]:
        """Solve with HiGHS to a proven optimum (relative gap 0; HiGHS stops at 0.01% by
        default); the status and the solution, or ``None`` when there is none."""
        constraints = (
            [optimize.LinearConstraint(self.matrix, self.row_lower, self.row_upper)]
            if self.matrix.shape[0]
            else []
        )
        result = optimize.milp(
            self.c,
            integrality=self.integrality,
            bounds=optimize.Bounds(self.lower, self.upper),
            constraints=constraints,
            options={"time_limit": float(time_limit), "mip_rel_gap": 0.0, "disp": False},
        )
        status = _STATUS.get(int(result.status), "Not Solved")
        self.gap = float(getattr(result, "mip_gap", 0.0) or 0.0)
        if result.x is None or status not in ("Optimal", "Time limit"):
            # A time limit without any network in hand is no solution at all.
            return ("Not Solved" if status == "Time limit" else status), None
        return status, np.asarray(result.x)

    def loads(self, solution: np.ndarray, under5: np.ndarray, assignment: np.ndarray) -> np.ndarray:
        """Under-5s per site by the solved assignment (``assignment`` when not assigned)."""
        if len(self.pair_area):
            values = solution[self.x_start : self.s_start] * under5[self.pair_area]
            return np.bincount(self.pair_site, weights=values, minlength=self.n_sites)
        return np.bincount(assignment, weights=under5, minlength=self.n_sites)

    def split_areas(self, solution: np.ndarray) -> int:
        """Areas whose solved assignment is shared between sites."""
        if not len(self.pair_area):
            return 0
        shared = solution[self.x_start : self.s_start] < 1 - 1e-6
        shared &= solution[self.x_start : self.s_start] > 1e-6
        return len(np.unique(self.pair_area[shared]))

    def beyond(self, solution: np.ndarray) -> np.ndarray:
        """Areas the pruned p-median served beyond their nearest ``k`` sites."""
        used = solution[self.s_start : self.s_start + len(self.slack_areas)] > 1e-6
        return self.slack_areas[used]

    def objective_value(self, solution: np.ndarray) -> float:
        return float(self.c @ solution)

    def hold(self, bound: float, *, prefer: np.ndarray) -> _Program:
        """The same programme with its objective held at most ``bound`` and the ``prefer``
        sites' count maximised; no "beyond" variables, so its answer is feasible in full."""
        matrix = sparse.vstack([self.matrix, sparse.csr_array(self.c[None, :])], format="csr")
        c = np.zeros_like(self.c)
        c[: self.n_sites][np.asarray(prefer, bool)] = -1.0
        upper = self.upper.copy()
        upper[self.s_start :] = 0.0
        return _Program(
            c=c,
            integrality=self.integrality,
            lower=self.lower,
            upper=upper,
            matrix=matrix,
            row_lower=np.append(self.row_lower, -np.inf),
            row_upper=np.append(self.row_upper, bound),
            n_sites=self.n_sites,
            n_areas=self.n_areas,
            x_start=self.x_start,
            pair_area=self.pair_area,
            pair_site=self.pair_site,
            s_start=self.s_start,
            slack_areas=self.slack_areas,
        )

    def read(self, solution: np.ndarray, cost: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The open sites' columns, and each area's site: its solved assignment when the model
        assigns (the median, the load band), else its nearest open site."""
        # Binaries come back as floats near 0 or 1; 0.5 splits them whatever the tolerance.
        chosen = np.flatnonzero(solution[: self.n_sites] > 0.5)
        if len(self.pair_area):
            values = solution[self.x_start : self.s_start]
            # Each area's largest assignment; ties (split demand) go to the site listed first.
            order = np.lexsort((self.pair_site, -values, self.pair_area))
            area = self.pair_area[order]
            first = order[np.r_[True, area[1:] != area[:-1]]]
            assignment = np.zeros(self.n_areas, dtype=int)
            assignment[self.pair_area[first]] = self.pair_site[first]
            return chosen, assignment
        # The assessment's nearest-centre rule (ties within a millimetre go to the site listed
        # first), so the optimiser and the engine that evaluates its network agree.
        nearest_open, _ = nearest(
            np.zeros((self.n_areas, 2)), np.zeros((len(chosen), 2)), distances=cost[:, chosen]
        )
        return chosen, chosen[nearest_open]


class _Rows:
    """Constraint rows collected as coordinate triples, then one sparse matrix."""

    def __init__(self) -> None:
        self.count = 0
        self.row: list[np.ndarray] = []
        self.col: list[np.ndarray] = []
        self.val: list[np.ndarray] = []
        self.lower: list[np.ndarray] = []
        self.upper: list[np.ndarray] = []

    def add(self, n: int, lower: float, upper: float) -> int:
        """Add ``n`` rows bounded by ``[lower, upper]``; the index of the first."""
        first = self.count
        self.lower.append(np.full(n, lower))
        self.upper.append(np.full(n, upper))
        self.count += n
        return first

    def entries(self, rows: Any, cols: Any, values: Any) -> None:
        """Coefficients ``values`` at (row, column) pairs; a row given once means all of them."""
        cols = np.asarray(cols, dtype=int)
        rows = np.broadcast_to(np.asarray(rows, dtype=int), cols.shape)
        self.row.append(rows)
        self.col.append(cols)
        self.val.append(np.broadcast_to(np.asarray(values, dtype=float), rows.shape))

    def to_arrays(self, n_vars: int) -> tuple[sparse.csr_array, np.ndarray, np.ndarray]:
        if not self.count:
            return sparse.csr_array((0, n_vars)), np.array([]), np.array([])
        matrix = sparse.coo_array(
            (np.concatenate(self.val), (np.concatenate(self.row), np.concatenate(self.col))),
            shape=(self.count, n_vars),
        ).tocsr()
        return matrix, np.concatenate(self.lower), np.concatenate(self.upper)
