"""The disclosure audit: the intruder's linear system over the counts not published, and its solution.

This module holds :class:`_Problem` (the counts as a linear system: the sparse incidence matrix
of every line the intruder may know, built once; the system for one suppression pattern and its
connected components; the intervals and the joint witness solutions), the HiGHS calls, the codes
of a count's state in a publication and :class:`DisclosureError`.
:mod:`planning.analysis.disclosure` holds the rest: the intruder the audit is tested against,
the protection rule, the publication rules and rounding, and the suppression method
(:func:`~planning.analysis.disclosure.protect_counts`, which calls this audit), with the public
API.

The system, built once and split
---------------------------------
Every line the intruder may know (one group total in one column) is a row of a sparse
incidence matrix over all cells, built once per protection. For a suppression pattern the
audit's system is that matrix with the rows of published totals (equalities) and withheld
totals (at least 1), and the columns of the cells not published (the variables; published cells
are constants moved to the right-hand side): slices of one matrix, not a rebuild. Orderings add
a row ``x_small - x_large <= 0`` when both cells are hidden, else a bound.

The audit then works per connected component: variables linked by a row (a total over them, an
ordering between them) are in one component. A published total that equals the sum of published
totals of a finer grouping nested in it (the grand total when every deprivation band's total is
published) is implied by them and dropped first, so the components are usually the bands, not
the table. This is exact: dropping an implied equality leaves the feasible set as it was, and
with no row across components the system is block-diagonal, so its feasible set is the product
of the components' and a linear objective separates by block: the least (greatest) sum of an
item's cells is the sum, over the components they are in, of the least (greatest) there. A
component holding none of the item's cells needs no programme, nor does one without rows (its
variables range over their own bounds). Equal partitions imply one another one way only, so a
dropped row is always implied by rows kept. Each component's programme goes to HiGHS
(``highspy``) as one model, solved for the least sum and then, from that basis, for the
greatest. The joint witness solutions that spare most sensitive counts an interval of their own
are solved per group of components the counts link; they are only a shortcut (a count they do
not show safe gets its exact interval), so the pattern does not depend on which optimal solution
the solver returns. The tests compare every interval, and the pattern of every publication,
with the whole-table audit (one programme over every row kept).

References: Hundepool, A. et al. (2012) *Statistical Disclosure Control*, Wiley, ch. 4 (cell
suppression, protection levels, audit by linear programming).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import highspy
import numpy as np
from scipy import sparse
from scipy.sparse.csgraph import connected_components

from planning._errors import PlanningError
from planning._highs import quiet_banner

# State of a count in a publication.
PUBLISHED, WITHHELD, UNPUBLISHED = 0, 1, 2
_EPS = 1e-6


class DisclosureError(PlanningError):
    """A publication whose disclosure audit failed: it is refused, not published."""


@dataclass
class _System:
    """The linear system over the counts not published, for one suppression pattern.

    One variable per (cell, column) not published, numbered column by column. ``component``
    labels each variable with its connected component (all 0 on the whole-table path).
    """

    count: int
    position: np.ndarray  # flat cell (column * n + row) -> variable, -1 if published
    hidden: np.ndarray  # flat cell -> not published
    values: np.ndarray  # flat cell -> true count
    lower: np.ndarray  # variable -> lower bound
    upper: np.ndarray  # variable -> upper bound
    a_eq: sparse.csr_array
    b_eq: np.ndarray
    a_ub: sparse.csr_array
    b_ub: np.ndarray
    constrained: np.ndarray  # variable -> appears in some row
    component: np.ndarray  # variable -> component label
    eq_component: np.ndarray  # row of a_eq -> component label
    ub_component: np.ndarray  # row of a_ub -> component label


@dataclass
class _Part:
    """The rows and variables of a set of components, as a linear programme of their own."""

    variables: np.ndarray  # variable numbers in the whole system
    a_eq: sparse.csr_array
    b_eq: np.ndarray
    a_ub: sparse.csr_array
    b_ub: np.ndarray
    lower: np.ndarray
    upper: np.ndarray

    @property
    def rows(self) -> int:
        return int(self.a_eq.shape[0] + self.a_ub.shape[0])


def _highs() -> highspy.Highs:
    """A HiGHS solver with its output off (and its banner kept out of standard output:
    :func:`planning._highs.quiet_banner`)."""
    quiet_banner()
    solver = highspy.Highs()
    solver.setOptionValue("output_flag", False)
    return solver


def _run_highs(solver: highspy.Highs) -> tuple[float | None, np.ndarray | None]:
    """Solve the model in ``solver``: ``(objective, x)``, or ``(None, None)`` if no optimum.

    Raises :class:`DisclosureError` if the system is infeasible (the tables cannot be the
    counts'): that is a bug, never an audit result.
    """
    solver.run()
    status = solver.getModelStatus()
    if status == highspy.HighsModelStatus.kInfeasible:
        raise DisclosureError(
            "the disclosure audit found the published tables inconsistent with the counts "
            "(a zero withheld as a blank?); this is a bug in the workbench: please report it"
        )
    if status != highspy.HighsModelStatus.kOptimal:
        return None, None
    value = float(solver.getInfo().objective_function_value)
    return value, np.asarray(solver.getSolution().col_value, dtype=float)


class _Programme:
    """A part of the system as one HiGHS model, to minimise several objectives over.

    Equalities and ``<=`` rows are one row range each (``b <= a x <= b``, ``a x <= b``);
    ``extra_bounds`` adds variables after the part's, with ``extra_ub`` rows over all of them.
    """

    def __init__(
        self,
        part: _Part,
        *,
        extra_ub: sparse.csr_array | None = None,
        extra_b: np.ndarray | None = None,
        extra_bounds: np.ndarray | None = None,
    ) -> None:
        size = len(part.variables)
        extra = 0 if extra_bounds is None else len(extra_bounds)
        self.count = size + extra
        blocks = [part.a_eq, part.a_ub]
        if extra:
            blocks = [sparse.hstack([b, sparse.csr_array((b.shape[0], extra))]) for b in blocks]
        if extra_ub is not None and extra_b is not None:
            blocks.append(extra_ub)
        matrix = sparse.vstack(blocks, format="csc")
        b_ub = part.b_ub if extra_b is None else np.concatenate([part.b_ub, extra_b])
        lower, upper = part.lower, part.upper
        if extra_bounds is not None:
            lower = np.concatenate([lower, extra_bounds[:, 0]])
            upper = np.concatenate([upper, extra_bounds[:, 1]])
        model = highspy.HighsLp()
        model.num_col_ = self.count
        model.num_row_ = int(matrix.shape[0])
        model.col_cost_ = np.zeros(self.count)
        model.col_lower_ = np.asarray(lower, dtype=float)
        model.col_upper_ = np.asarray(upper, dtype=float)
        model.row_lower_ = np.concatenate([part.b_eq, np.full(len(b_ub), -np.inf)])
        model.row_upper_ = np.concatenate([part.b_eq, b_ub])
        model.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        model.a_matrix_.start_ = matrix.indptr.astype(np.int32)
        model.a_matrix_.index_ = matrix.indices.astype(np.int32)
        model.a_matrix_.value_ = matrix.data.astype(float)
        self.solver = _highs()
        self.solver.passModel(model)

    def solve(self, objective: np.ndarray) -> tuple[float | None, np.ndarray | None]:
        """Minimise ``objective @ x``: ``(least, x)``, or ``(None, None)`` with no optimum."""
        self.solver.changeColsCost(
            self.count, np.arange(self.count, dtype=np.int32), np.asarray(objective, dtype=float)
        )
        return _run_highs(self.solver)


def _csr(
    rows: list[np.ndarray],
    cols: list[np.ndarray],
    vals: list[np.ndarray],
    shape: tuple[int, int],
) -> sparse.csr_array:
    """A CSR array from per-row lists of column numbers and values (may be empty)."""
    if not rows:
        return sparse.csr_array(shape)
    return sparse.csr_array(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=shape
    )


class _Problem:
    """The counts as a linear system over one variable per (cell, column) not published.

    Every published line (a group total in one column) is one row of a sparse incidence
    matrix over all ``n * m`` cells, built once here; :meth:`system` selects the rows of the
    totals published (equalities) or withheld (at least 1) and the columns of the cells not
    published, so a new pattern costs a few sparse slices, not a rebuild.

    ``components`` (default): the audit solves one programme per connected component of the
    system (see the module docstring); False: one programme over the whole table, the system
    built by :meth:`_whole_system` with nothing dropped (the cross-check of the tests).
    """

    def __init__(
        self,
        values: np.ndarray,
        groups: dict[str, np.ndarray],
        labels: dict[str, np.ndarray],
        not_greater: Sequence[tuple[int, int]],
        lower: np.ndarray,
        upper: np.ndarray,
        blank_floor: float,
        *,
        components: bool = True,
    ) -> None:
        self.values = values  # (n, m)
        self.n, self.m = values.shape
        self.groups = groups  # grouping -> integer code per row
        self.labels = labels  # grouping -> label per code
        self.not_greater = list(not_greater)
        self.lower = lower
        self.upper = upper
        self.blank_floor = blank_floor
        self.components = components
        self._nesting: dict[tuple[str, str], np.ndarray | None] = {}
        self.members: dict[str, list[np.ndarray]] = {}
        self.totals: dict[str, np.ndarray] = {}
        for g, codes in groups.items():
            size = len(labels[g])
            order = np.argsort(codes, kind="stable")
            bounds = np.searchsorted(codes[order], np.arange(1, size))
            self.members[g] = np.split(order, bounds)
            totals = np.zeros((size, self.m))
            np.add.at(totals, codes, values)
            self.totals[g] = totals
        # Line (grouping g, column c, group k) is row (g, c, k) of the incidence matrix over the
        # flat cells c * n + row: per grouping, one membership block per column.
        blocks = []
        for g, codes in groups.items():
            member = sparse.csr_array(
                (np.ones(self.n), (codes, np.arange(self.n))), shape=(len(labels[g]), self.n)
            )
            blocks.append(sparse.kron(sparse.eye_array(self.m), member, format="csr"))
        self._lines = sparse.vstack(blocks, format="csc")
        self._line_totals = np.concatenate([self.totals[g].T.reshape(-1) for g in groups])
        # Lines implied by finer published lines (an outer total equals the sum of the inner
        # totals that partition it): (inner, outer, parent of each inner group). Equal
        # partitions imply one way only (the first grouping implies the second), never both.
        order_of = {g: i for i, g in enumerate(groups)}
        self._implying = [
            (g, h, parents)
            for g in groups
            for h in groups
            if g != h
            and (parents := self._parents(g, h)) is not None
            and (
                len(labels[g]) > len(labels[h])
                or (len(labels[g]) == len(labels[h]) and order_of[g] < order_of[h])
            )
        ]
        self._cache: tuple[bytes, _System] | None = None

    def _parents(self, inner: str, outer: str) -> np.ndarray | None:
        """Group of ``outer`` holding each group of ``inner``, or None if one straddles two."""
        parents = np.full(len(self.labels[inner]), -1)
        for k, members in enumerate(self.members[inner]):
            found = np.unique(self.groups[outer][members])
            if len(found) != 1:
                return None
            parents[k] = found[0]
        return parents

    def nesting(self, inner: str, outer: str) -> np.ndarray | None:
        """Parent group (in ``outer``) of each group of ``inner`` when ``inner`` nests in it."""
        key = (inner, outer)
        if key not in self._nesting:
            parents = self._parents(inner, outer)
            # A grouping equal to its parent (one group each) adds no line.
            if parents is not None and len(self.labels[inner]) == len(self.labels[outer]):
                parents = None
            self._nesting[key] = parents
        return self._nesting[key]

    def bounds(self, cell_state: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per-cell bounds the intruder knows: a blank is at least ``blank_floor``."""
        lower = self.lower.copy()
        blank = cell_state == WITHHELD
        lower[blank] = np.maximum(lower[blank], self.blank_floor)
        return lower, self.upper

    def system(self, cell_state: np.ndarray, total_state: dict[str, np.ndarray]) -> _System:
        """The linear system over the cells not published, given everything published.

        Published cells are constants, so there is one variable per cell not published: each
        published total gives ``sum(hidden members) = total - sum(published members)``, each
        withheld total ``sum(members) >= 1``, each ordering ``x_small <= x_large`` a row or a
        bound. The last system is kept: the audit asks for the same pattern several times.
        """
        key = cell_state.tobytes() + b"".join(total_state[g].tobytes() for g in self.groups)
        if self._cache is None or self._cache[0] != key:
            build = self._component_system if self.components else self._whole_system
            self._cache = (key, build(cell_state, total_state))
        return self._cache[1]

    def _flat(
        self, cell_state: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, int]:
        """Flat (column-major) hidden mask, values, variable numbers and variable bounds."""
        n, m = self.n, self.m
        hidden = (cell_state != PUBLISHED).T.reshape(-1)
        values = self.values.T.reshape(-1).astype(float)
        lower_all, upper_all = self.bounds(cell_state)
        count = int(hidden.sum())
        position = np.full(n * m, -1)
        position[hidden] = np.arange(count)
        lower = lower_all.T.reshape(-1)[hidden].astype(float).copy()
        upper = upper_all.T.reshape(-1)[hidden].astype(float).copy()
        return hidden, values, position, lower, upper, count

    def _component_system(
        self, cell_state: np.ndarray, total_state: dict[str, np.ndarray]
    ) -> _System:
        """The system from the incidence matrix, without implied rows, split into components."""
        hidden, values, position, lower, upper, count = self._flat(cell_state)
        lines = self._lines[:, hidden].tocsr()  # lines x variables
        unknown = np.diff(lines.indptr)
        known = self._lines @ np.where(hidden, 0.0, values)
        state = np.concatenate([total_state[g].T.reshape(-1) for g in self.groups])
        implied = {g: np.zeros(total_state[g].shape, dtype=bool) for g in self.groups}
        for inner, outer, parents in self._implying:
            open_inner = np.zeros(total_state[outer].shape)
            np.add.at(open_inner, parents, total_state[inner] != PUBLISHED)
            implied[outer] |= open_inner == 0
        implied_flat = np.concatenate([implied[g].T.reshape(-1) for g in self.groups])
        eq = (state == PUBLISHED) & (unknown > 0) & ~implied_flat
        ub = (state == WITHHELD) & (unknown > 0)
        if self.blank_floor > 0:
            # A withheld total is at least 1 (-sum(unknown) <= known - 1), unless its blank
            # members' floors already say so.
            ub &= 1 - known > lines @ lower + _EPS
        else:
            ub[:] = False
        a_eq, b_eq = lines[eq], self._line_totals[eq] - known[eq]
        ub_parts, b_parts = [-lines[ub]], [known[ub] - 1.0]
        cells = np.arange(self.n)
        for small, large in self.not_greater:
            a, b = small * self.n + cells, large * self.n + cells
            both = hidden[a] & hidden[b]
            k = int(both.sum())
            ub_parts.append(
                sparse.csr_array(
                    (
                        np.tile([1.0, -1.0], k),
                        (
                            np.repeat(np.arange(k), 2),
                            np.column_stack([position[a[both]], position[b[both]]]).reshape(-1),
                        ),
                    ),
                    shape=(k, count),
                )
            )
            b_parts.append(np.zeros(k))
            only_small = hidden[a] & ~hidden[b]
            at = position[a[only_small]]
            upper[at] = np.minimum(upper[at], values[b[only_small]])
            only_large = hidden[b] & ~hidden[a]
            at = position[b[only_large]]
            lower[at] = np.maximum(lower[at], values[a[only_large]])
        a_ub = sparse.vstack(ub_parts, format="csr")
        b_ub = np.concatenate(b_parts)
        # Components: the bipartite graph of variables and rows.
        rows = sparse.vstack([a_eq, a_ub], format="csr")
        link = sparse.csr_array(
            (
                np.ones(rows.nnz),
                (np.repeat(np.arange(rows.shape[0]), np.diff(rows.indptr)) + count, rows.indices),
            ),
            shape=(count + rows.shape[0], count + rows.shape[0]),
        )
        _, label = connected_components(link, directed=False)
        row_label = label[count:]
        return _System(
            count=count,
            position=position,
            hidden=hidden,
            values=values,
            lower=lower,
            upper=upper,
            a_eq=a_eq,
            b_eq=b_eq,
            a_ub=a_ub,
            b_ub=b_ub,
            constrained=np.diff(rows.tocsc().indptr) > 0,
            component=label[:count],
            eq_component=row_label[: a_eq.shape[0]],
            ub_component=row_label[a_eq.shape[0] :],
        )

    def _whole_system(self, cell_state: np.ndarray, total_state: dict[str, np.ndarray]) -> _System:
        """The system built line by line, every row kept, as one component (the reference)."""
        n, m = self.n, self.m
        hidden_flat, values_flat, position, lower, upper, count = self._flat(cell_state)
        eq_rows: list[np.ndarray] = []
        eq_cols: list[np.ndarray] = []
        b_eq: list[float] = []
        ub_rows: list[np.ndarray] = []
        ub_cols: list[np.ndarray] = []
        ub_vals: list[np.ndarray] = []
        b_ub: list[float] = []
        for g, states in total_state.items():
            for k, members in enumerate(self.members[g]):
                if len(members) == 0:
                    continue
                for c in range(m):
                    state = states[k, c]
                    if state == UNPUBLISHED:
                        continue
                    flat = c * n + members
                    unknown = position[flat][hidden_flat[flat]]
                    if len(unknown) == 0:
                        continue
                    known = float(values_flat[flat][~hidden_flat[flat]].sum())
                    if state == PUBLISHED:
                        eq_rows.append(np.full(len(unknown), len(b_eq)))
                        eq_cols.append(unknown)
                        b_eq.append(self.totals[g][k, c] - known)
                    elif self.blank_floor > 0 and 1 - known > lower[unknown].sum() + _EPS:
                        # A withheld total is at least 1: -sum(unknown) <= known - 1.
                        ub_rows.append(np.full(len(unknown), len(b_ub)))
                        ub_cols.append(unknown)
                        ub_vals.append(np.full(len(unknown), -1.0))
                        b_ub.append(known - 1.0)
        for small, large in self.not_greater:
            for i in range(n):
                a, b = small * n + i, large * n + i
                if hidden_flat[a] and hidden_flat[b]:
                    ub_rows.append(np.full(2, len(b_ub)))
                    ub_cols.append(np.array([position[a], position[b]]))
                    ub_vals.append(np.array([1.0, -1.0]))
                    b_ub.append(0.0)
                elif hidden_flat[a]:
                    upper[position[a]] = min(upper[position[a]], values_flat[b])
                elif hidden_flat[b]:
                    lower[position[b]] = max(lower[position[b]], values_flat[a])
        constrained = np.zeros(count, dtype=bool)
        for cols in eq_cols + ub_cols:
            constrained[cols] = True
        return _System(
            count=count,
            position=position,
            hidden=hidden_flat,
            values=values_flat,
            lower=lower,
            upper=upper,
            a_eq=_csr(eq_rows, eq_cols, [np.ones(len(r)) for r in eq_rows], (len(b_eq), count)),
            b_eq=np.array(b_eq, dtype=float),
            a_ub=_csr(ub_rows, ub_cols, ub_vals, (len(b_ub), count)),
            b_ub=np.array(b_ub, dtype=float),
            constrained=constrained,
            component=np.zeros(count, dtype=int),
            eq_component=np.zeros(len(b_eq), dtype=int),
            ub_component=np.zeros(len(b_ub), dtype=int),
        )

    def _item(
        self, system: _System, rows: np.ndarray, column: int
    ) -> tuple[float, np.ndarray, float]:
        """An item's published part, its hidden cells' variables, and its floor (their bounds)."""
        target = column * self.n + np.asarray(rows)
        hidden = system.hidden[target]
        constant = float(system.values[target][~hidden].sum())
        mine = system.position[target][hidden]
        floor = constant + float(system.lower[mine].sum())
        return constant, mine, floor

    @staticmethod
    def _part(system: _System, components: np.ndarray) -> _Part:
        """The programme of the given components alone."""
        variables = np.flatnonzero(np.isin(system.component, components))
        eq = np.isin(system.eq_component, components)
        ub = np.isin(system.ub_component, components)
        return _Part(
            variables=variables,
            a_eq=system.a_eq[eq][:, variables],
            b_eq=system.b_eq[eq],
            a_ub=system.a_ub[ub][:, variables],
            b_ub=system.b_ub[ub],
            lower=system.lower[variables],
            upper=system.upper[variables],
        )

    def interval(
        self,
        cell_state: np.ndarray,
        total_state: dict[str, np.ndarray],
        rows: np.ndarray,
        column: int,
    ) -> tuple[float, float, float]:
        """``(low, high, floor)`` of ``sum(values[rows, column])`` given everything published.

        ``floor`` is the least the sum can be from the per-cell bounds alone. The least and
        the greatest sum are the sums over the components the item's cells are in of the
        least and greatest there (a component with no row needs no programme: its bounds).
        """
        system = self.system(cell_state, total_state)
        constant, mine, floor = self._item(system, rows, column)
        if len(mine) == 0:
            return constant, constant, constant
        free = (~system.constrained[mine]) & ~np.isfinite(system.upper[mine])
        parts = [self._part(system, np.array([k])) for k in np.unique(system.component[mine])]
        lo, hi = constant, constant
        for part in parts:
            objective = np.isin(part.variables, mine).astype(float)
            if part.rows == 0:
                lo += float(part.lower @ objective)
                hi += float(part.upper[objective > 0].sum())
                continue
            # One model per component, solved twice: the second solve starts from the first's
            # basis (only the objective changes).
            programme = _Programme(part)
            least, _ = programme.solve(objective)
            lo += least if least is not None else -np.inf
            if not free.any():
                most, _ = programme.solve(-objective)
                hi += -most if most is not None else np.inf
        if free.any():
            return lo, np.inf, floor
        return lo, hi, floor

    def witnesses(
        self,
        cell_state: np.ndarray,
        total_state: dict[str, np.ndarray],
        items: list[tuple[np.ndarray, int]],
        threshold: int,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Which items are shown safe by two solutions of the system for all items at once.

        One solution minimises the sum of the items: an item at its floor there can be that
        small. The other maximises ``sum(min(item, threshold))`` (one helper variable per item):
        an item at the threshold there can be that large. Any feasible point stays feasible when
        more is withheld, so these certificates hold for the final pattern too. Both are
        solved per group of components that the items link (components no item is in need no
        programme).
        """
        system = self.system(cell_state, total_state)
        parts = [self._item(system, rows, c) for rows, c in items]
        low_ok = np.zeros(len(items), dtype=bool)
        high_ok = np.zeros(len(items), dtype=bool)
        # Components an item spans are solved together (its helper variable links them).
        ncomp = int(system.component.max()) + 1 if system.count else 0
        spans = [system.component[mine] for _, mine, _ in parts if len(mine)]
        first = [np.full(len(span), span[0]) for span in spans]
        link = sparse.csr_array(
            (
                np.ones(sum(len(span) for span in spans)),
                (
                    np.concatenate(first or [np.zeros(0, dtype=int)]),
                    np.concatenate(spans or [np.zeros(0, dtype=int)]),
                ),
            ),
            shape=(ncomp, ncomp),
        )
        group = connected_components(link, directed=False)[1] if ncomp else np.zeros(0, int)
        item_group = np.array(
            [group[system.component[mine[0]]] if len(mine) else -1 for _, mine, _ in parts]
        )
        for j, (constant, mine, floor) in enumerate(parts):
            if len(mine) == 0:
                low_ok[j] = constant <= floor + 1e-4
                high_ok[j] = constant >= threshold - 1e-4
        for label in np.unique(item_group[item_group >= 0]):
            chosen = np.flatnonzero(item_group == label)
            part = self._part(system, np.flatnonzero(group == label))
            local = np.full(system.count, -1)
            local[part.variables] = np.arange(len(part.variables))
            count = len(part.variables)
            objective = np.zeros(count)
            for item in chosen:
                objective[local[parts[item][1]]] += 1.0
            _, x = _Programme(part).solve(objective)
            if x is not None:
                for item in chosen:
                    constant, mine, floor = parts[item]
                    low_ok[item] = constant + x[local[mine]].sum() <= floor + 1e-4
            # y_j <= constant_j + sum(x[mine_j]), 0 <= y_j <= threshold; maximise sum(y).
            rows_, cols_, vals_ = [], [], []
            for r, item in enumerate(chosen):
                mine = local[parts[item][1]]
                rows_.append(np.full(len(mine) + 1, r))
                cols_.append(np.concatenate([[count + r], mine]).astype(int))
                vals_.append(np.concatenate([[1.0], -np.ones(len(mine))]))
            extra = _csr(rows_, cols_, vals_, (len(chosen), count + len(chosen)))
            objective = np.concatenate([np.zeros(count), -np.ones(len(chosen))])
            bounds = np.column_stack(
                [np.zeros(len(chosen)), np.full(len(chosen), float(threshold))]
            )
            programme = _Programme(
                part,
                extra_ub=extra,
                extra_b=np.array([parts[item][0] for item in chosen]),
                extra_bounds=bounds,
            )
            _, x = programme.solve(objective)
            if x is not None:
                high_ok[chosen] = x[count:] >= threshold - 1e-4
        return low_ok, high_ok
