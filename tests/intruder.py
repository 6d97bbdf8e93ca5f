"""An independent intruder for the reach publications: integer programming over published files.

Written for the tests, separately from :mod:`planning.analysis.disclosure` (nothing of its audit is
imported): it reads only what ``planning reach`` writes (``areas.csv``, ``wards.csv``,
``deprivation_bands.csv``, ``centres.csv``, ``localities.csv``, ``ages.csv``,
``target_groups.csv``, ``summary.json``) from one or more publications of the same extract, and
solves integer programmes (``scipy.optimize.milp``, HiGHS) for the least and greatest value each
withheld count can take.

What it knows: published counts exactly; a blank is at least 1 (zeros are published);
sustained <= registered, a target group <= registered, its sustained <= both; age bands add up
to registered in every area; every published total of every publication; and the method as the
publication states it in ``summary.json``: tables listed under ``disclosure.rounded_tables`` are
sums of small-area counts rounded to ``rounding_base`` with non-zero counts never below
``smallest_rounded`` (modelled exactly with integer variables); all other tables are exact sums.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.optimize import Bounds, LinearConstraint, milp

BIG = 100_000


@dataclass
class Model:
    """Integer variables and linear constraints, built up one fact at a time."""

    names: list[str] = field(default_factory=list)
    lower: list[float] = field(default_factory=list)
    upper: list[float] = field(default_factory=list)
    rows: list[dict[int, float]] = field(default_factory=list)
    lo: list[float] = field(default_factory=list)
    hi: list[float] = field(default_factory=list)
    index: dict[str, int] = field(default_factory=dict)

    big: float = BIG  # an upper bound on every count: the authority's total, when published

    def var(self, name: str, lower: float = 0, upper: float | None = None) -> int:
        if name not in self.index:
            self.index[name] = len(self.names)
            self.names.append(name)
            self.lower.append(lower)
            self.upper.append(self.big if upper is None else upper)
        return self.index[name]

    def bound(self, name: str, lower: float | None = None, upper: float | None = None) -> None:
        i = self.var(name)
        if lower is not None:
            self.lower[i] = max(self.lower[i], lower)
        if upper is not None:
            self.upper[i] = min(self.upper[i], upper)

    def add(self, terms: dict[int, float], lo: float, hi: float) -> None:
        self.rows.append(terms)
        self.lo.append(lo)
        self.hi.append(hi)

    def solve(self, objective: dict[int, float], extra: list[tuple[dict[int, float], float, float]]
              = ()) -> tuple[float | None, np.ndarray | None]:
        n = len(self.names)
        rows = self.rows + [t for t, _, _ in extra]
        lo = self.lo + [a for _, a, _ in extra]
        hi = self.hi + [b for _, _, b in extra]
        data, r_idx, c_idx = [], [], []
        for r, terms in enumerate(rows):
            for c, v in terms.items():
                r_idx.append(r)
                c_idx.append(c)
                data.append(v)
        a = sparse.csr_array((data, (r_idx, c_idx)), shape=(len(rows), n))
        c = np.zeros(n)
        for i, v in objective.items():
            c[i] = v
        result = milp(
            c,
            constraints=LinearConstraint(a, lo, hi),
            integrality=np.ones(n),
            bounds=Bounds(self.lower, self.upper),
            options={"time_limit": 60},
        )
        if result.status != 0:
            return None, None
        return float(result.fun), np.round(result.x)


def _rounded(model: Model, quantity: str, base: int, smallest: int) -> int:
    """An integer k with base*k the published rounding of ``quantity`` (exact formulation)."""
    q = model.var(quantity)
    k = model.var(f"k[{quantity}]")
    if f"z[{quantity}]" in model.index:
        return k
    z = model.var(f"z[{quantity}]", 0, 1)  # quantity > 0
    w = model.var(f"w[{quantity}]", 0, 1)  # rounded above the smallest non-zero value
    s = smallest // base
    big = model.big
    model.add({q: 1, z: -big}, -np.inf, 0)  # q <= big z
    model.add({q: 1, z: -1}, 0, np.inf)  # q >= z
    model.add({k: 1, z: -s}, 0, np.inf)  # k >= s z
    model.add({k: 1, z: -big}, -np.inf, 0)  # k <= big z
    model.add({k: 1, w: -big}, -np.inf, s)  # k <= s + big w
    model.add({k: 1, w: -(s + 1)}, 0, np.inf)  # k >= (s + 1) w
    model.add({q: 1, k: -base}, -np.inf, base // 2)  # q <= base k + base/2
    model.add({q: 1, k: -base, w: -big}, -(base // 2) - big, np.inf)  # w=1: q >= base k - 2
    return k


@dataclass
class Attack:
    model: Model
    threshold: int
    cells: list[tuple[str, str, int]]  # (area, column, variable) withheld in some publication
    totals: list[tuple[str, dict[int, float]]]  # withheld exact totals (label, terms)


def build(folders: list[Path], *, groups: str | list[str] = "all") -> Attack:
    """The intruder's model from every publication in ``folders`` (same extract).

    ``groups``: the target groups whose tables are modelled: ``"all"``, a list of groups, or
    ``"exact"`` (every group's exact tables, without the integer model of the rounded
    locality rows; keeps the programme small when the attack is on the small-area counts).
    """
    model = Model()
    bands = pd.read_csv(folders[0] / "deprivation_bands.csv", index_col=0)
    if not pd.isna(bands.loc["All", "registered"]):
        model.big = float(bands.loc["All", "registered"])
    threshold = 5
    cells: dict[tuple[str, str], int] = {}
    totals: list[tuple[str, dict[int, float]]] = []
    for number, folder in enumerate(folders):
        summary = json.loads((folder / "summary.json").read_text())
        threshold = int(summary["threshold"])
        method = summary.get("disclosure", {})
        rounded_tables = {t.split(" ")[0] for t in method.get("rounded_tables", [])}
        rounded_localities = any("locality" in t for t in method.get("rounded_tables", []))
        base = int(method.get("rounding_base", 5))
        smallest = int(method.get("smallest_rounded", base))
        areas = pd.read_csv(folder / "areas.csv", index_col=0)
        codes = list(areas.index.astype(str))
        x = {a: model.var(f"x[{a}]") for a in codes}
        s = {a: model.var(f"s[{a}]") for a in codes}
        first = number == 0  # structural facts once; every publication's totals
        if first:
            for a in codes:
                model.add({s[a]: 1, x[a]: -1}, -np.inf, 0)
        for column, var in (("registered", x), ("sustained", s)):
            for a, value in areas[column].items():
                a = str(a)
                if pd.isna(value):
                    model.bound(model.names[var[a]], lower=1)
                    cells[(a, column)] = var[a]
                else:
                    model.bound(model.names[var[a]], lower=float(value), upper=float(value))

        def total(label: str, terms: dict[int, float], value: object) -> None:
            if pd.isna(value):
                model.add(terms, 1, np.inf)  # a blank total is at least 1
                totals.append((label, terms))
            else:
                model.add(terms, float(value), float(value))

        def members(column_of_areas: str, group: str) -> list[str]:
            return [str(a) for a in areas.index[areas[column_of_areas].astype(str) == group]]

        tables = {
            "wards": ("wards.csv", "ward_name"),
            "bands": ("deprivation_bands.csv", "deprivation_band"),
            "centres": ("centres.csv", "centre_id"),
            "localities": ("localities.csv", "locality"),
        }
        for name, (file, key) in tables.items():
            if not (folder / file).exists() or key not in areas:
                continue
            table = pd.read_csv(folder / file, index_col=0)
            table.index = table.index.astype(str)
            for column, var, short in (("registered", x, "x"), ("sustained", s, "s")):
                for group, value in table[column].items():
                    inside = codes if group == "All" else members(key, group)
                    if name in rounded_tables:
                        ks = {_rounded(model, f"{short}[{a}]", base, smallest): base
                              for a in inside}
                        model.add(ks, float(value), float(value))
                    else:
                        total(f"{number}:{name} {group} {column}",
                              {var[a]: 1.0 for a in inside}, value)
        ages = pd.read_csv(folder / "ages.csv", index_col=0)
        age_vars = {str(b): {a: model.var(f"age{b}[{a}]") for a in codes} for b in ages.index}
        for a in codes if first else []:
            model.add({**{age_vars[b][a]: 1.0 for b in age_vars}, x[a]: -1.0}, 0, 0)
        for b, value in ages["registered"].items():
            total(f"{number}:ages {b}", {v: 1.0 for v in age_vars[str(b)].values()}, value)
        table = pd.read_csv(folder / "target_groups.csv")
        for group, rows in table.groupby("group"):
            if isinstance(groups, list) and group not in groups:
                continue
            g = {a: model.var(f"g[{group}][{a}]") for a in codes}
            h = {a: model.var(f"h[{group}][{a}]") for a in codes}
            for a in codes if first else []:
                model.add({g[a]: 1, x[a]: -1}, -np.inf, 0)
                model.add({h[a]: 1, g[a]: -1}, -np.inf, 0)
                model.add({h[a]: 1, s[a]: -1}, -np.inf, 0)
            for row in rows.itertuples():
                if row.level == "authority":
                    inside = codes
                elif row.level == "deprivation band":
                    inside = members("deprivation_band", str(row.unit))
                else:
                    inside = members("locality", str(row.unit))
                for column, var, short in (("registered", g, "g"), ("sustained", h, "h")):
                    value = getattr(row, column)
                    if row.level == "locality" and rounded_localities:
                        if groups == "exact":
                            continue
                        ks = {_rounded(model, f"{short}[{group}][{a}]", base, smallest): base
                              for a in inside}
                        model.add(ks, float(value), float(value))
                    else:
                        total(f"{number}:target {group} {row.level} {row.unit} {column}",
                              {var[a]: 1.0 for a in inside}, value)
    return Attack(
        model=model,
        threshold=threshold,
        cells=[(a, c, v) for (a, c), v in cells.items()],
        totals=totals,
    )


def cell_intervals(attack: Attack) -> pd.DataFrame:
    """Least and greatest value of each withheld cell, as far as needed for the check.

    A feasible solution in which a cell is 1 (or at least the threshold) shows that its interval
    reaches that far; the programme first pushes all open cells at once, then each remaining one
    alone, so most cells need no programme of their own.
    """
    model, t = attack.model, attack.threshold
    low = {v: np.nan for _, _, v in attack.cells}
    high = {v: np.nan for _, _, v in attack.cells}
    open_low = [v for _, _, v in attack.cells]
    while open_low:
        _, x = model.solve({v: 1.0 for v in open_low})
        assert x is not None, (
            "no extract fits the publications with every blank >= 1: a zero was withheld, or "
            "the tables contradict each other"
        )
        done = [v for v in open_low if x[v] <= 1]
        for v in done:
            low[v] = x[v]
        if not done:
            for v in open_low:
                value, _ = model.solve({v: 1.0})
                low[v] = value
            break
        open_low = [v for v in open_low if v not in done]
    open_high = [v for _, _, v in attack.cells]
    while open_high:
        # Maximise sum(min(x_v, t)) with helper variables y_v <= x_v, y_v <= t.
        extra_model = Model(list(model.names), list(model.lower), list(model.upper),
                            list(model.rows), list(model.lo), list(model.hi), dict(model.index),
                            model.big)
        objective = {}
        for v in open_high:
            y = extra_model.var(f"y[{v}]", 0, t)
            extra_model.add({y: 1, v: -1}, -np.inf, 0)
            objective[y] = -1.0
        _, x = extra_model.solve(objective)
        assert x is not None
        done = [v for v in open_high if x[v] >= t]
        for v in done:
            high[v] = x[v]
        if not done:
            for v in open_high:
                value, _ = model.solve({v: -1.0})
                high[v] = -value if value is not None else np.inf
            break
        open_high = [v for v in open_high if v not in done]
    return pd.DataFrame(
        [
            {"area": a, "column": c, "low": low[v], "high": high[v]}
            for a, c, v in attack.cells
        ]
    )


def can_reach(attack: Attack, terms: dict[int, float], at_least: float) -> bool:
    """Whether some extract consistent with everything published has ``sum(terms) >= at_least``.

    A feasibility programme (no objective), so it stops at the first integer solution.
    """
    _, x = attack.model.solve({}, extra=[(terms, at_least, np.inf)])
    return x is not None
