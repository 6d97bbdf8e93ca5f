"""No authority is an island: cross-boundary demand and supply (issue 11, sections 1 and 2).

Two toy towns side by side, with every answer worked out by hand below, and the real data:
the illustrative national network, Derby and Derbyshire.

West town (authority W): three 1 km cells in a row, points at x = 430,500, 431,500, 432,500
(y = 335,500), with 100, 200 and 300 under-5s; its own centre WA at x = 430,500.
East town (authority E): three cells at x = 433,500, 434,500, 435,500 with 400, 500 and 600
under-5s; its centres EB at x = 433,400 and EA at x = 435,500.

Nearest centres (metres):
* W0: WA 0. W1: WA 1,000 (EB 1,900). W2: EB 900 (WA 2,000): a West family served across the
  boundary.
* E0: EB 100. E1: EA 1,000 (EB 1,100). E2: EA 0.

Loads: WA = 100 + 200 = 300; EB = 300 (West) + 400 (East) = 700; EA = 500 + 600 = 1,100.
West's figures are for its 600 under-5s; its centre equivalents are WA 300/300 + EB 300/700 =
1.428571..., so 420 under-5s per centre (600 / 1.428571). East: EB 400/700 + EA 1,100/1,100 =
1.571428..., 1,500 / 1.571428 = 954.5454... under-5s per centre. The two authorities' equivalents
add up to 3, the number of centres: no capacity is counted twice.

2SFCA with places WA 30, EB 70, EA 110 and a 2.5 km reach: EB's catchment within 2.5 km holds
W1 (1,900 m), W2 (900), E0 (100), E1 (1,100), E2 (2,100): 200 + 300 + 400 + 500 + 600 = 2,000
under-5s, so 70 / 2,000 = 0.035 places per under-5 whichever authority is assessed.
"""

from __future__ import annotations

import importlib.util
import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from planning import settings
from planning._errors import ValidationError
from planning.analysis.allocation import optimise
from planning.analysis.scenarios import Scenario, ScenarioEngine
from planning.analysis.sufficiency import assess_sufficiency
from planning.inputs.areas import list_authorities, toy_town
from planning.inputs.neighbours import (
    NEIGHBOUR_MARGIN_M,
    buffer_metres,
    neighbour_centres,
    read_national_network,
)
from planning.runs.national import national_run
from planning.runs.sufficiency import run_sufficiency
from planning.standards import Standards


def _town(prefix: str, code: str, under5: list[float], origin_x: float) -> gpd.GeoDataFrame:
    town = toy_town(rows=1, columns=3, under5=np.array(under5), origin=(origin_x, 335_000.0))
    town.index = pd.Index([f"{prefix}{i}" for i in range(3)], name="area_code")
    town["utla_code"] = code
    town["utla_name"] = f"{prefix} town"
    return town


def _centres(rows: list[tuple[str, float, float, bool]]) -> gpd.GeoDataFrame:
    ids, xs, places, neighbour = zip(*rows)
    return gpd.GeoDataFrame(
        {
            "name": list(ids),
            "locality": [f"{i} locality" for i in ids],
            "capacity": list(places),
            "neighbour": list(neighbour),
        },
        index=pd.Index(list(ids), name="centre_id"),
        geometry=[shapely.Point(x, 335_500.0) for x in xs],
        crs=settings.WORKING_CRS,
    )


@pytest.fixture(scope="module")
def towns():
    west = _town("W", "W00000001", [100, 200, 300], 430_000.0)
    east = _town("E", "E00000001", [400, 500, 600], 433_000.0)
    return west, east


def _west_supply():
    return _centres([("WA", 430_500.0, 30.0, False), ("EB", 433_400.0, 70.0, True),
                     ("EA", 435_500.0, 110.0, True)])  # fmt: skip


def _east_supply():
    return _centres([("EB", 433_400.0, 70.0, False), ("EA", 435_500.0, 110.0, False),
                     ("WA", 430_500.0, 30.0, True)])  # fmt: skip


