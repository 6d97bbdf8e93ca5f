"""Disclosure control against an independent integer-programming intruder (tests/intruder.py).

The intruder reads only the files ``planning reach`` writes, from one publication or several of
the same extract, and solves integer programmes for each withheld count. The protection rule
checked (documented in :mod:`planning.analysis.disclosure`): a withheld small-area count could be as small
as 1 and as large as the threshold, so no publication, and no set of publications made with
different centre networks, pins a count of 1-4 down.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from planning import toy_town
from planning.standards import Standards
from planning.runs.reach import assess_reach, publish_reach, registration_counts, write_reach_outputs
from planning.analysis.sufficiency import assess_sufficiency
from planning.inputs.synthetic import synthetic_registrations

from intruder import build, can_reach, cell_intervals

AS_OF = "2025-03-31"
DATA = Path(__file__).resolve().parents[1] / "src" / "planning" / "data"


def _networks(tmp: Path) -> dict[str, Path]:
    """Derby's illustrative centres; with one closed; with one moved and one added."""
    default = DATA / "centres" / "derby_illustrative.csv"
    table = pd.read_csv(default)
    closed = table[table["centre_id"] != "CC01"]
    moved = table.copy()
    moved.loc[moved["centre_id"] == "CC04", "easting"] += 1_500
    added = table.iloc[[1]].assign(
        centre_id="CC11", name="Added site", easting=436_000, northing=333_500, kind="branch"
    )
    moved = pd.concat([moved, added], ignore_index=True)
    paths = {"default": default}
    for name, frame in (("closed", closed), ("moved", moved)):
        paths[name] = tmp / f"{name}.csv"
        frame.to_csv(paths[name], index=False)
    return paths


@pytest.fixture(scope="module")
def derby_publications(tmp_path_factory):
    """A sparse synthetic Derby extract published with three centre networks."""
    from planning.runs.sufficiency import run_sufficiency

    tmp = tmp_path_factory.mktemp("derby_networks")
    runs = {name: run_sufficiency("Derby", centres=path) for name, path in _networks(tmp).items()}
    first = runs["default"].result.areas
    extract = synthetic_registrations(first, seed=4, base_reach=0.05, as_of=AS_OF)
    counts = registration_counts(extract, first, as_of=AS_OF)
    folders, results = {}, {}
    for name, run in runs.items():
        results[name] = assess_reach(counts, run.result.areas)
        published = publish_reach(results[name])
        folders[name] = write_reach_outputs(published, tmp / f"reach_{name}")
    return folders, results


def _assert_protected(cells: pd.DataFrame, truth: pd.DataFrame, threshold: int = 5) -> None:
    cells = cells.assign(value=[truth.loc[a, c] for a, c in zip(cells["area"], cells["column"])])
    small = cells[cells["value"].between(1, threshold - 1)]
    assert len(small), "the test needs withheld small counts"
    pinned = small[(small["low"] > 1) | (small["high"] < threshold)]
    assert pinned.empty, f"the intruder narrowed withheld small counts:\n{pinned.to_string()}"


def test_networks_cannot_be_differenced(derby_publications):
    folders, results = derby_publications
    truth = results["default"].areas
    tables = {n: pd.read_csv(f / "areas.csv", index_col=0) for n, f in folders.items()}
    assert not tables["default"]["centre_id"].equals(tables["moved"]["centre_id"])
    assert (truth["registered"].between(1, 4)).sum() >= 10
    # An intruder with all three publications, centre and locality tables included.
    attack = build(list(folders.values()), groups="exact")
    _assert_protected(cell_intervals(attack), truth)
    # The design: small-area counts are published the same way whatever the centres.
    for name in ("closed", "moved"):
        for column in ("registered", "sustained"):
            pd.testing.assert_series_equal(tables["default"][column], tables[name][column])


def test_withheld_totals_could_be_publishable(derby_publications):
    """Each withheld total of 1-4 (bands, wards, ages, target groups) could be 5 or more.

    One programme per target group (the main tables and that group's), for speed."""
    folders, results = derby_publications
    result = results["default"]
    truth = {}
    for name, key in (("wards", "wards"), ("bands", "bands")):
        for column in ("registered", "sustained"):
            for group, value in result.groups[key][column].items():
                truth[f"0:{name} {group} {column}"] = value
    for band, value in result.ages["registered"].items():
        truth[f"0:ages {band}"] = value
    for row in result.target_groups.itertuples():
        for column in ("registered", "sustained"):
            truth[f"0:target {row.group} {row.level} {row.unit} {column}"] = getattr(row, column)
    checked = 0
    for group in [None, *result.counts.groups]:
        attack = build([folders["default"]], groups=[group] if group else [])
        for label, terms in attack.totals:
            mine = f"target {group} " in label if group else " target " not in f" {label}"
            if mine and 1 <= truth[label] <= 4:
                assert can_reach(attack, terms, 5), label
                checked += 1
    assert checked >= 5, "the test needs withheld small totals"


def _county(n_rows: int = 25, n_columns: int = 40) -> pd.DataFrame:
    """A synthetic county of 1,000 small areas: 125 wards of 8, four localities, all bands."""
    rng = np.random.default_rng(1)
    n = n_rows * n_columns
    town = toy_town(
        rows=n_rows, columns=n_columns, under5=rng.integers(30, 130, n).astype(float),
        imd_decile=rng.integers(1, 11, n), cell_metres=600.0,
    )
    codes = [f"E09{i:06d}" for i in range(n)]
    town.index = pd.Index(codes, name="area_code")
    r, c = np.divmod(np.arange(n), n_columns)
    town["ward_name"] = [f"Ward {a:02d}-{b:02d}" for a, b in zip(r // 2, c // 4)]
    town["ward_code"] = town["ward_name"]
    from conftest import make_centres

    points = {
        f"C{k:02d}": (430_000 + 600 * (4 + 8 * (k % 5)), 335_000 + 600 * (3 + 6 * (k // 5)))
        for k in range(20)
    }
    centres = make_centres(points, locality=[f"L{k % 4}" for k in range(20)])
    return assess_sufficiency(town, centres, standards=Standards()).areas


def test_county_of_1000_areas(tmp_path):
    areas = _county()
    extract = synthetic_registrations(areas, seed=2, base_reach=0.1, as_of=AS_OF)
    result = assess_reach(registration_counts(extract, areas, as_of=AS_OF), areas)
    published = publish_reach(result)
    folder = write_reach_outputs(published, tmp_path / "county")
    attack = build([folder], groups="exact")
    _assert_protected(cell_intervals(attack), result.areas)
