"""Statistical disclosure control for published counts: suppression audited against an intruder.

Registration counts are about identifiable children, so every count the workbench publishes from
them goes through :func:`protect_counts` (exact counts, cell suppression) or
:func:`round_counts` (rounded counts) first.

The intruder
------------
Disclosure control is only as good as the intruder it is tested against. The audit's intruder
knows:

* every table published from the same extract: the small-area table, the ward, deprivation-band
  and authority totals, the centre and locality tables, the target-group tables and the age bands
  (callers pass them all to one audit: :func:`planning.runs.reach_publication.publish_reach`);
* that a withheld (blank) count is at least 1, because zeros are published; a withheld total too;
* every ordering that holds (sustained <= registered, a target group <= registered);
* the rounded value (:func:`round_counts`) of every small-area count, because tables whose
  groupings can change (centres, localities) or are small (wards) are sums of rounded
  small-area counts, and a scenario can give one small area a centre of its own;
* the method itself, including which counts are withheld.

The protection rule
-------------------
A count ``x`` with ``1 <= x < threshold`` (default 5; never below 3) is *sensitive*. Following the
protection-interval formulation of Hundepool et al. (2012), section 4.2 (and tau-ARGUS), a
suppression pattern is safe when, for every sensitive count, the interval ``[low, high]`` the
intruder can deduce by linear programming satisfies a lower and an upper protection level
around the true value:

* upper protection level ``threshold - x``: ``high >= threshold``, so the intruder cannot rule
  out that the count is at least the threshold (that it would have been published);
* lower protection level ``x - floor``: ``low <= floor``, where ``floor`` is the least the count
  can be from the blanks alone (1 for a withheld cell; for a total, its published members plus 1
  per withheld member), so the equations in the published tables tell the intruder nothing
  about how small the count is beyond "not zero".

For a withheld cell this says ``[1, threshold]`` must lie inside the intruder's interval: the
intruder cannot tell a withheld 1 from a withheld 4 or from a publishable 5. We chose these
levels (rather than a percentage "safety range", which protects nothing at counts of 1-4) because
the threshold rule's purpose (DOMAIN.md, ONS 2019) is that a reader cannot learn that a
small-area count is small, nor how small.

The method
----------
*Primary suppression*: a count ``0 < v < threshold`` is withheld, and so is a total below the
threshold. Zeros are published (``suppress_zeros`` withholds them too).

*Secondary suppression*: a line rule (in every line whose total is published, one withheld member
or withheld members too small to hide each other: the next smallest non-zero member is withheld,
or else the total), then the audit by linear programming above: a sensitive count that fails gets
one more complementary suppression (a non-zero published count that shares most published totals
with it, smallest first) and is audited again until it passes. Zeros are never withheld as
complements, so "a blank is at least 1" stays true. Extra suppression only widens intervals, so
counts that passed stay passed. If a sensitive count cannot be protected, :func:`protect_counts`
raises :class:`DisclosureError`: the publication is refused, never published with a failed
audit.

*Rounding*: :func:`round_counts` rounds to the nearest 5 (ONS practice for administrative data),
except that a non-zero count is never rounded below the smallest multiple of 5 that is at least
the threshold (a published 0 would tell that a withheld count is 1 or 2). Tables whose groups
depend on the centre network are published as sums of rounded small-area counts, so no choice of
network can give back more than each area's rounded value, which the audit assumes the intruder
has.

Why both designs
----------------
Exact counts with suppression keep the figures planners quote (the authority's reach, reach in
the 30% most deprived areas) exact, and a suppression pattern computed from the extract alone
is the same for every centre network, so the small-area table cannot be differenced. But a
centre's total is a sum over a catchment the user chooses (a scenario can move, add or close
centres): any exact sum over user-chosen groups can be differenced down to one area. Summing
rounded counts instead (ONS 2019) makes every such table a function of the areas' rounded
counts, whatever the groups, and the audit already grants the intruder those. Wards are rounded
too: with a few areas each, exact ward totals would force many more blanks.

The audit relaxes integrality (linear programming); the tests check the result with an
independent integer-programming intruder. How the audit's linear system is built once, split
into connected components and solved with HiGHS is described in
:mod:`planning.analysis.disclosure_audit`, which holds it. The rules that build and extend a
suppression pattern (primary, the line rule, complements, protecting each sensitive count until
it is safe) are in :mod:`planning.analysis.disclosure_rules`.

References: Hundepool, A. et al. (2012) *Statistical Disclosure Control*, Wiley, ch. 4 (cell
suppression, protection levels, audit by linear programming) and ch. 5 (frequency tables,
rounding); ONS (2019) *Disclosure control guidance for tables produced from administrative
sources*.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from planning._errors import ValidationError
from planning.analysis.disclosure_audit import (
    PUBLISHED,
    UNPUBLISHED,
    WITHHELD,
    DisclosureError,
    _Problem,
)
from planning.analysis.disclosure_rules import (
    ALL,
    _Item,
    _protect_items,
    _safe,
    _State,
    _withhold_primary,
)

__all__ = [
    "ALL",
    "DEFAULT_THRESHOLD",
    "MIN_THRESHOLD",
    "ROUNDING_BASE",
    "DisclosureError",
    "Suppression",
    "apply_suppression",
    "check_threshold",
    "describe_count",
    "protect_counts",
    "round_counts",
    "rounding_interval",
]

#: Default smallest publishable count (DOMAIN.md: counts below 5 are suppressed).
DEFAULT_THRESHOLD = 5
#: The smallest threshold accepted: below 3, counts of 1 or 2 would be published.
MIN_THRESHOLD = 3
#: Base of the rounding of counts in tables whose groups depend on the centre network.
ROUNDING_BASE = 5


def check_threshold(threshold: object) -> int:
    """Return the suppression threshold, refusing values below :data:`MIN_THRESHOLD`.

    Raises
    ------
    ValidationError
        If ``threshold`` is not a whole number of at least 3.
    """
    if (
        isinstance(threshold, bool)
        or not isinstance(threshold, (int, np.integer))
        or threshold < MIN_THRESHOLD
    ):
        raise ValidationError(
            f"suppression threshold {threshold!r} is too low: it must be a whole number of at "
            f"least {MIN_THRESHOLD} (below that, counts of 1 and 2 children would be published); "
            f"use the default {DEFAULT_THRESHOLD}, or 10 as some councils do"
        )
    return int(threshold)


def _smallest_rounded(threshold: int) -> int:
    return ROUNDING_BASE * math.ceil(threshold / ROUNDING_BASE)


def round_counts(values: Any, *, threshold: int = DEFAULT_THRESHOLD) -> np.ndarray:
    """Round counts for publication in tables whose groups can change.

    ``r(0) = 0``; otherwise ``r(x) = max(5 * floor(x / 5 + 1/2), m)`` with ``m`` the smallest
    multiple of 5 that is at least ``threshold``: nearest-5 rounding (ONS 2019), except that a
    non-zero count is never shown as less than ``m``, so a small count is indistinguishable from
    any other count from 1 to ``m + 2``.

    Examples
    --------
    >>> round_counts([0, 1, 4, 7, 8, 12, 13, 40]).tolist()
    [0, 5, 5, 5, 10, 10, 15, 40]
    """
    threshold = check_threshold(threshold)
    v = np.asarray(values, dtype=float)
    nearest = ROUNDING_BASE * np.floor(v / ROUNDING_BASE + 0.5)
    return np.where(v <= 0, 0.0, np.maximum(nearest, _smallest_rounded(threshold))).astype(int)


def rounding_interval(
    rounded: Any, *, threshold: int = DEFAULT_THRESHOLD
) -> tuple[np.ndarray, np.ndarray]:
    """The counts ``[low, high]`` that :func:`round_counts` maps to each rounded value."""
    r = np.asarray(rounded, dtype=float)
    m = _smallest_rounded(check_threshold(threshold))
    low = np.where(r <= 0, 0.0, np.where(r <= m, 1.0, r - 2))
    high = np.where(r <= 0, 0.0, r + 2)
    return low, high


def describe_count(count: int, *, threshold: int = DEFAULT_THRESHOLD) -> str:
    """A count of people as it may be published in a sentence: 'no', 'fewer than 5', 'about 35'.

    Examples
    --------
    >>> describe_count(3), describe_count(0), describe_count(33)
    ('fewer than 5', 'no', 'about 35')
    """
    threshold = check_threshold(threshold)
    if count <= 0:
        return "no"
    if count < threshold:
        return f"fewer than {threshold}"
    return f"about {int(round_counts([count], threshold=threshold)[0]):,}"


@dataclass(frozen=True)
class Suppression:
    """Which counts may be published, with the audit that shows the pattern is safe.

    Attributes
    ----------
    cells : DataFrame of bool
        Aligned to the counts given; True = not published (withheld, or never published when
        cells are not published at all).
    totals : dict of grouping name -> DataFrame of bool
        For each grouping (and ``"All"``, the grand total), one row per group; True = not
        published.
    threshold : int
        Smallest publishable count.
    audit : DataFrame
        One row per sensitive count: ``item``, ``column``, ``value``, the least it can be from
        the blanks alone (``floor``), the interval ``low``..``high`` the intruder can deduce,
        and ``protected`` (``low <= floor`` and ``high >= threshold``).
    """

    cells: pd.DataFrame
    totals: dict[str, pd.DataFrame]
    threshold: int
    audit: pd.DataFrame = field(repr=False)
    cell_state: pd.DataFrame = field(repr=False, default_factory=pd.DataFrame)
    total_state: dict[str, pd.DataFrame] = field(repr=False, default_factory=dict)

    @property
    def withheld(self) -> int:
        """Number of published cells and totals withheld (blank)."""
        if self.cell_state.empty and not self.total_state:
            totals = sum(t.to_numpy().sum() for t in self.totals.values())
            return int(self.cells.to_numpy().sum() + totals)
        totals = sum(int((t.to_numpy() == WITHHELD).sum()) for t in self.total_state.values())
        return int((self.cell_state.to_numpy() == WITHHELD).sum() + totals)


def protect_counts(
    counts: pd.DataFrame,
    *,
    groupings: Mapping[str, pd.Series] | None = None,
    threshold: int = DEFAULT_THRESHOLD,
    publish_cells: bool = True,
    not_greater: Sequence[tuple[str, str]] = (),
    lower_bounds: pd.DataFrame | None = None,
    upper_bounds: pd.DataFrame | None = None,
    suppress_zeros: bool = False,
    rounding_known: bool = False,
    known: Suppression | None = None,
    totals_for: Sequence[str] | None = None,
    _components: bool = True,
) -> Suppression:
    """Decide which counts, and which group totals, may be published; refuse if none is safe.

    Parameters
    ----------
    counts : DataFrame
        Non-negative integer counts, one row per cell (e.g. per small area), one column per
        measure (e.g. ``registered``, ``sustained``).
    groupings : mapping of name -> Series aligned to ``counts``, optional
        Each a partition of the rows whose group totals are published (ward, deprivation
        band...). The grand total (``"All"``) is always included.
    threshold : int
        Smallest publishable non-zero count (default 5; at least 3).
    publish_cells : bool
        False when only group totals are published (the cells are then unknown to the
        intruder, not blanks).
    not_greater : sequence of (column, column)
        Orderings an intruder knows, e.g. ``("sustained", "registered")``.
    lower_bounds, upper_bounds : DataFrame, optional
        Other per-cell bounds the intruder knows; NaN where none.
    suppress_zeros : bool
        Treat zeros as disclosive too (blanks are then only known to be >= 0).
    rounding_known : bool
        The intruder knows :func:`round_counts` of every cell (true when tables over groupings
        that can change are published as sums of rounded cells).
    known : Suppression, optional
        A protection already decided for some of the columns (e.g. registered counts when
        protecting a target group): its published and withheld counts are part of the
        intruder's knowledge and are not changed. Its groupings must be among ``groupings``.
    totals_for : sequence of str, optional
        Groupings whose totals are published for the columns protected here (default all;
        ``"All"`` always).
    _components : bool
        Private: False audits the whole table with one programme per check, every row kept (the
        reference the tests compare the per-component audit with; the same pattern, slower).

    Returns
    -------
    Suppression

    Raises
    ------
    DisclosureError
        If some sensitive count cannot be protected: the publication must be refused.

    Examples
    --------
    >>> counts = pd.DataFrame({"registered": [3, 40, 50]}, index=["a", "b", "c"])
    >>> s = protect_counts(counts)
    >>> s.cells["registered"].tolist()        # 3 is withheld, and 40 so the total cannot give it
    [True, True, False]
    """
    threshold = check_threshold(threshold)
    values = _whole_counts(counts)
    columns = list(counts.columns)
    groups, labels = _group_codes(counts, groupings)
    pairs = _ordering_pairs(columns, not_greater)
    lower, upper = _known_bounds(
        counts,
        values,
        lower_bounds,
        upper_bounds,
        rounding_known=rounding_known,
        threshold=threshold,
    )
    blank_floor = 0.0 if suppress_zeros else 1.0
    problem = _Problem(
        values, groups, labels, pairs, lower, upper, blank_floor, components=_components
    )

    # States: published / withheld / never published; columns a `known` protection fixed.
    mutable = np.array([known is None or c not in known.cells.columns for c in columns])
    cell_state, total_state = _initial_states(
        problem, publish_cells=publish_cells, totals_for=totals_for
    )
    if known is not None:
        _copy_known_states(known, counts, problem, mutable, cell_state, total_state)
    primary_cells, primary_totals = _withhold_primary(
        problem,
        mutable,
        cell_state,
        total_state,
        threshold=threshold,
        suppress_zeros=suppress_zeros,
        publish_cells=publish_cells,
    )

    state = _State(problem, cell_state, total_state, mutable, threshold, suppress_zeros)
    state.line_rule()

    items = _sensitive_items(counts, problem, primary_cells, primary_totals, publish_cells)
    found = _protect_items(state, items)
    audit = _audit_frame(items, found, values, columns, threshold)
    _refuse_failed(audit, threshold)
    return _suppression(counts, problem, cell_state, total_state, threshold, audit)


def _whole_counts(counts: pd.DataFrame) -> np.ndarray:
    """The counts as floats, refused unless every one is a whole number, 0 or more."""
    values = counts.to_numpy(dtype=float)
    if np.isnan(values).any() or (values < 0).any() or (values != np.round(values)).any():
        raise ValidationError("counts to protect must be whole numbers, 0 or more, no blanks")
    return values


def _group_codes(
    counts: pd.DataFrame, groupings: Mapping[str, pd.Series] | None
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Integer group code per row and label per code of each grouping, the grand total last."""
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
    groups[ALL] = np.zeros(len(counts), dtype=int)
    labels[ALL] = np.array([ALL], dtype=object)
    return groups, labels


