"""The disclosure audit per connected component (issue 15, part 3) against the whole-table audit.

The per-component audit builds the system from a sparse incidence matrix built once, drops the
totals implied by finer published totals, and solves one programme per connected component;
the whole-table audit (``_components=False``) builds the system line by line, keeps every row
and solves one programme over the whole table. Being exact, the two must give the same
intervals for every count and the same suppression pattern for every publication.
"""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd
import pytest

import planning.analysis.disclosure as disclosure
import planning.runs.reach_publication as reach_publication
from planning.analysis.disclosure import (
    ALL,
    PUBLISHED,
    UNPUBLISHED,
    WITHHELD,
    _group_codes,
    _Problem,
    protect_counts,
)
from planning.runs.reach import assess_reach, publish_reach, registration_counts
from planning.inputs.synthetic import synthetic_registrations

AS_OF = "2025-03-31"


def _random_table(rng: np.random.Generator, n: int = 24):
    """Small counts (many below 5) with bands, wards inside bands and a copy of the bands."""
    registered = rng.integers(0, 12, n)
    counts = pd.DataFrame(
        {"registered": registered, "sustained": rng.integers(0, registered + 1)},
        index=[f"a{i:02d}" for i in range(n)],
    )
    wards = pd.Series(rng.integers(0, 8, n), index=counts.index).map(lambda w: f"w{w}")
    # Each ward in one band, so wards nest in bands (and both in the grand total).
    band_of_ward = {f"w{w}": f"b{w % 3}" for w in range(8)}
    bands = wards.map(band_of_ward)
    # The same partition as the bands under other labels: implied one way only, never both.
    same = bands.map({"b0": "x", "b1": "y", "b2": "z"})
    return counts, {"bands": bands, "wards": wards, "same": same}


def _problems(counts, groupings, *, not_greater=((1, 0),), blank_floor=1.0):
    values = counts.to_numpy(dtype=float)
    groups, labels = _group_codes(counts, groupings)
    lower = np.zeros(values.shape)
    upper = np.full(values.shape, np.inf)
    return [
        _Problem(values, groups, labels, list(not_greater), lower, upper, blank_floor,
                 components=components)
        for components in (True, False)
    ]


def _random_states(rng, problem: _Problem):
    """A random pattern: cells withheld or unpublished, totals published, withheld or not."""
    cells = rng.choice([PUBLISHED, WITHHELD], size=(problem.n, problem.m), p=[0.5, 0.5])
    cells[rng.random(problem.n) < 0.1, 0] = UNPUBLISHED
    # A blank is at least 1: zeros are published.
    cells[(problem.values == 0) & (cells == WITHHELD)] = PUBLISHED
    totals = {}
    for g in problem.groups:
        state = rng.choice([PUBLISHED, WITHHELD], size=problem.totals[g].shape, p=[0.8, 0.2])
        state[problem.totals[g] == 0] = PUBLISHED
        totals[g] = state
    if rng.random() < 0.3:
        totals["wards"][:] = UNPUBLISHED
    return cells, totals


def test_component_intervals_equal_whole_table_intervals():
    """Every withheld cell's and total's interval is the same per component and whole."""
    splits = 0
    for seed in range(12):
        rng = np.random.default_rng(seed)
        counts, groupings = _random_table(rng)
        split, whole = _problems(counts, groupings)
        cells, totals = _random_states(rng, split)
        items = [(np.array([i]), c) for i, c in zip(*np.nonzero(cells != PUBLISHED))]
        items += [
            (members, c)
            for g in split.groups
            for k, members in enumerate(split.members[g])
            for c in range(split.m)
            if totals[g][k, c] != PUBLISHED
        ]
        assert len(items) > 10
        splits += len(np.unique(split.system(cells, totals).component)) > 1
        for rows, c in items:
            got = split.interval(cells, totals, rows, c)
            want = whole.interval(cells, totals, rows, c)
            np.testing.assert_allclose(got, want, atol=1e-6, err_msg=f"seed {seed} {rows} {c}")
    assert splits >= 6, "the test needs systems that split into components"


