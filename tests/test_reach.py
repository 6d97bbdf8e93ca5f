"""Registration extracts -> counts -> reach; disclosure control; synthetic extracts; the CLI."""

from __future__ import annotations

import itertools
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.stats import binomtest

from planning import ValidationError, toy_town
from planning.apps.cli import main
from planning.standards import Standards
from planning.analysis.disclosure import protect_counts, round_counts
from planning.runs.reach import (
    run_reach,
    assess_reach,
    publish_reach,
    reach_band,
    read_registrations,
    registration_counts,
    wilson_interval,
    write_reach_outputs,
)
from planning.analysis.sufficiency import assess_sufficiency
from planning.inputs.synthetic import synthetic_registrations, write_synthetic_registrations

from conftest import make_centres

AS_OF = "2025-03-31"
HEADER = "lsoa_code,age,registration_date,contacts_12m,lone_parent,workless_household\n"


@pytest.fixture(scope="module")
def town_areas():
    """A 4x4 toy town with two centres in two localities: areas with centre, locality, band."""
    deciles = np.tile([1, 2, 5, 9], 4)
    town = toy_town(rows=4, columns=4, under5=40.0, imd_decile=deciles)
    centres = make_centres(
        {"A": (430_500, 335_500), "B": (433_500, 338_500)}, locality=["North", "South"]
    )
    return assess_sufficiency(town, centres, standards=Standards()).areas