def test_border_family_is_served_across_the_boundary(towns):
    west, east = towns
    result = assess_sufficiency(west, _west_supply(), neighbours=east)
    assert result.areas["centre_id"].tolist() == ["WA", "WA", "EB"]
    assert result.areas["distance_m"].tolist() == [0.0, 1_000.0, 900.0]
    assert result.authority["under5_nearest_outside"] == 300.0
    assert any(r.startswith("Across the boundary: 300 ") for r in result.authority["reasons"])
    # The island view sends W2 to WA, 2 km away, and loads WA with all 600.
    island = assess_sufficiency(west, _west_supply().iloc[:1])
    assert island.areas["distance_m"].tolist() == [0.0, 1_000.0, 2_000.0]
    assert island.centres.loc["WA", "under5"] == 600.0


def test_loads_include_neighbours_and_figures_only_residents(towns):
    west, east = towns
    result = assess_sufficiency(west, _west_supply(), neighbours=east)
    centres = result.centres
    # EA serves no West family: it is not West's to list.
    assert centres.index.tolist() == ["WA", "EB"]
    assert centres["under5"].tolist() == [300.0, 700.0]
    assert centres["under5_residents"].tolist() == [300.0, 300.0]
    assert centres["under5_other_authorities"].tolist() == [0.0, 400.0]
    figures = result.authority
    assert figures["under5"] == 600.0  # West's own under-5s only
    assert figures["centres"] == 2
    assert figures["centre_equivalents"] == pytest.approx(1 + 300 / 700)
    assert figures["under5_per_centre"] == pytest.approx(600 / (1 + 300 / 700))
    assert figures["neighbour_areas"] == 3
    assert len(result.areas) == 3 and set(result.areas.index) == {"W0", "W1", "W2"}
    assert set(result.neighbour_areas.index) == {"E0", "E1", "E2"}
    assert any("No authority is an island" in note for note in result.notes)
    # Places per under-5 (2SFCA) count East's families in EB's catchment too.
    assert centres.loc["EB", "places_per_under5_in_reach"] == pytest.approx(70 / 2_000)


def test_no_centre_is_counted_twice_across_the_two_towns(towns):
    west, east = towns
    w = assess_sufficiency(west, _west_supply(), neighbours=east)
    e = assess_sufficiency(east, _east_supply(), neighbours=west)
    assert e.authority["under5_per_centre"] == pytest.approx(1_500 / (400 / 700 + 1))
    assert e.centres.loc["EB", "under5"] == w.centres.loc["EB", "under5"] == 700.0
    # Every under-5 is in exactly one centre's residents' load, and the centres add up to 3.
    residents = pd.concat([w.centres["under5_residents"], e.centres["under5_residents"]])
    assert residents.groupby(level=0).sum().to_dict() == {"WA": 300.0, "EB": 700.0, "EA": 1_100.0}
    total = w.authority["centre_equivalents"] + e.authority["centre_equivalents"]
    assert total == pytest.approx(3.0)


def test_scenario_engine_agrees_and_a_neighbours_closure_moves_the_border_family(towns):
    west, east = towns
    result = assess_sufficiency(west, _west_supply(), neighbours=east)
    engine = ScenarioEngine.from_result(result, area_candidates=False)
    base = engine.baseline
    for key in ("under5", "centre_equivalents", "under5_per_centre", "under5_nearest_outside"):
        assert base.figures[key] == pytest.approx(result.authority[key])
    after = engine.evaluate(Scenario("East closes EB").close("EB"))
    # W2 goes back to WA (2,000 m); E0 to EA (2,000 m) and no longer counts for West.
    assert after.areas.loc["W2", "centre_id"] == "WA"
    assert after.centres.loc["WA", "under5"] == 600.0
    assert after.figures["under5_nearest_outside"] == 0.0
    assert after.to_result().centres.loc["WA", "under5"] == 600.0


def test_optimiser_keeps_neighbours_open_and_outside_p(towns):
    west, east = towns
    result = optimise(west, _west_supply(), objective="coverage", p=1, neighbours=east)
    chosen = result.chosen
    # One site of West's own (p = 1); EB and EA stay open and are not West's to list.
    assert len(chosen) == 1 and not chosen["neighbour"].any()
    assert result.model.selected_.size == 1