def test_components_follow_the_published_totals():
    """With every band total published the grand total is implied: one component per band.

    A withheld band total breaks that: the grand total's row links that band's cells with the
    others' (two bands left apart).
    """
    rng = np.random.default_rng(1)
    counts, groupings = _random_table(rng, n=30)
    split, _ = _problems(counts, {"bands": groupings["bands"]}, not_greater=[])
    cells = np.where(counts.to_numpy() > 0, WITHHELD, PUBLISHED)
    totals = {g: np.full(split.totals[g].shape, PUBLISHED) for g in split.groups}
    system = split.system(cells, totals)
    band = split.groups["bands"][np.nonzero(cells.T.reshape(-1) != PUBLISHED)[0] % split.n]
    column = np.nonzero(cells.T.reshape(-1) != PUBLISHED)[0] // split.n
    # One component per (band, column) holding hidden cells, exactly.
    pairs = set(zip(band.tolist(), column.tolist()))
    assert len(np.unique(system.component)) == len(pairs)
    for label in np.unique(system.component):
        assert len(set(zip(band[system.component == label], column[system.component == label]))) == 1
    totals["bands"][0, 0] = WITHHELD
    system = split.system(cells, totals)
    assert len(np.unique(system.component)) == len(pairs) - 2


def _states(s):
    return s.cell_state.to_numpy(), {g: t.to_numpy() for g, t in s.total_state.items()}


@pytest.mark.parametrize("seed", range(8))
def test_protect_counts_pattern_equals_whole_table(seed):
    """protect_counts withholds the same counts per component as over the whole table."""
    rng = np.random.default_rng(100 + seed)
    counts, groupings = _random_table(rng, n=30)
    kwargs = dict(groupings=groupings, not_greater=[("sustained", "registered")],
                  rounding_known=bool(seed % 2), threshold=5 if seed < 4 else 10)
    try:
        whole = protect_counts(counts, _components=False, **kwargs)
    except disclosure.DisclosureError:
        with pytest.raises(disclosure.DisclosureError):
            protect_counts(counts, **kwargs)
        return
    split = protect_counts(counts, **kwargs)
    cells, totals = _states(split)
    np.testing.assert_array_equal(cells, _states(whole)[0])
    for g in totals:
        np.testing.assert_array_equal(totals[g], _states(whole)[1][g])
    assert split.withheld == whole.withheld > 0


def _published_pattern(published) -> dict[str, np.ndarray]:
    """Which figures of every published table are blank, and the authority's."""
    pattern = {name: table.isna().to_numpy() for name, table in published.tables.items()}
    pattern["authority"] = np.array([v is None for v in published.authority.values()])
    return pattern


def _assert_same_publication(result, threshold: int, monkeypatch) -> None:
    split = publish_reach(result, threshold=threshold)
    with monkeypatch.context() as m:
        whole_table = functools.partial(protect_counts, _components=False)
        m.setattr(reach_publication, "protect_counts", whole_table)
        whole = publish_reach(result, threshold=threshold)
    assert split.withheld == whole.withheld
    assert len(split.audit) == len(whole.audit) > 0
    a, b = _published_pattern(split), _published_pattern(whole)
    assert a.keys() == b.keys()
    for name in a:
        np.testing.assert_array_equal(a[name], b[name], err_msg=name)
    for name in ("areas", "bands"):
        pd.testing.assert_frame_equal(
            split.suppression.total_state.get(name, split.suppression.cell_state),
            whole.suppression.total_state.get(name, whole.suppression.cell_state),
        )


@pytest.fixture(scope="module")
def town_areas():
    """The toy town of tests/test_disclosure.py and tests/test_reach.py."""
    from planning import toy_town
    from planning.analysis.sufficiency import assess_sufficiency
    from planning.standards import Standards

    from conftest import make_centres

    town = toy_town(rows=4, columns=4, under5=40.0, imd_decile=np.tile([1, 2, 5, 9], 4))
    centres = make_centres(
        {"A": (430_500, 335_500), "B": (433_500, 338_500)}, locality=["North", "South"]
    )
    return assess_sufficiency(town, centres, standards=Standards()).areas