def _ordering_pairs(
    columns: list[str], not_greater: Sequence[tuple[str, str]]
) -> list[tuple[int, int]]:
    """The known orderings as (smaller, larger) column positions; unknown names are refused."""
    index_of = {c: i for i, c in enumerate(columns)}
    pairs = []
    for small, large in not_greater:
        if small not in index_of or large not in index_of:
            raise ValidationError(f"not_greater names unknown columns {small!r}, {large!r}")
        pairs.append((index_of[small], index_of[large]))
    return pairs


def _frame_bounds(counts: pd.DataFrame, frame: pd.DataFrame | None, fill: float) -> np.ndarray:
    """Per-cell bounds from ``frame`` aligned to ``counts``, ``fill`` where none is given."""
    if frame is None:
        return np.full(counts.shape, fill)
    aligned = frame.reindex(index=counts.index, columns=counts.columns).to_numpy(dtype=float)
    return np.where(np.isnan(aligned), fill, aligned)


def _known_bounds(
    counts: pd.DataFrame,
    values: np.ndarray,
    lower_bounds: pd.DataFrame | None,
    upper_bounds: pd.DataFrame | None,
    *,
    rounding_known: bool,
    threshold: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Per-cell ``(lower, upper)`` the intruder knows, narrowed by the rounded counts if known."""
    lower = np.maximum(_frame_bounds(counts, lower_bounds, 0.0), 0.0)
    upper = _frame_bounds(counts, upper_bounds, np.inf)
    if rounding_known:
        low_r, high_r = rounding_interval(
            round_counts(values, threshold=threshold), threshold=threshold
        )
        lower, upper = np.maximum(lower, low_r), np.minimum(upper, high_r)
    return lower, upper


def _initial_states(
    problem: _Problem,
    *,
    publish_cells: bool,
    totals_for: Sequence[str] | None,
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Everything published, except cells or groupings' totals that are not published at all."""
    n, m = problem.n, problem.m
    cell_state = np.full((n, m), PUBLISHED if publish_cells else UNPUBLISHED, dtype=int)
    published_groupings = set(problem.groups) if totals_for is None else {*totals_for, ALL}
    total_state = {
        g: np.full(
            (len(problem.labels[g]), m), PUBLISHED if g in published_groupings else UNPUBLISHED
        )
        for g in problem.groups
    }
    return cell_state, total_state


def _copy_known_states(
    known: Suppression,
    counts: pd.DataFrame,
    problem: _Problem,
    mutable: np.ndarray,
    cell_state: np.ndarray,
    total_state: dict[str, np.ndarray],
) -> None:
    """Fill the columns a ``known`` protection decided with its states (in place).

    A grouping ``known`` did not publish is unpublished here, so the intruder gets no line from it.
    """
    for c, column in enumerate(counts.columns):
        if mutable[c]:
            continue
        states = (
            known.cell_state[column]
            if not known.cell_state.empty
            else known.cells[column].map({True: WITHHELD, False: PUBLISHED})
        )
        cell_state[:, c] = states.reindex(counts.index).to_numpy(dtype=int)
        for g in problem.groups:
            if g in known.total_state:
                frame = known.total_state[g][column]
                frame = frame.set_axis(frame.index.astype(str))
                total_state[g][:, c] = (
                    frame.reindex([str(x) for x in problem.labels[g]])
                    .fillna(UNPUBLISHED)
                    .to_numpy(dtype=int)
                )
            else:
                total_state[g][:, c] = UNPUBLISHED


def _sensitive_items(
    counts: pd.DataFrame,
    problem: _Problem,
    primary_cells: np.ndarray,
    primary_totals: dict[str, np.ndarray],
    publish_cells: bool,
) -> list[_Item]:
    """The sensitive counts to audit, column by column: cells first, then group totals."""
    items: list[_Item] = []
    for c in range(problem.m):
        if publish_cells:
            for i in np.flatnonzero(primary_cells[:, c]):
                items.append(("cell", counts.index[i], np.array([i]), c, True))
        for g in problem.groups:
            for k in np.flatnonzero(primary_totals[g][:, c]):
                items.append((g, problem.labels[g][k], problem.members[g][k], c, False))
    return items


def _audit_frame(
    items: list[_Item],
    found: dict[int, tuple[float, float, float]],
    values: np.ndarray,
    columns: list[str],
    threshold: int,
) -> pd.DataFrame:
    """One audit row per sensitive item: its value, floor, interval and whether it is safe."""
    audit_rows = []
    for j, (kind, label, rows, c, _) in enumerate(items):
        lo, hi, floor = found[j]
        # Witnessed items: at least the threshold (the exact maximum was not needed).
        high = float(threshold) if np.isnan(hi) else hi
        audit_rows.append(
            {
                "item": f"{kind} {label}" if kind != "cell" else f"{label}",
                "column": columns[c],
                "value": float(values[rows, c].sum()),
                "floor": floor,
                "low": lo,
                "high": high,
                "protected": _safe(lo, high, floor, threshold),
            }
        )
    return pd.DataFrame(
        audit_rows, columns=["item", "column", "value", "floor", "low", "high", "protected"]
    )


def _refuse_failed(audit: pd.DataFrame, threshold: int) -> None:
    """Raise :class:`DisclosureError` naming the first five items the audit failed, if any."""
    failed = audit[~audit["protected"].astype(bool)]
    if len(failed):
        names = "; ".join(f"{r.item} ({r.column})" for r in failed.head(5).itertuples())
        more = f" and {len(failed) - 5} more" if len(failed) > 5 else ""
        raise DisclosureError(
            f"disclosure audit failed for {names}{more}: an intruder using the published tables "
            f"could narrow these counts below the protection interval (1 to {threshold}) even "
            "with every other count around them withheld, so nothing was published. Publish "
            "fewer tables (or coarser groups) from this extract"
        )


def _suppression(
    counts: pd.DataFrame,
    problem: _Problem,
    cell_state: np.ndarray,
    total_state: dict[str, np.ndarray],
    threshold: int,
    audit: pd.DataFrame,
) -> Suppression:
    """The decided states as a :class:`Suppression` labelled like ``counts`` and the groups."""
    columns = list(counts.columns)
    labels = problem.labels
    cells = pd.DataFrame(cell_state != PUBLISHED, index=counts.index, columns=columns)
    totals = {
        g: pd.DataFrame(
            total_state[g] != PUBLISHED, index=pd.Index(labels[g], name=g), columns=columns
        )
        for g in problem.groups
    }
    return Suppression(
        cells=cells,
        totals=totals,
        threshold=threshold,
        audit=audit,
        cell_state=pd.DataFrame(cell_state, index=counts.index, columns=columns),
        total_state={
            g: pd.DataFrame(total_state[g], index=pd.Index(labels[g], name=g), columns=columns)
            for g in problem.groups
        },
    )


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