def test_neighbouring_areas_must_not_overlap_the_authority(towns):
    west, _ = towns
    with pytest.raises(ValidationError, match="also the authority's own"):
        assess_sufficiency(west, _west_supply(), neighbours=west)


# -- the real data ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def national():
    return national_run()


def test_national_run_gives_every_english_under5_to_exactly_one_centre(national):
    assert national.centres["under5"].sum() == 3_239_447
    assert national.areas["centre_id"].notna().all() and national.areas.index.is_unique
    assert national.authorities["centre_equivalents"].sum() == pytest.approx(len(national.centres))
    assert national.authorities["under5"].sum() == 3_239_447


def test_national_network_covers_every_authority_by_the_default_rule():
    network = read_national_network()
    assert network["authority_code"].nunique() == len(list_authorities()) == 153
    assert network.index.is_unique
    # Derby's rows are its shipped illustrative sites, in the same places.
    derby = network[network["authority_code"] == "E06000015"]
    shipped = pd.read_csv(settings.DATA_DIR / "centres" / "derby_illustrative.csv")
    assert np.allclose(np.sort(derby.geometry.x.round(1)), np.sort(shipped["easting"].round(1)))


def test_national_network_is_regenerated_identically():
    path = (settings.REPOSITORY_DIR or settings.PACKAGE_DIR) / "scripts" / "make_national_network.py"
    if not path.is_file():
        pytest.skip("the generating script is in the repository, not the installed package")
    spec = importlib.util.spec_from_file_location("make_national_network", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    stored = pd.read_csv(settings.DATA_DIR / "centres" / "england_illustrative.csv", dtype=str,
                         keep_default_na=False).set_index("centre_id")  # fmt: skip
    for code, name in [("E06000017", "Rutland"), ("E06000001", "Hartlepool")]:
        again = module.authority_sites(code, name).set_index("centre_id")
        rows = stored[stored["authority_code"] == code]
        assert list(again.index) == list(rows.index)
        assert np.allclose(again["easting"].astype(float), rows["easting"].astype(float))
        assert np.allclose(again["northing"].astype(float), rows["northing"].astype(float))


@pytest.fixture(scope="module")
def derbyshire():
    return run_sufficiency("Derbyshire")


def test_derbyshire_reports_its_under5s_nearest_to_another_authoritys_centre(
    derbyshire, national
):
    figures = derbyshire.result.authority
    expected = national.authorities.loc["E10000007", "under5_nearest_outside"]
    assert figures["under5_nearest_outside"] == expected > 1_000
    reason = next(r for r in figures["reasons"] if r.startswith("Across the boundary"))
    assert f"{expected:,.0f}" in reason and "another authority" in reason
    assert figures["under5"] == 39_320  # its own residents only
    # The shared centres' shares match the national split exactly.
    centres = derbyshire.result.centres
    outside = centres[centres["neighbour"]]
    shares = national.shares.xs("E10000007", level="resident_authority")["under5"]
    assert outside["under5_residents"].to_dict() == shares.reindex(outside.index).to_dict()
    assert derbyshire.inputs["neighbour_buffer_m"] == buffer_metres(Standards())
    assert derbyshire.inputs["neighbour_buffer_m"] == 2_500 + NEIGHBOUR_MARGIN_M


def test_derby_sites_listed_by_derbyshire_are_not_counted_twice(tmp_path, derbyshire):
    """The issue's defect: listing Derby's ten sites in Derbyshire's file took Derbyshire's
    under-5s per centre from 1,573 to 1,229, counting sites that carry all of Derby."""
    from planning.inputs.centres import read_centres, write_centres
    from planning.inputs.illustrative import resolve_centres

    own = read_centres(resolve_centres("Derbyshire"))
    derby = read_centres(settings.DATA_DIR / "centres" / "derby_illustrative.csv")
    derby.index = pd.Index([f"DERBY-{i}" for i in derby.index], name="centre_id")
    both = pd.concat([own, derby])
    path = tmp_path / "derbyshire_and_derby.csv"
    write_centres(gpd.GeoDataFrame(both, geometry="geometry", crs=own.crs), path)
    listed = run_sufficiency("Derbyshire", centres=path).result.authority
    default = derbyshire.result.authority
    assert listed["under5_per_centre"] == pytest.approx(default["under5_per_centre"])
    assert listed["under5_per_centre"] > 1_400
    assert listed["centre_equivalents"] == pytest.approx(default["centre_equivalents"])


def test_island_run_is_still_available_for_comparison():
    island = run_sufficiency("Derby", cross_boundary=False)
    assert island.result.authority["centre_equivalents"] == 10
    assert island.result.neighbour_areas is None or len(island.result.neighbour_areas) == 0
    assert "cross_boundary" in island.inputs


def test_neighbour_file_centres_inside_the_authority_are_left_out_and_ids_kept_apart(
    tmp_path, derby_areas
):
    from planning.inputs.centres import read_centres, write_centres

    own = read_centres(settings.DATA_DIR / "centres" / "derby_illustrative.csv", areas=derby_areas)
    file = gpd.GeoDataFrame(
        {"name": ["Inside Derby", "Belper", "Long Eaton"]},
        index=pd.Index(["X1", "CC01", "X3"], name="centre_id"),
        geometry=[shapely.Point(435_500, 336_000), shapely.Point(434_800, 347_900),
                  shapely.Point(449_200, 332_700)],  # fmt: skip
        crs=settings.WORKING_CRS,
    )
    path = tmp_path / "neighbours.csv"
    write_centres(file, path)
    others, notes = neighbour_centres(derby_areas, own, standards=Standards(), source=path)
    assert "X1" not in others.index
    assert any("1 centre(s) in neighbours.csv lie inside the authority" in n for n in notes)
    # CC01 is Derby's own id too: the neighbour's keeps its own identity.
    assert "CC01 (neighbour)" in others.index and "X3" in others.index
    assert others["in_authority"].eq(False).all() and others["neighbour"].all()
    assert (others["authority_name"] == "Derbyshire").all()
    assert others["name"].str.endswith("(Derbyshire)").all()


def test_cli_neighbour_centres_from_a_gias_extract(tmp_path, capsys):
    from test_gias import write_gias

    from planning.apps.cli import main

    extract = write_gias(tmp_path, name="edubasealldata20250117.csv")
    out = tmp_path / "derbyshire"
    code = main(["sufficiency", "--authority", "Derbyshire", "--neighbour-centres", str(extract),
                 "--out", str(out)])  # fmt: skip
    assert code == 0, capsys.readouterr().err
    summary = json.loads((out / "summary.json").read_text())
    assert summary["inputs"]["neighbour_centres_file"].endswith("edubasealldata20250117.csv")
    # Chesterfield's centre lies in Derbyshire itself: the council's file is the truth there.
    assert any("lie inside the authority" in n for n in summary["notes"])
    centres = pd.read_csv(out / "centres.csv", index_col="centre_id")
    taken = centres[centres["neighbour"]]
    assert set(taken.index) <= {"20001", "20002", "20003", "20007"} and len(taken)
    assert "20006" not in centres.index


def test_cli_island_option(tmp_path, capsys):
    from planning.apps.cli import main

    out = tmp_path / "island"
    assert main(["sufficiency", "--island", "--out", str(out)]) == 0
    centres = pd.read_csv(out / "centres.csv", index_col="centre_id")
    assert len(centres) == 10 and not centres["neighbour"].any()


def test_dashboard_and_notebooks_see_the_same_cross_boundary_figures(derbyshire):
    from planning.apps.dashboard.model import Dashboard
    from planning.apps.workbench import scenario_engine

    dashboard = Dashboard.for_authority("Derbyshire")
    figures = dashboard.engine.baseline.figures
    expected = derbyshire.result.authority
    for key in ("under5", "under5_nearest_outside", "centre_equivalents", "share_within_reach"):
        assert figures[key] == pytest.approx(expected[key])
    # A councillor switches the council's own centres, not its neighbours'.
    assert not dashboard.current["neighbour"].any()
    assert len(dashboard.current) == (~derbyshire.result.centres["neighbour"]).sum()
    notebook = scenario_engine("Derbyshire").baseline.figures
    assert notebook["under5_per_centre"] == pytest.approx(expected["under5_per_centre"])