@pytest.mark.parametrize(
    ("seed", "base_reach", "threshold"), [(11, 0.08, 5), (2, 0.2, 3), (2, 0.2, 10), (1, 0.05, 5)]
)
def test_toy_town_publication_equals_whole_table(town_areas, seed, base_reach, threshold,
                                                 monkeypatch):
    """The toy-town extracts of the existing tests: the same blanks in every published table."""
    extract = synthetic_registrations(town_areas, seed=seed, base_reach=base_reach, as_of=AS_OF)
    result = assess_reach(registration_counts(extract, town_areas, as_of=AS_OF), town_areas)
    _assert_same_publication(result, threshold, monkeypatch)


@pytest.fixture(scope="module")
def derby_areas():
    from planning.runs.sufficiency import run_sufficiency

    return run_sufficiency("Derby").result.areas


@pytest.mark.parametrize(
    ("base_reach", "threshold"), [(0.65, 5), (0.65, 10), (0.05, 5), (0.2, 10)]
)
def test_derby_publication_equals_whole_table(derby_areas, base_reach, threshold, monkeypatch):
    """Derby's synthetic extracts, dense and sparse: the same blanks in every published table."""
    extract = synthetic_registrations(derby_areas, seed=4, base_reach=base_reach, as_of=AS_OF)
    result = assess_reach(registration_counts(extract, derby_areas, as_of=AS_OF), derby_areas)
    _assert_same_publication(result, threshold, monkeypatch)


def test_county_publication_equals_whole_table(monkeypatch):
    """Kent (938 LSOAs, the most of any English authority): the same blanks, dense and sparse."""
    from planning.runs.sufficiency import run_sufficiency

    areas = run_sufficiency("Kent").result.areas
    for base_reach, threshold in ((0.65, 5), (0.05, 10)):
        extract = synthetic_registrations(areas, base_reach=base_reach, as_of=AS_OF)
        result = assess_reach(registration_counts(extract, areas, as_of=AS_OF), areas)
        _assert_same_publication(result, threshold, monkeypatch)


def test_unpublished_cells_and_known_columns_equal_whole_table():
    """Totals-only protections given a known one (as the target groups): the same pattern."""
    rng = np.random.default_rng(7)
    counts, groupings = _random_table(rng, n=30)
    main = protect_counts(counts, groupings={"bands": groupings["bands"]},
                          not_greater=[("sustained", "registered")], rounding_known=True)
    group = rng.integers(0, counts["registered"].to_numpy() + 1)
    joint = counts.assign(group=group, group_sustained=rng.integers(0, group + 1))
    kwargs = dict(
        groupings={"bands": groupings["bands"]},
        publish_cells=False,
        not_greater=[("sustained", "registered"), ("group_sustained", "group"),
                     ("group", "registered"), ("group_sustained", "sustained")],
        rounding_known=True,
        known=main,
        totals_for=["bands"],
    )
    split = protect_counts(joint, **kwargs)
    whole = protect_counts(joint, _components=False, **kwargs)
    for g in split.total_state:
        pd.testing.assert_frame_equal(split.total_state[g], whole.total_state[g])
    assert (split.cell_state.to_numpy() == UNPUBLISHED).any()
    assert split.total_state[ALL].shape[0] == 1


def test_audit_writes_nothing_to_standard_output():
    """HiGHS's banner (written when a process makes its first solver) never reaches stdout.

    Reports and notebooks publish from the library: a banner there would land in the output.
    """
    import subprocess
    import sys

    code = (
        "import pandas as pd\n"
        "from planning.analysis.disclosure import protect_counts\n"
        "s = protect_counts(pd.DataFrame({'n': [3, 4, 50, 60]}),\n"
        "                   groupings={'g': pd.Series(['a', 'a', 'b', 'b'])})\n"
        "assert s.withheld == 2\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout == ""
