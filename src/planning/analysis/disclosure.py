"""Statistical disclosure control for published counts: primary and secondary suppression.

Registration counts are about identifiable children, so every count the workbench publishes from
them goes through :func:`protect_counts` first.

The method
----------
*Primary suppression*: a count ``0 < v < threshold`` (default 5, DOMAIN.md; some councils use
10) is withheld, and so is a total below the threshold. Zeros are published unless
``suppress_zeros``.

*Secondary suppression*: published totals could give a withheld count back by subtraction (a
locality total minus its published areas). Two passes prevent that:

1. the line rule: in every line with a published total (each group of each grouping, and the
   grand total), if the withheld members are exactly one, or sum to less than the threshold, the
   next smallest published member is withheld too (non-zero members first); repeated until
   nothing changes;
2. an audit by linear programming, which is what makes the result sound for linked tables (areas
   nested in centres in localities, crossed with deprivation bands and wards): for every
   primary-suppressed count, an intruder who knows every published cell and total, that counts are
   non-negative and any stated ordering (sustained <= registered) can narrow it to an interval
   ``[low, high]``; we require ``high - low >= threshold``. A count that fails gets one more
   complementary suppression (the published count that shares most published totals with it,
   non-zero and smallest first) and is audited again, until every count passes. Extra
   suppression only widens intervals, so counts that passed stay passed.

The audit relaxes integrality (intervals are those of the linear relaxation). The intruder is not
assumed to know which withheld cells are primary.

References: Hundepool et al. (2012) *Statistical Disclosure Control*, ch. 4 (cell suppression,
audit by linear programming); ONS (2019) *Disclosure control guidance for tables produced from
administrative sources*.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy.optimize import linprog

from planning._errors import ValidationError

#: Default smallest publishable count (DOMAIN.md: counts below 5 are suppressed).
DEFAULT_THRESHOLD = 5
#: Label of the grand-total grouping that every protection includes.
ALL = "All"


@dataclass(frozen=True)
class Suppression:
    """Which counts may be published.

    Attributes
    ----------
    cells : DataFrame of bool
        Aligned to the counts given; True = withheld.
    totals : dict of grouping name -> DataFrame of bool
        For each grouping (and ``"All"``, the grand total), one row per group; True = withheld.
    threshold : int
        Smallest publishable count.
    audit : DataFrame
        One row per primary-suppressed count: ``item``, ``column``, ``value`` and the interval
        ``low``..``high`` an intruder can deduce (``high - low >= threshold`` for all).
    """

    cells: pd.DataFrame
    totals: dict[str, pd.DataFrame]
    threshold: int
    audit: pd.DataFrame = field(repr=False)

    @property
    def withheld(self) -> int:
        """Number of cells and totals withheld."""
        totals = sum(t.to_numpy().sum() for t in self.totals.values())
        return int(self.cells.to_numpy().sum() + totals)


def _primary(values: np.ndarray, threshold: int, suppress_zeros: bool) -> np.ndarray:
    small = values < threshold
    return small if suppress_zeros else small & (values > 0)


class _Problem:
    """The counts as a linear system over one variable per (cell, column)."""

    def __init__(
        self,
        values: np.ndarray,
        groups: dict[str, np.ndarray],
        labels: dict[str, np.ndarray],
        not_greater: Sequence[tuple[int, int]],
        upper: np.ndarray,
    ) -> None:
        self.values = values  # (n, m)
        self.n, self.m = values.shape
        self.groups = groups  # grouping -> integer code per row
        self.labels = labels  # grouping -> label per code
        self.not_greater = list(not_greater)
        self.upper = upper
        self._nesting: dict[tuple[str, str], np.ndarray | None] = {}
        self.members = {
            g: [np.flatnonzero(codes == k) for k in range(len(labels[g]))]
            for g, codes in groups.items()
        }
        self.totals = {
            g: np.array(
                [[values[rows, c].sum() for c in range(self.m)] for rows in self.members[g]]
            ).reshape(len(labels[g]), self.m)
            for g in groups
        }

    def nesting(self, inner: str, outer: str) -> np.ndarray | None:
        """Parent group (in ``outer``) of each group of ``inner`` when ``inner`` nests in it."""
        key = (inner, outer)
        if key not in self._nesting:
            parents = np.full(len(self.labels[inner]), -1)
            ok = True
            for k, members in enumerate(self.members[inner]):
                found = np.unique(self.groups[outer][members])
                if len(found) != 1:
                    ok = False
                    break
                parents[k] = found[0]
            # A grouping equal to its parent (one group each) adds no line.
            if ok and len(self.labels[inner]) == len(self.labels[outer]):
                ok = False
            self._nesting[key] = parents if ok else None
        return self._nesting[key]

    def var(self, row: int, column: int) -> int:
        return column * self.n + row

    def interval(
        self,
        cell_hidden: np.ndarray,
        total_hidden: dict[str, np.ndarray],
        rows: np.ndarray,
        column: int,
    ) -> tuple[float, float]:
        """Range of ``sum(values[rows, column])`` given everything published.

        Published cells are constants, so the linear programme has one variable per withheld
        cell only: each published total gives ``sum(withheld members) = total - sum(published
        members)``, each ordering ``x_small <= x_large`` a row or a bound.
        """
        n, m = self.n, self.m
        hidden_flat = cell_hidden.T.reshape(-1)
        values_flat = self.values.T.reshape(-1).astype(float)
        position = np.full(n * m, -1)
        position[hidden_flat] = np.arange(int(hidden_flat.sum()))
        count = int(hidden_flat.sum())
        target = column * n + np.asarray(rows)
        constant = float(values_flat[target][~hidden_flat[target]].sum())
        mine = position[target][hidden_flat[target]]
        if len(mine) == 0:
            return constant, constant
        upper = self.upper.T.reshape(-1)[hidden_flat].astype(float).copy()
        lower = np.zeros(count)
        eq_rows: list[int] = []
        eq_cols: list[int] = []
        b_eq: list[float] = []
        for g, hidden in total_hidden.items():
            for k, members in enumerate(self.members[g]):
                for c in range(m):
                    if hidden[k, c] or len(members) == 0:
                        continue
                    flat = c * n + members
                    unknown = position[flat][hidden_flat[flat]]
                    if len(unknown) == 0:
                        continue
                    known = float(values_flat[flat][~hidden_flat[flat]].sum())
                    eq_rows.extend([len(b_eq)] * len(unknown))
                    eq_cols.extend(unknown.tolist())
                    b_eq.append(self.totals[g][k, c] - known)
        ub_rows: list[int] = []
        ub_cols: list[int] = []
        ub_vals: list[float] = []
        for small, large in self.not_greater:
            for i in range(n):
                a, b = small * n + i, large * n + i
                if hidden_flat[a] and hidden_flat[b]:
                    r = len(ub_rows) // 2
                    ub_rows += [r, r]
                    ub_cols += [int(position[a]), int(position[b])]
                    ub_vals += [1.0, -1.0]
                elif hidden_flat[a]:
                    upper[position[a]] = min(upper[position[a]], values_flat[b])
                elif hidden_flat[b]:
                    lower[position[b]] = max(lower[position[b]], values_flat[a])
        constrained = set(eq_cols) | set(ub_cols)
        if any(int(v) not in constrained and not np.isfinite(upper[v]) for v in mine):
            return constant + float(lower[mine].sum()), np.inf
        objective = np.zeros(count)
        objective[mine] = 1.0
        n_ub = len(ub_rows) // 2
        # Small dense systems: cheaper to hand to HiGHS than sparse ones at this size.
        a_eq = np.zeros((len(b_eq), count))
        a_eq[eq_rows, eq_cols] = 1.0
        a_ub = np.zeros((n_ub, count))
        a_ub[ub_rows, ub_cols] = ub_vals
        kwargs: dict[str, Any] = {
            "A_eq": a_eq if b_eq else None,
            "b_eq": np.array(b_eq) if b_eq else None,
            "A_ub": a_ub if n_ub else None,
            "b_ub": np.zeros(n_ub) if n_ub else None,
            "bounds": np.column_stack([lower, upper]),
            "method": "highs",
        }
        low = linprog(objective, **kwargs)
        high = linprog(-objective, **kwargs)
        lo = float(low.fun) if low.status == 0 else -np.inf
        hi = float(-high.fun) if high.status == 0 else np.inf
        return constant + lo, constant + hi


def protect_counts(
    counts: pd.DataFrame,
    *,
    groupings: Mapping[str, pd.Series] | None = None,
    threshold: int = DEFAULT_THRESHOLD,
    publish_cells: bool = True,
    not_greater: Sequence[tuple[str, str]] = (),
    upper_bounds: pd.DataFrame | None = None,
    suppress_zeros: bool = False,
) -> Suppression:
    """Decide which counts, and which group totals, may be published.

    Parameters
    ----------
    counts : DataFrame
        Non-negative integer counts, one row per cell (e.g. per small area), one column per
        measure (e.g. ``registered``, ``sustained``).
    groupings : mapping of name -> Series aligned to ``counts``, optional
        Each a partition of the rows whose group totals are published (centre, locality,
        deprivation band...). The grand total (``"All"``) is always included.
    threshold : int
        Smallest publishable non-zero count (default 5).
    publish_cells : bool
        False when only group totals are published (the cells are then all withheld).
    not_greater : sequence of (column, column)
        Orderings an intruder knows, e.g. ``("sustained", "registered")``.
    upper_bounds : DataFrame, optional
        Known upper bounds per cell (e.g. published registered counts bounding a sub-group); NaN
        or inf where none.
    suppress_zeros : bool
        Treat zeros as disclosive too.

    Returns
    -------
    Suppression

    Examples
    --------
    >>> counts = pd.DataFrame({"registered": [3, 40, 50]}, index=["a", "b", "c"])
    >>> s = protect_counts(counts)
    >>> s.cells["registered"].tolist()        # 3 is withheld, and 40 so the total cannot give it
    [True, True, False]
    """
    if threshold < 1:
        raise ValidationError(f"suppression threshold must be at least 1, not {threshold}")
    values = counts.to_numpy(dtype=float)
    if np.isnan(values).any() or (values < 0).any():
        raise ValidationError("counts to protect must be non-negative numbers with no blanks")
    n, m = values.shape
    columns = list(counts.columns)
    groups: dict[str, np.ndarray] = {}
    labels: dict[str, np.ndarray] = {}
    for name, series in (groupings or {}).items():
        aligned = series.reindex(counts.index)
        if aligned.isna().any():
            raise ValidationError(
                f"grouping '{name}' has no group for rows "
                f"{', '.join(map(str, counts.index[aligned.isna()][:5]))}; give every row a group"
            )
        codes, uniques = pd.factorize(aligned, sort=True)
        groups[name] = codes
        labels[name] = np.asarray(uniques)
    groups[ALL] = np.zeros(n, dtype=int)
    labels[ALL] = np.array([ALL], dtype=object)
    index_of = {c: i for i, c in enumerate(columns)}
    pairs = []
    for small, large in not_greater:
        if small not in index_of or large not in index_of:
            raise ValidationError(f"not_greater names unknown columns {small!r}, {large!r}")
        pairs.append((index_of[small], index_of[large]))
    upper = (
        np.full((n, m), np.inf)
        if upper_bounds is None
        else np.nan_to_num(
            upper_bounds.reindex(index=counts.index, columns=columns).to_numpy(dtype=float),
            nan=np.inf,
        )
    )
    problem = _Problem(values, groups, labels, pairs, upper)

    primary_cells = _primary(values, threshold, suppress_zeros)
    cell_hidden = primary_cells.copy() if publish_cells else np.ones((n, m), dtype=bool)
    primary_totals = {
        g: _primary(problem.totals[g], threshold, suppress_zeros) for g in groups
    }
    total_hidden = {g: t.copy() for g, t in primary_totals.items()}

    _line_rule(problem, cell_hidden, total_hidden, threshold, publish_cells)

    # Items to protect: primary cells (when cells are published at all) and primary totals.
    items: list[tuple[str, object, np.ndarray, int, bool]] = []
    for c in range(m):
        if publish_cells:
            for i in np.flatnonzero(primary_cells[:, c]):
                items.append(("cell", counts.index[i], np.array([i]), c, True))
        for g in groups:
            for k in np.flatnonzero(primary_totals[g][:, c]):
                items.append((g, labels[g][k], problem.members[g][k], c, False))
    audit_rows = []
    limit = n * m + sum(t.size for t in total_hidden.values())
    for kind, label, rows, c, is_cell in items:
        for _ in range(limit):
            lo, hi = problem.interval(cell_hidden, total_hidden, rows, c)
            if hi - lo >= threshold - 1e-6:
                break
            if not _complement(problem, cell_hidden, total_hidden, kind, rows, c, publish_cells):
                break  # nothing left to withhold: everything around it is hidden already
            # Keep the simple lines sound after each extra suppression too.
            _line_rule(problem, cell_hidden, total_hidden, threshold, publish_cells)
        audit_rows.append(
            {
                "item": f"{kind} {label}" if kind != "cell" else f"{label}",
                "column": columns[c],
                "value": float(values[rows, c].sum()),
                "low": lo,
                "high": hi,
                "protected": bool(hi - lo >= threshold - 1e-6),
            }
        )
    cells = pd.DataFrame(cell_hidden, index=counts.index, columns=columns)
    totals = {
        g: pd.DataFrame(total_hidden[g], index=pd.Index(labels[g], name=g), columns=columns)
        for g in groups
    }
    audit = pd.DataFrame(
        audit_rows, columns=["item", "column", "value", "low", "high", "protected"]
    )
    return Suppression(cells=cells, totals=totals, threshold=threshold, audit=audit)


def _line_rule(
    problem: _Problem,
    cell_hidden: np.ndarray,
    total_hidden: dict[str, np.ndarray],
    threshold: int,
    publish_cells: bool,
) -> None:
    """Withhold the next smallest member of any line whose withheld members could be deduced.

    Lines: the cells of each group (total = the group's), the groups of each grouping (total =
    the grand total), and the groups of a grouping nested in another (centres within a
    locality: total = the locality's). A published total over a single withheld member is
    withheld too.
    """
    values = problem.values
    nested = [
        (g, h, problem.nesting(g, h))
        for g in problem.groups
        for h in problem.groups
        if g != h and g != ALL and h != ALL and problem.nesting(g, h) is not None
    ]
    changed = True
    while changed:
        changed = False

        def line(member_values: np.ndarray, hidden: np.ndarray) -> int | None:
            if _withhold_next(member_values, hidden, threshold):
                return _smallest(member_values, hidden)
            return None

        for c in range(problem.m):
            for g, members_of in problem.members.items():
                if publish_cells:
                    for k, members in enumerate(members_of):
                        if total_hidden[g][k, c] or len(members) == 0:
                            continue
                        if len(members) == 1 and cell_hidden[members[0], c]:
                            total_hidden[g][k, c] = True
                            changed = True
                            continue
                        pick = line(values[members, c], cell_hidden[members, c])
                        if pick is not None:
                            cell_hidden[members[pick], c] = True
                            changed = True
                if g != ALL and not total_hidden[ALL][0, c]:
                    pick = line(problem.totals[g][:, c], total_hidden[g][:, c])
                    if pick is not None:
                        total_hidden[g][pick, c] = True
                        changed = True
            for g, h, parent in nested:
                for k in range(len(problem.labels[h])):
                    if total_hidden[h][k, c]:
                        continue
                    inside = np.flatnonzero(parent == k)
                    if len(inside) == 1 and total_hidden[g][inside[0], c]:
                        total_hidden[h][k, c] = True
                        changed = True
                        continue
                    pick = line(problem.totals[g][inside, c], total_hidden[g][inside, c])
                    if pick is not None:
                        total_hidden[g][inside[pick], c] = True
                        changed = True


def _withhold_next(values: np.ndarray, hidden: np.ndarray, threshold: int) -> bool:
    if not hidden.any() or hidden.all():
        return False
    return bool(hidden.sum() == 1 or values[hidden].sum() < threshold)


def _smallest(values: np.ndarray, hidden: np.ndarray) -> int:
    candidates = np.flatnonzero(~hidden)
    # Non-zero first: withholding a zero protects nothing in a sum.
    order = sorted(candidates, key=lambda i: (values[i] == 0, values[i], i))
    return int(order[0])


def _complement(
    problem: _Problem,
    cell_hidden: np.ndarray,
    total_hidden: dict[str, np.ndarray],
    kind: str,
    rows: np.ndarray,
    column: int,
    publish_cells: bool,
) -> bool:
    """Withhold one more published count near the item; False when none is left."""
    values, c = problem.values, column
    row_set = set(rows.tolist())
    # Published totals that contain the item's rows (lines it sits in).
    lines = [
        (g, problem.groups[g][rows[0]])
        for g in problem.groups
        if g != kind and len(rows) and not total_hidden[g][problem.groups[g][rows[0]], c]
        and set(problem.members[g][problem.groups[g][rows[0]]].tolist()) >= row_set
    ]

    def shared(row: int) -> int:
        return sum(
            1 for g in problem.groups
            if not total_hidden[g][problem.groups[g][row], c]
            and problem.groups[g][row] == problem.groups[g][rows[0]]
        )

    if kind == "cell":
        candidates: list[tuple[tuple, tuple]] = []
        if publish_cells:
            for g, k in lines:
                for i in problem.members[g][k]:
                    if i not in row_set and not cell_hidden[i, c]:
                        v = values[i, c]
                        candidates.append(((v == 0, -shared(i), v, i), ("cell", i, c)))
            for small, large in problem.not_greater:
                partner = large if small == c else small if large == c else None
                if partner is not None:
                    for i in rows:
                        if not cell_hidden[i, partner]:
                            v = values[i, partner]
                            candidates.append(((v == 0, 0, v, i), ("cell", i, partner)))
        if candidates:
            _, (_, i, col) = min(candidates, key=lambda t: t[0])
            cell_hidden[i, col] = True
            return True
        totals = [(problem.totals[g][k, c], g, k) for g, k in lines]
        if totals:
            _, g, k = min(totals, key=lambda t: (t[0] == 0, t[0]))
            total_hidden[g][k, c] = True
            return True
        return False

    # A group total: first a sibling in the same grouping that shares most published totals.
    g = kind
    mine = problem.groups[g][rows[0]]
    siblings = []
    for k, members in enumerate(problem.members[g]):
        if k == mine or total_hidden[g][k, c] or len(members) == 0:
            continue
        common = sum(
            1 for h in problem.groups if h not in (g, ALL)
            and len(set(problem.groups[h][members]) & set(problem.groups[h][rows])) > 0
        )
        v = problem.totals[g][k, c]
        siblings.append(((v == 0, -common, v, k), k))
    if siblings:
        _, k = min(siblings, key=lambda t: t[0])
        total_hidden[g][k, c] = True
        return True
    # Then published totals of other groupings that overlap it, then its published members.
    others = []
    for h in problem.groups:
        if h == g:
            continue
        for k in set(problem.groups[h][rows].tolist()):
            if not total_hidden[h][k, c]:
                others.append(((problem.totals[h][k, c] == 0, problem.totals[h][k, c]), h, k))
    if others:
        _, h, k = min(others, key=lambda t: t[0])
        total_hidden[h][k, c] = True
        return True
    if publish_cells:
        members = [i for i in rows if not cell_hidden[i, c]]
        if members:
            cell_hidden[members[0], c] = True
            return True
    return False


def apply_suppression(
    table: pd.DataFrame,
    hidden: pd.DataFrame,
    *,
    derived: Mapping[str, Sequence[str]] | None = None,
) -> pd.DataFrame:
    """Blank withheld counts (as NA) and every figure derived from them.

    Parameters
    ----------
    table : DataFrame
        The table to publish, with the count columns of ``hidden``.
    hidden : DataFrame of bool
        Same index as ``table``; True where a count is withheld.
    derived : mapping of column -> counts it is computed from
        E.g. ``{"reach": ["registered"], "sustained_rate": ["sustained", "registered"]}``: a
        rate is blanked when any count it uses is withheld (a rate and a public denominator
        would give the count back).
    """
    out = table.copy()
    hidden = hidden.reindex(index=out.index).fillna(False).astype(bool)
    for column in hidden.columns:
        if column in out:
            kind = "Int64" if pd.api.types.is_integer_dtype(out[column]) else "Float64"
            out[column] = out[column].astype(kind).mask(hidden[column])
    for column, sources in (derived or {}).items():
        if column not in out:
            continue
        mask = np.zeros(len(out), dtype=bool)
        for source in sources:
            if source in hidden:
                mask |= hidden[source].to_numpy()
        if out[column].dtype == object or isinstance(out[column].dtype, pd.StringDtype):
            out[column] = out[column].astype(object).mask(mask)
        elif out[column].dtype == bool or isinstance(out[column].dtype, pd.BooleanDtype):
            out[column] = out[column].astype("boolean").mask(mask)
        else:
            out[column] = out[column].astype("Float64").mask(mask)
    return out
