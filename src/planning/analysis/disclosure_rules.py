"""The rules that decide which counts are withheld: primary, line rule, complements.

This module holds how a suppression pattern is built and extended for
:func:`~planning.analysis.disclosure.protect_counts`: the primary suppression of sensitive
counts (:func:`_withhold_primary`), :class:`_State` (the pattern being built, with the line rule
and the choice of each complementary suppression), the loop that protects the sensitive counts
one block at a time until the audit shows each is safe (:func:`_protect_items`,
:func:`_protect_item`) and the two-sided protection rule itself (:func:`_safe`), with
:data:`ALL`, the label of the grand-total grouping the rules treat as the line of every
grouping's totals. :mod:`planning.analysis.disclosure` holds the public API, the intruder and
the method they implement, and rounding; :mod:`planning.analysis.disclosure_audit` holds the
audit's linear system.

The rules follow *The method* in :mod:`planning.analysis.disclosure`.

References: Hundepool, A. et al. (2012) *Statistical Disclosure Control*, Wiley, ch. 4 (cell
suppression, protection levels).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from planning.analysis.disclosure_audit import (
    _EPS,
    PUBLISHED,
    UNPUBLISHED,
    WITHHELD,
    _Problem,
)

__all__ = ["ALL"]

#: Label of the grand-total grouping that every protection includes.
ALL = "All"


def _primary(values: np.ndarray, threshold: int, suppress_zeros: bool) -> np.ndarray:
    small = values < threshold
    return small if suppress_zeros else small & (values > 0)


#: A sensitive count to protect: (kind, label, rows, column, is a cell); ``kind`` is "cell" or a
#: grouping's name.
_Item = tuple[str, object, np.ndarray, int, bool]
#: How many open items are protected one at a time between two joint witness solutions.
_BLOCK = 20


def _withhold_primary(
    problem: _Problem,
    mutable: np.ndarray,
    cell_state: np.ndarray,
    total_state: dict[str, np.ndarray],
    *,
    threshold: int,
    suppress_zeros: bool,
    publish_cells: bool,
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Withhold (in place) the sensitive cells and published totals; return where they are."""
    primary_cells = _primary(problem.values, threshold, suppress_zeros) & mutable[None, :]
    if publish_cells:
        cell_state[primary_cells] = WITHHELD
    primary_totals = {
        g: _primary(problem.totals[g], threshold, suppress_zeros)
        & mutable[None, :]
        & (total_state[g] == PUBLISHED)
        for g in problem.groups
    }
    for g, primary in primary_totals.items():
        total_state[g][primary] = WITHHELD
    return primary_cells, primary_totals


def _protect_items(state: _State, items: list[_Item]) -> dict[int, tuple[float, float, float]]:
    """``(low, high, floor)`` per item after complementary suppression; NaN high if witnessed.

    Items shown safe by two solutions for all open items at once (most of them) need no
    interval of their own; then a block of the rest is protected one at a time, and the
    witnesses are sought again, since the new blanks may have made others safe.
    """
    problem, cell_state, total_state = state.p, state.cells, state.totals
    # More rounds than there are counts to withhold cannot be needed.
    limit = problem.n * problem.m + sum(t.size for t in total_state.values()) + 1
    found: dict[int, tuple[float, float, float]] = {}
    todo = list(range(len(items)))
    while todo:
        low_ok, high_ok = problem.witnesses(
            cell_state, total_state, [(items[j][2], items[j][3]) for j in todo], state.threshold
        )
        system = problem.system(cell_state, total_state)
        for j, ok in zip(todo, low_ok & high_ok):
            if ok:
                floor = problem._item(system, items[j][2], items[j][3])[2]
                found[j] = (floor, float("nan"), floor)
        todo = [j for j, ok in zip(todo, low_ok & high_ok) if not ok]
        for j in todo[:_BLOCK]:
            kind, _, rows, c, _ = items[j]
            found[j] = _protect_item(state, kind, rows, c, limit)
        todo = todo[_BLOCK:]
    return found