def write(tmp_path: Path, text: str, name: str = "registrations.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# ---- reading ---------------------------------------------------------------------------------


def test_counts_by_hand(tmp_path, town_areas):
    path = write(
        tmp_path,
        HEADER
        + "T00,0,2024-01-05,3,1,0\n"
        + "T00,2-4,2023-06-01,0,0,1\n"
        + "T00,4,01/02/2022,5,yes,no\n"
        + "\n"
        + "T11,0-1,2024-11-30,2,,\n",
    )
    counts = read_registrations(path, town_areas, as_of=AS_OF)
    table = counts.counts
    assert counts.rows == 4 and counts.rows_outside == 0 and not counts.synthetic
    t00 = table.loc["T00"]
    assert t00[["registered", "sustained", "age_0_1", "age_2_4"]].tolist() == [3, 2, 1, 2]
    assert t00[["lone_parent", "lone_parent_sustained"]].tolist() == [2, 2]
    assert t00[["workless_household", "workless_household_sustained"]].tolist() == [1, 0]
    assert table.loc["T11", ["registered", "sustained", "age_0_1"]].tolist() == [1, 0, 1]
    assert table["registered"].sum() == 4 and len(table) == 16  # every area, zeros included
    # A stricter definition of sustained engagement.
    strict = read_registrations(path, town_areas, as_of=AS_OF, sustained_contacts=5)
    assert strict.counts.loc["T00", "sustained"] == 1
    # The same extract in memory gives the same counts.
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    assert registration_counts(frame, town_areas, as_of=AS_OF).counts.equals(table)


def test_chunks_give_the_same_counts(tmp_path, town_areas):
    extract = synthetic_registrations(town_areas, seed=3, as_of=AS_OF)
    path = tmp_path / "town_synthetic.csv"
    write_synthetic_registrations(extract, path)
    whole = read_registrations(path, town_areas, as_of=AS_OF)
    chunked = read_registrations(path, town_areas, as_of=AS_OF, chunksize=50)
    assert whole.counts.equals(chunked.counts)
    assert whole.synthetic and whole.rows == len(extract)


@pytest.mark.parametrize(
    "column",
    ["name", "child_name", "DOB", "date of birth", "nhs_number", "Address line 1", "email"],
)
def test_identifying_columns_are_refused_before_reading(tmp_path, town_areas, column):
    path = write(
        tmp_path, f"lsoa_code,age,registration_date,contacts_12m,{column}\nT00,1,2024-01-01,1,x\n"
    )
    with pytest.raises(ValidationError) as info:
        read_registrations(path, town_areas, as_of=AS_OF)
    message = str(info.value)
    assert message.startswith("registrations.csv:")
    assert repr(column) in message and "identif" in message
    assert "No row was read" in message and "without" in message


def test_missing_columns_named_with_fix(tmp_path, town_areas):
    path = write(
        tmp_path, "lsoa_code,age,registration_date,contacts_last_year\nT00,1,2024-01-01,1\n"
    )
    with pytest.raises(ValidationError, match=r"registrations.csv: missing column 'contacts_12m' "
                       r"\(found 'contacts_last_year': rename it to 'contacts_12m'\)"):
        read_registrations(path, town_areas, as_of=AS_OF)
    path = write(tmp_path, "age,registration_date,contacts_12m\n1,2024-01-01,1\n")
    with pytest.raises(ValidationError, match="missing column 'lsoa_code' or 'postcode'"):
        read_registrations(path, town_areas, as_of=AS_OF)


def test_bad_rows_all_reported_at_once(tmp_path, town_areas):
    path = write(
        tmp_path,
        HEADER
        + "T00,1,2024-01-05,3,1,0\n"  # row 2: fine
        + "E01099999,1,2024-01-05,3,1,0\n"  # row 3: no such LSOA
        + "T01,5,2024-01-05,3,1,0\n"  # row 4: age 5
        + "T01,-1,2024-01-05,3,1,0\n"  # row 5: negative age
        + "T01,2,2024-13-45,3,1,0\n"  # row 6: not a date
        + "T01,2,2026-01-01,3,1,0\n"  # row 7: after the extract date
        + "T01,2,2024-01-05,two,1,0\n"  # row 8: contacts not a number
        + "T01,2,2024-01-05,1,maybe,0\n"  # row 9: flag
        + ",2,2024-01-05,1,1,0\n",  # row 10: no location
    )
    with pytest.raises(ValidationError) as info:
        read_registrations(path, town_areas, as_of=AS_OF)
    message = str(info.value)
    assert message.startswith("registrations.csv: 7 problems:")
    assert ("row 3: column 'lsoa_code' has codes that are not 2021 LSOAs in England "
            "(found 'E01099999')") in message
    assert ("rows 4 and 5: column 'age' has values that are not under-5 ages "
            "(found '5', '-1')") in message
    assert "give the age in years 0-4 or a band '0-1' or '2-4'" in message
    assert "row 6: column 'registration_date' is not a date (found '2024-13-45')" in message
    assert "row 7: column 'registration_date' is after the extract date 2025-03-31" in message
    assert "row 8: column 'contacts_12m'" in message and "row 9: column 'lone_parent'" in message
    assert "row 10: no location" in message


def test_children_living_elsewhere_are_left_out(tmp_path, derby_areas):
    # E01011949 is in Hartlepool: a real LSOA, but not Derby's.
    path = write(tmp_path, HEADER + "E01013453,1,2024-01-05,3,1,0\nE01011949,1,2024-01-05,3,1,0\n")
    counts = read_registrations(path, derby_areas, as_of=AS_OF)
    assert counts.rows == 1 and counts.rows_outside == 1
    assert counts.counts.loc["E01013453", "registered"] == 1
    # The run that publishes says so; the warning can reach a published report, so it
    # describes the count, never gives it.
    with pytest.warns(UserWarning, match="fewer than 5 registrations are of children living out"):
        run_reach("Derby", path, as_of=AS_OF)


def test_postcodes_placed_in_their_lsoa_and_unknown_ones_not_echoed(tmp_path, derby_areas):
    # DE23 6WY (The Big Building) lies in one of Derby's LSOAs.
    path = write(
        tmp_path,
        "postcode,age,registration_date,contacts_12m\n"
        "DE23 6WY,1,2024-01-05,3\nde236wy,0-1,2024-01-05,0\n",
    )
    counts = read_registrations(path, derby_areas, as_of=AS_OF)
    assert counts.counts["registered"].sum() == 2 and (counts.counts["registered"] == 2).sum() == 1
    path = write(tmp_path, "postcode,age,registration_date,contacts_12m\nZZ99 9ZZ,1,2024-01-05,3\n")
    message = "row 2: column 'postcode' could not be found"
    with pytest.raises(ValidationError, match=message) as info:
        read_registrations(path, derby_areas, as_of=AS_OF)
    assert "ZZ99" not in str(info.value)  # a home postcode is never repeated in a message


# ---- rates ------------------------------------------------------------------------------------


def test_wilson_interval_matches_scipy():
    for k, n in [(0, 10), (3, 10), (65, 100), (99, 100), (100, 100)]:
        low, high = wilson_interval(k, n)
        expected = binomtest(k, n).proportion_ci(method="wilson")
        assert float(low) == pytest.approx(expected.low, abs=1e-9)
        assert float(high) == pytest.approx(expected.high, abs=1e-9)
    low, high = wilson_interval(np.array([5.0, 1.0]), np.array([0.0, 0.5]))
    assert np.isnan(low[0]) and high[1] == pytest.approx(1.0)  # above-100% capped


def test_reach_bands():
    bands = reach_band(pd.Series([0.95, 0.90, 0.80, 0.75, 0.65, 0.50, 0.49, np.nan]))
    assert bands.tolist()[:7] == [
        "almost all", "almost all", "most", "most", "majority", "majority", "minority"
    ]
    assert pd.isna(bands.iloc[7])


def test_reach_by_hand(tmp_path, town_areas):
    rows = ["T00,1,2024-01-05,3,1,0"] * 30 + ["T01,1,2024-01-05,0,0,1"] * 10
    path = write(tmp_path, HEADER + "\n".join(rows) + "\n")
    result = assess_reach(read_registrations(path, town_areas, as_of=AS_OF), town_areas)
    t00 = result.areas.loc["T00"]
    assert t00["reach"] == pytest.approx(30 / 40) and t00["reach_band"] == "most"
    assert t00["sustained_reach"] == pytest.approx(30 / 40) and bool(t00["meets_good_benchmark"])
    assert result.areas.loc["T01", "sustained_share"] == 0
    assert result.authority["registered"] == 40
    assert result.authority["reach"] == pytest.approx(40 / 640)
    bands = result.groups["bands"]
    assert bands.loc["0-30%", "registered"] == 40 and bands.loc["All", "under5"] == 640
    lone = result.target_groups.query("group == 'lone_parent' and level == 'authority'").iloc[0]
    assert lone["registered"] == 30 and lone["share_of_registered"] == pytest.approx(0.75)


# ---- disclosure control ------------------------------------------------------------------------


def test_protect_counts_line_rule():
    counts = pd.DataFrame({"n": [3, 40, 50, 0]}, index=list("abcd"))
    s = protect_counts(counts)
    assert s.cells["n"].tolist() == [True, True, False, False]
    assert s.audit["protected"].all()
    # A primary total in a grouping, protected by a sibling.
    groups = {"g": pd.Series(["x", "y", "y", "z"], index=counts.index)}
    s = protect_counts(counts, groupings=groups)
    assert s.totals["g"].loc["x", "n"] and s.totals["g"]["n"].sum() >= 2


def _lines(published: dict[str, pd.DataFrame], areas: pd.DataFrame):
    """Every (total, members) difference a reader could take from the exact published tables.

    Centre, locality and ward tables are sums of rounded counts (checked separately)."""
    tables = {"bands": "deprivation_band"}
    area_table = published["areas"]
    for column in ("registered", "sustained"):
        for name, key in tables.items():
            table = published[name]
            for group, members in areas.groupby(key).groups.items():
                yield (f"{name} {group} {column}", table.loc[str(group), column],
                       area_table.loc[members, column])
            yield f"{name} All {column}", table.loc["All", column], table.drop(index="All")[column]


def test_suppression_cannot_be_undone_by_subtraction(town_areas):
    # Low reach so that many counts are small.
    extract = synthetic_registrations(town_areas, seed=11, base_reach=0.08, as_of=AS_OF)
    result = assess_reach(registration_counts(extract, town_areas, as_of=AS_OF), town_areas)
    published = publish_reach(result, threshold=5)
    truth = result.areas
    small = (truth["registered"].between(1, 4)) | (truth["sustained"].between(1, 4))
    assert small.sum() >= 4, "the test needs small counts"
    audit = published.audit
    assert audit["protected"].all() and set(audit["table"]) > {"areas"}
    # Two-sided: each withheld small count could be as small as a blank can be, or 5 or more.
    assert (audit["low"] <= audit["floor"] + 1e-6).all() and (audit["high"] >= 5 - 1e-6).all()
    for label, total, members in _lines(published.tables, town_areas):
        if pd.isna(total):
            continue
        withheld = members.isna()
        remainder = float(total) - float(members[~withheld].sum())
        # No published total minus published members leaves a single withheld count...
        assert withheld.sum() != 1, label
        # ...and what it leaves is never a small count.
        assert withheld.sum() == 0 or remainder >= 5, label
    # Every small count, and every rate that would give it back, is withheld.
    areas = published.tables["areas"]
    for column, rates in (("registered", ["reach", "reach_low", "reach_band"]),
                          ("sustained", ["sustained_reach", "sustained_share"])):
        tiny = truth[column].between(1, 4)
        assert areas.loc[tiny, column].isna().all()
        for rate in rates:
            assert areas.loc[areas[column].isna(), rate].isna().all()
    for name in ("bands",):
        raw = result.groups[name]["registered"]
        tiny = raw.index[raw.between(1, 4)].astype(str)
        assert published.tables[name].loc[tiny, "registered"].isna().all(), name
    # Centre, locality and ward tables: sums of the areas' rounded counts, multiples of 5.
    for name, key in (("centres", "centre_id"), ("localities", "locality"), ("wards", "ward_name")):
        table = published.tables[name]
        for column in ("registered", "sustained"):
            rounded = round_counts(truth[column])
            expected = pd.Series(rounded, index=truth.index).groupby(truth[key].astype(str)).sum()
            assert table.drop(index="All")[column].astype(int).equals(
                expected.reindex(table.index.drop("All")).astype(int)
            ), (name, column)
            assert table.loc["All", column] == rounded.sum()
            assert (table[column] % 5 == 0).all()
    tiny = result.ages["registered"].between(1, 4)
    assert published.tables["ages"].loc[tiny, "registered"].isna().all()
    groups = published.tables["target_groups"]
    truth_groups = result.target_groups
    exact = truth_groups["level"] != "locality"
    tiny = truth_groups["registered"].between(1, 4) | truth_groups["sustained"].between(1, 4)
    assert groups.loc[exact & truth_groups["registered"].between(1, 4), "registered"].isna().all()
    assert groups.loc[exact & tiny, "sustained_share"].isna().all()
    # By locality (a grouping that follows the centres): sums of rounded counts.
    for column in ("registered", "sustained", "unit_registered"):
        assert (groups.loc[~exact, column] % 5 == 0).all()


def test_suppression_linear_audit_on_random_tables():
    rng = np.random.default_rng(5)
    for trial in range(3):
        n = 24
        counts = pd.DataFrame({"a": rng.poisson(4, n), "b": rng.poisson(8, n)})
        groups = {
            "centre": pd.Series(np.repeat(np.arange(6), 4)),
            "band": pd.Series(np.tile(np.arange(4), 6)),
        }
        s = protect_counts(counts, groupings=groups, threshold=5, not_greater=[("a", "b")]) \
            if (counts["a"] <= counts["b"]).all() else protect_counts(counts, groupings=groups)
        assert s.audit["protected"].all(), trial
        primary = (counts > 0) & (counts < 5)
        assert s.cells[primary].fillna(True).all().all()
        # Brute force: every published group total minus its published cells.
        for name, labels in [*groups.items(), ("All", pd.Series("All", index=counts.index))]:
            for column in counts:
                for group, members in labels.groupby(labels).groups.items():
                    if s.totals[name].loc[group, column]:
                        continue
                    hidden = s.cells.loc[members, column]
                    assert hidden.sum() != 1
                    if hidden.any() and primary.loc[members, column][hidden].any():
                        remainder = counts.loc[members, column][hidden].sum()
                        assert remainder >= 5


# ---- synthetic extracts --------------------------------------------------------------------------


def test_synthetic_is_labelled_seeded_and_has_the_planted_signal(tmp_path, derby_areas):
    from planning.runs.sufficiency import run_sufficiency

    areas = run_sufficiency("Derby").result.areas
    one = synthetic_registrations(areas, seed=7, as_of=AS_OF)
    assert one.equals(synthetic_registrations(areas, seed=7, as_of=AS_OF))
    assert not one.equals(synthetic_registrations(areas, seed=8, as_of=AS_OF))
    assert (one["synthetic"] == 1).all()
    with pytest.raises(ValidationError, match="must contain 'synthetic'"):
        write_synthetic_registrations(one, tmp_path / "registrations.csv")
    counts = registration_counts(one, areas, as_of=AS_OF)
    reach = counts.counts["registered"] / areas["under5"]
    assert np.corrcoef(areas["distance_m"], reach)[0, 1] < -0.2
    rate = areas["idaci_children"] / areas["children_0_15"]
    assert np.corrcoef(rate, reach)[0, 1] > 0.2


# ---- the command and what it leaves on disk -----------------------------------------------


def test_reach_command_leaves_no_row_level_copy(tmp_path, monkeypatch, capsys, derby_areas):
    marker = "ROWMARKER-6d1f"
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setenv("TMPDIR", str(scratch))
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    codes = derby_areas.index[:40]
    lines = [
        f"{code},{age},2022-01-19,{contacts},{i % 2},{marker}-{i:05d}"
        for i, (code, age, contacts) in enumerate(
            itertools.islice(zip(itertools.cycle(codes), itertools.cycle(["0", "2-4", "3"]),
                                 itertools.cycle([0, 3, 5, 1])), 600)
        )
    ]
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    source = inputs / "extract.csv"
    source.write_text("lsoa_code,age,registration_date,contacts_12m,lone_parent,case_ref\n"
                      + "\n".join(lines) + "\n")
    out = tmp_path / "out"
    monkeypatch.chdir(tmp_path)
    assert main(["reach", "--authority", "Derby", "--registrations", str(source),
                 "--as-of", AS_OF, "--out", str(out)]) == 0
    stdout = capsys.readouterr().out
    assert "of under-5s registered" in stdout
    # The targeting command reads the same extract.
    assert main(["target", "--authority", "Derby", "--registrations", str(source),
                 "--as-of", AS_OF, "--out", str(tmp_path / "target")]) == 0
    assert {p.name for p in out.iterdir()} == {
        "areas.csv", "centres.csv", "localities.csv", "deprivation_bands.csv", "wards.csv",
        "target_groups.csv", "ages.csv", "summary.json", "reach.html",
        ".planning-output.json",  # the marker listing what the tool wrote (hashes, no data)
    }
    leaks = []
    for root in (tmp_path, Path(tempfile.gettempdir())):
        for path in root.rglob("*"):
            if path.is_file() and path != source:
                data = path.read_bytes()
                if marker.encode() in data or b"2022-01-19" in data:
                    leaks.append(path)
    assert leaks == []
    areas = pd.read_csv(out / "areas.csv", index_col=0)
    assert len(areas) == len(derby_areas)  # one row per small area, not per child
    assert "registration_date" not in areas.columns


def test_reach_command_bad_file_exit_2(tmp_path, capsys):
    bad = write(
        tmp_path,
        "lsoa_code,age,registration_date,contacts_12m,dob\nE01013453,1,2024-01-01,1,2020-01-01\n",
        name="extract.csv",
    )
    code = main(["reach", "--registrations", str(bad), "--out", str(tmp_path / "out")])
    assert code == 2
    err = capsys.readouterr().err
    assert "extract.csv: column 'dob' identifies a person" in err
    assert not (tmp_path / "out").exists()


def test_written_outputs_only_hold_published_tables(tmp_path, town_areas):
    extract = synthetic_registrations(town_areas, seed=2, base_reach=0.2, as_of=AS_OF)
    result = assess_reach(registration_counts(extract, town_areas, as_of=AS_OF), town_areas)
    published = publish_reach(result)
    out = write_reach_outputs(published, tmp_path / "reach")
    areas = pd.read_csv(out / "areas.csv", index_col=0)
    written = areas["registered"].dropna()
    assert ((written == 0) | (written >= 5)).all()
    # Per area, only registered and sustained counts (protected) are published.
    counts = set(result.counts.counts.columns) - {"registered", "sustained"}
    assert not counts & set(areas.columns)
    for name in ("areas", "centres", "localities", "deprivation_bands", "wards", "ages"):
        table = pd.read_csv(out / f"{name}.csv", index_col=0)
        for column in ("registered", "sustained"):
            if column in table:
                values = table[column].dropna()
                assert ((values == 0) | (values >= 5)).all(), (name, column)
    groups = pd.read_csv(out / "target_groups.csv")
    for column in ("registered", "sustained", "unit_registered"):
        values = groups[column].dropna()
        assert ((values == 0) | (values >= 5)).all(), column
    assert "SYNTHETIC" in (out / "reach.html").read_text()