def _protect_item(
    state: _State, kind: str, rows: np.ndarray, column: int, limit: int
) -> tuple[float, float, float]:
    """Withhold complements around one item until its interval is safe or none is left.

    Returns the item's last ``(low, high, floor)``, safe or not (the audit decides).
    """
    problem, threshold = state.p, state.threshold
    for _ in range(limit):
        lo, hi, floor = problem.interval(state.cells, state.totals, rows, column)
        if _safe(lo, hi, floor, threshold):
            break
        # A withheld cell ordered with this one may be what pins it (a sustained count
        # deduced to be at least 2 bounds its registered count below): widen that first.
        if kind == "cell" and state.complement_partner(rows, column, low=lo > floor + _EPS):
            state.line_rule()
            continue
        if not state.complement(kind, rows, column):
            break  # nothing left to withhold around it
        state.line_rule()
    return lo, hi, floor


def _safe(lo: float, hi: float, floor: float, threshold: int) -> bool:
    """The two-sided protection rule: ``low <= floor`` and ``high >= threshold``."""
    return bool(lo <= floor + _EPS and hi >= threshold - _EPS)


class _State:
    """The suppression pattern being built, with the rules that extend it."""

    def __init__(
        self,
        problem: _Problem,
        cell_state: np.ndarray,
        total_state: dict[str, np.ndarray],
        mutable: np.ndarray,
        threshold: int,
        suppress_zeros: bool,
    ) -> None:
        self.p = problem
        self.cells = cell_state
        self.totals = total_state
        self.mutable = mutable
        self.threshold = threshold
        self.suppress_zeros = suppress_zeros

    def _can_withhold(self, value: float, state: int, column: int) -> bool:
        # Zeros are never withheld as complements, so a blank is always at least 1.
        return bool(
            state == PUBLISHED and self.mutable[column] and (value > 0 or self.suppress_zeros)
        )

    def _weak(self, values: np.ndarray, hidden: np.ndarray) -> bool:
        """Withheld members of a line with a published total that cannot hide each other."""
        k = int(hidden.sum())
        if k == 0 or k == len(hidden):
            return False
        floor = 0 if self.suppress_zeros else 1
        return bool(k == 1 or values[hidden].sum() - (k - 1) * floor < self.threshold)

    def _pick(self, values: np.ndarray, states: np.ndarray, column: int) -> int | None:
        candidates = [
            i for i in range(len(values)) if self._can_withhold(values[i], states[i], column)
        ]
        if not candidates:
            return None
        return int(min(candidates, key=lambda i: (values[i] == 0, values[i], i)))

    def line_rule(self) -> None:
        """Withhold the next smallest member of any line whose withheld members could be deduced.

        Lines: the cells of each group (total = the group's), the groups of each grouping
        (total = the grand total), and the groups of a grouping nested in another. When no
        member can be withheld, the line's total is withheld instead.
        """
        p = self.p
        nested = [
            (g, h, p.nesting(g, h))
            for g in p.groups
            for h in p.groups
            if g != h and g != ALL and h != ALL and p.nesting(g, h) is not None
        ]
        changed = True
        while changed:
            changed = False
            for c in range(p.m):
                if not self.mutable[c]:
                    continue
                for g, members_of in p.members.items():
                    for k, members in enumerate(members_of):
                        if self.totals[g][k, c] != PUBLISHED or len(members) == 0:
                            continue
                        states = self.cells[members, c]
                        if (states == UNPUBLISHED).any():
                            continue
                        if self._weak(p.values[members, c], states != PUBLISHED):
                            changed |= self._extend(
                                p.values[members, c],
                                states,
                                lambda i, rows=members, c=c: self.cells.__setitem__(
                                    (rows[i], c), WITHHELD
                                ),
                                g,
                                k,
                                c,
                            )
                    if g != ALL and self.totals[ALL][0, c] == PUBLISHED:
                        states = self.totals[g][:, c]
                        if not (states == UNPUBLISHED).any() and self._weak(
                            p.totals[g][:, c], states != PUBLISHED
                        ):
                            changed |= self._extend(
                                p.totals[g][:, c],
                                states,
                                lambda i, g=g, c=c: self.totals[g].__setitem__((i, c), WITHHELD),
                                ALL,
                                0,
                                c,
                            )
                for g, h, parent in nested:
                    for k in range(len(p.labels[h])):
                        if self.totals[h][k, c] != PUBLISHED:
                            continue
                        inside = np.flatnonzero(parent == k)
                        states = self.totals[g][inside, c]
                        if (states == UNPUBLISHED).any():
                            continue
                        if self._weak(p.totals[g][inside, c], states != PUBLISHED):
                            changed |= self._extend(
                                p.totals[g][inside, c],
                                states,
                                lambda i, g=g, inside=inside, c=c: self.totals[g].__setitem__(
                                    (inside[i], c), WITHHELD
                                ),
                                h,
                                k,
                                c,
                            )

    def _extend(self, values, states, withhold, g: str, k: int, c: int) -> bool:
        pick = self._pick(values, states, c)
        if pick is not None:
            withhold(pick)
            return True
        if self._can_withhold(self.p.totals[g][k, c], self.totals[g][k, c], c):
            self.totals[g][k, c] = WITHHELD
            return True
        return False

    def complement_partner(self, rows: np.ndarray, column: int, *, low: bool) -> bool:
        """Widen a withheld cell that bounds this one through an ordering, if it is too narrow.

        ``low``: the item's lower side failed, so look at cells known to be smaller (e.g. its
        sustained count); otherwise at cells known to be larger.
        """
        p = self.p
        partners = (
            [small for small, large in p.not_greater if large == column]
            if low
            else [large for small, large in p.not_greater if small == column]
        )
        for pc in partners:
            if not self.mutable[pc]:
                continue
            for i in rows:
                if self.cells[i, pc] == PUBLISHED:
                    continue
                one = np.array([i])
                lo, hi, floor = p.interval(self.cells, self.totals, one, pc)
                narrow = lo > floor + _EPS if low else hi < self.threshold - _EPS
                if narrow and self.complement("cell", one, pc):
                    return True
        return False

    def complement(self, kind: str, rows: np.ndarray, column: int) -> bool:
        """Withhold one more published count near the item; False when none is left."""
        if kind == "cell":
            return self._complement_cell(rows, column)
        # A group total: first a sibling in the same grouping that shares most published totals,
        # then a total of a column it is ordered with, then an overlapping total, then a member.
        return (
            self._withhold_sibling(kind, rows, column)
            or self._withhold_ordered_total(kind, rows, column)
            or self._withhold_overlapping_total(kind, rows, column)
            or self._withhold_member(rows, column)
        )

    def _lines_through(self, kind: str, rows: np.ndarray, column: int) -> list[tuple[str, int]]:
        """Published totals (grouping, group) that contain the item's rows (lines it sits in)."""
        p, c = self.p, column
        row_set = set(rows.tolist())
        return [
            (g, p.groups[g][rows[0]])
            for g in p.groups
            if g != kind
            and len(rows)
            and self.totals[g][p.groups[g][rows[0]], c] == PUBLISHED
            and set(p.members[g][p.groups[g][rows[0]]].tolist()) >= row_set
        ]

    def _shared(self, row: int, rows: np.ndarray, column: int) -> int:
        """How many published totals ``row`` shares with the item's first row."""
        p = self.p
        return sum(
            1
            for g in p.groups
            if self.totals[g][p.groups[g][row], column] == PUBLISHED
            and p.groups[g][row] == p.groups[g][rows[0]]
        )

    def _complement_cell(self, rows: np.ndarray, column: int) -> bool:
        """For a cell: a line-mate sharing most totals or an ordered partner, else a line total."""
        p, c = self.p, column
        row_set = set(rows.tolist())
        lines = self._lines_through("cell", rows, c)
        candidates: list[tuple[tuple, tuple[int, int]]] = []
        for g, k in lines:
            for i in p.members[g][k].tolist():
                v = p.values[i, c]
                if i not in row_set and self._can_withhold(v, self.cells[i, c], c):
                    candidates.append(((-self._shared(i, rows, c), v, i), (i, c)))
        for small, large in p.not_greater:
            partner = large if small == c else small if large == c else None
            if partner is not None:
                for i in rows:
                    v = p.values[i, partner]
                    if self._can_withhold(v, self.cells[i, partner], partner):
                        candidates.append(((0, v, i), (i, partner)))
        if candidates:
            _, (i, col) = min(candidates, key=lambda t: t[0])
            self.cells[i, col] = WITHHELD
            return True
        totals = [
            (p.totals[g][k, c], g, k)
            for g, k in lines
            if self._can_withhold(p.totals[g][k, c], self.totals[g][k, c], c)
        ]
        if totals:
            _, g, k = min(totals, key=lambda t: t[0])
            self.totals[g][k, c] = WITHHELD
            return True
        return False

    def _ordered_columns(self, column: int) -> list[int]:
        """Columns ``column`` is ordered with (either side), in column order."""
        p = self.p
        return sorted(
            {large for small, large in p.not_greater if small == column}
            | {small for small, large in p.not_greater if large == column}
        )

    def _withhold_sibling(self, g: str, rows: np.ndarray, column: int) -> bool:
        """Withhold the sibling total sharing most other groupings with the item, smallest first."""
        p, c = self.p, column
        mine = p.groups[g][rows[0]]
        siblings: list[Any] = []
        for k, members in enumerate(p.members[g]):
            v = p.totals[g][k, c]
            if k == mine or len(members) == 0 or not self._can_withhold(v, self.totals[g][k, c], c):
                continue
            common = sum(
                1
                for h in p.groups
                if h not in (g, ALL) and len(set(p.groups[h][members]) & set(p.groups[h][rows])) > 0
            )
            siblings.append(((-common, v, k), k))
        if siblings:
            _, k = min(siblings, key=lambda t: t[0])
            self.totals[g][k, c] = WITHHELD
            return True
        return False

    def _withhold_ordered_total(self, g: str, rows: np.ndarray, column: int) -> bool:
        """Withhold the group's total of an ordered column, else that column's smallest sibling.

        A target group's sustained count is bounded by its registered count, so hiding the
        partner's total widens this one.
        """
        p = self.p
        mine = p.groups[g][rows[0]]
        for cc in self._ordered_columns(column):
            if self._can_withhold(p.totals[g][mine, cc], self.totals[g][mine, cc], cc):
                self.totals[g][mine, cc] = WITHHELD
                return True
            siblings = [
                ((p.totals[g][k, cc], k), k)
                for k in range(len(p.members[g]))
                if k != mine and self._can_withhold(p.totals[g][k, cc], self.totals[g][k, cc], cc)
            ]
            if siblings:
                _, k = min(siblings, key=lambda t: t[0])
                self.totals[g][k, cc] = WITHHELD
                return True
        return False

    def _withhold_overlapping_total(self, g: str, rows: np.ndarray, column: int) -> bool:
        """Withhold the smallest published total of another grouping that overlaps the group.

        The item's own column is preferred to the columns it is ordered with.
        """
        p = self.p
        others = []
        for order, cc in enumerate([column, *self._ordered_columns(column)]):
            for h in p.groups:
                if h == g:
                    continue
                for k in set(p.groups[h][rows].tolist()):
                    v = p.totals[h][k, cc]
                    if self._can_withhold(v, self.totals[h][k, cc], cc):
                        others.append(((order, v, h, k), h, k, cc))
        if others:
            _, h, k, cc = min(others, key=lambda t: t[0])
            self.totals[h][k, cc] = WITHHELD
            return True
        return False

    def _withhold_member(self, rows: np.ndarray, column: int) -> bool:
        """Withhold the group's first published member that can be withheld."""
        p, c = self.p, column
        withholdable = [i for i in rows if self._can_withhold(p.values[i, c], self.cells[i, c], c)]
        if withholdable:
            self.cells[withholdable[0], c] = WITHHELD
            return True
        return False
