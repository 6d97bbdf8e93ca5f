"""Disclosure control: the audit's intruder, the protection rule, refusal, the threshold floor,
what reaches published notes, and the checks on registration extracts (issue 10, section 3)."""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest

from planning import ValidationError, toy_town
from planning._errors import PlanningError
from planning.apps.cli import main
from planning.standards import Standards
from planning.analysis.disclosure import protect_counts
from planning.runs.reach import (
    run_reach,
    assess_reach,
    publish_reach,
    read_registrations,
    registration_counts,
    write_reach_outputs,
)
from planning.analysis.sufficiency import assess_sufficiency
from planning.inputs.synthetic import synthetic_registrations

from conftest import make_centres

AS_OF = "2025-03-31"
HEADER = "lsoa_code,age,registration_date,contacts_12m\n"


@pytest.fixture(scope="module")
def town_areas():
    deciles = np.tile([1, 2, 5, 9], 4)
    town = toy_town(rows=4, columns=4, under5=40.0, imd_decile=deciles)
    centres = make_centres(
        {"A": (430_500, 335_500), "B": (433_500, 338_500)}, locality=["North", "South"]
    )
    return assess_sufficiency(town, centres, standards=Standards()).areas


def _brute_interval(counts, cells, totals, column, row, not_greater=None, cap=40):
    """Every integer completion of the blanks (each >= 1) consistent with the published totals."""
    import itertools

    blanks = [i for i in counts.index if cells.loc[i, column]]
    total = counts[column].sum()
    known = counts.loc[~cells[column], column].sum()
    feasible = []
    for combo in itertools.product(range(1, cap), repeat=len(blanks)):
        values = dict(zip(blanks, combo))
        if not totals["All"].loc["All", column] and known + sum(combo) != total:
            continue
        if not_greater and any(values[i] > not_greater[i] for i in blanks):
            continue
        feasible.append(values[row])
    return min(feasible), max(feasible)


def test_intruder_knows_blanks_are_at_least_one():
    # 4 + 1 = 5 passed the old audit (0..5 is 5 wide), but blanks are >= 1 because zeros are
    # published: the 4 is then known to be 1..4, never 5, so it must be protected further.
    counts = pd.DataFrame({"n": [4, 1, 10, 12, 0]}, index=list("abcde"))
    s = protect_counts(counts)
    low, high = _brute_interval(counts, s.cells, s.totals, "n", "a")
    assert low <= 1 and high >= 5
    assert not s.cells.loc["e", "n"]  # zeros are never withheld, so "a blank is >= 1" holds


def test_protection_is_two_sided():
    # The sustained 3 in area a with b's sustained (20, = its registered) as the only
    # complement: a + b = 23 and b <= 20 give a >= 3: an interval [3, 23] is 20 wide (the old
    # one-sided check passed it) but tells the intruder that a is at least its true value.
    counts = pd.DataFrame(
        {"registered": [30, 20, 40], "sustained": [3, 20, 25]}, index=list("abc")
    )
    s = protect_counts(counts, not_greater=[("sustained", "registered")])
    row = s.audit.set_index("item").loc["a"]
    assert row["low"] <= row["floor"] == 1 and row["high"] >= 5
    # Check by brute force with what is published: sustained blanks, each <= registered.
    bound = counts["registered"].where(~s.cells["registered"], 10**6)
    low, _ = _brute_interval(counts, s.cells, s.totals, "sustained", "a",
                             not_greater=bound.to_dict(), cap=45)
    assert low == 1


def test_a_failed_audit_refuses_the_publication():
    # The intruder knows (from elsewhere) that a is at most 3: nothing can protect it.
    counts = pd.DataFrame({"n": [3, 30, 40]}, index=list("abc"))
    with pytest.raises(PlanningError, match=r"disclosure audit failed for a \(n\).*nothing was "
                       r"published"):
        protect_counts(counts, upper_bounds=pd.DataFrame({"n": [3, np.nan, np.nan]},
                                                         index=counts.index))


def test_target_group_audits_are_kept_and_checked(town_areas):
    extract = synthetic_registrations(town_areas, seed=11, base_reach=0.08, as_of=AS_OF)
    result = assess_reach(registration_counts(extract, town_areas, as_of=AS_OF), town_areas)
    published = publish_reach(result)
    audit = published.audit
    groups = audit[audit["table"].str.startswith("target group")]
    assert len(groups) and groups["protected"].all()
    assert (groups["high"] >= 5).all() and (groups["low"] <= groups["floor"] + 1e-6).all()


@pytest.mark.parametrize("threshold", [0, 1, 2])
def test_threshold_floor(town_areas, threshold):
    extract = synthetic_registrations(town_areas, seed=2, base_reach=0.2, as_of=AS_OF)
    result = assess_reach(registration_counts(extract, town_areas, as_of=AS_OF), town_areas)
    with pytest.raises(ValidationError, match="at least 3"):
        publish_reach(result, threshold=threshold)
    with pytest.raises(ValidationError, match="at least 3"):
        protect_counts(pd.DataFrame({"n": [1, 9]}), threshold=threshold)
    assert publish_reach(result).threshold == 5  # the default stays 5


def test_threshold_below_3_exits_2(tmp_path, capsys):
    extract = tmp_path / "extract.csv"
    extract.write_text(HEADER + "E01013453,1,2024-01-01,1\n")
    code = main(["reach", "--registrations", str(extract), "--threshold", "1",
                 "--out", str(tmp_path / "out")])
    assert code == 2
    assert "threshold 1 is too low" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_no_small_count_in_notes_or_summary(tmp_path, derby_areas):
    """Three children living outside Derby: '3 registration(s)' must appear nowhere."""
    rows = [f"{code},2,2024-01-05,3" for code in derby_areas.index[:60] for _ in range(6)]
    rows += ["E01011949,1,2024-01-05,3"] * 3  # Hartlepool
    path = tmp_path / "extract.csv"
    path.write_text(HEADER + "\n".join(rows) + "\n")
    counts = read_registrations(path, derby_areas, as_of=AS_OF)
    with pytest.warns(UserWarning, match="fewer than 5 registrations") as caught:
        run_reach("Derby", path, as_of=AS_OF)
    assert not any(str(n) in str(w.message) for w in caught for n in (1, 2, 3, 4))
    result = assess_reach(counts, derby_areas)
    published = publish_reach(result)
    out = write_reach_outputs(published, tmp_path / "out",
                              provenance={"registrations": {"file": counts.source}})
    texts = [(out / "summary.json").read_text(), (out / "reach.html").read_text(),
             " ".join(result.notes)]
    for text in texts:
        assert not re.search(r"\b3 registration", text)
    assert any("Fewer than 5 registrations of children living outside" in t for t in texts)
    assert json.loads(texts[0])["disclosure"]["rounding_base"] == 5


def test_provenance_holds_no_registration_count(tmp_path, derby_areas):
    from planning.runs.reach import run_reach

    rows = ["E01013453,2,2024-01-05,3"] * 3
    path = tmp_path / "extract.csv"
    path.write_text(HEADER + "\n".join(rows) + "\n")
    run = run_reach("Derby", path, as_of=AS_OF)
    registrations = run.provenance["registrations"]
    assert 3 not in [v for k, v in registrations.items() if k != "sustained_contacts"]


# ---- the extract ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "column",
    ["DateOfBirth", "D.O.B.", "ChildName", "Address1", "AddressLine", "NHSNumber", "NHS No",
     "Tel", "Telephone", "Phone", "Mobile", "UPRN", "Email", "E-mail", "FirstName", "Surname",
     "Child DOB", "Mother's name"],
)
def test_identifying_headers_refused_by_normalised_name(tmp_path, town_areas, column):
    path = tmp_path / "registrations.csv"
    path.write_text(f'lsoa_code,age,registration_date,contacts_12m,"{column}"\n'
                    "T00,1,2024-01-01,1,x\n")
    with pytest.raises(ValidationError) as info:
        read_registrations(path, town_areas, as_of=AS_OF)
    message = str(info.value)
    assert message.startswith("registrations.csv:") and repr(column) in message
    assert "identifies a person" in message and "Export the extract again without" in message


def test_place_names_are_not_identifying(tmp_path, town_areas):
    path = tmp_path / "registrations.csv"
    path.write_text("lsoa_code,age,registration_date,contacts_12m,Centre Name,ward_name\n"
                    "T00,1,2024-01-01,1,Hub,Ward 0\n")
    assert read_registrations(path, town_areas, as_of=AS_OF).rows == 1


def test_count_column_is_read_as_a_count(tmp_path, town_areas):
    path = tmp_path / "registrations.csv"
    path.write_text("lsoa_code,age,registration_date,contacts_12m,lone_parent,Count\n"
                    "T00,0-1,2024-01-01,4,1,7\n"
                    "T00,2-4,2024-01-01,0,0,5\n"
                    "T01,3,2024-01-01,1,1,0\n")
    counts = read_registrations(path, town_areas, as_of=AS_OF)
    row = counts.counts.loc["T00"]
    assert counts.rows == 12
    assert row[["registered", "sustained", "age_0_1", "age_2_4"]].tolist() == [12, 7, 7, 5]
    assert row[["lone_parent", "lone_parent_sustained"]].tolist() == [7, 7]
    assert counts.counts.loc["T01", "registered"] == 0


def test_negative_and_ambiguous_counts_refused(tmp_path, town_areas):
    path = tmp_path / "registrations.csv"
    path.write_text("lsoa_code,age,registration_date,contacts_12m,n\n"
                    "T00,1,2024-01-01,4,3\nT00,1,2024-01-01,4,-2\nT00,1,2024-01-01,4,1.5\n")
    with pytest.raises(ValidationError) as info:
        read_registrations(path, town_areas, as_of=AS_OF)
    message = str(info.value)
    assert "row 3: column 'n' is negative (found '-2')" in message
    assert "row 4: column 'n' is not a whole number" in message
    for header in ("count,n", "num_children_in_row", "total"):
        first = header.split(",")
        path.write_text(f"lsoa_code,age,registration_date,contacts_12m,{header}\n"
                        f"T00,1,2024-01-01,4{',2' * len(first)}\n")
        if header == "total":  # an alias: read as the count
            assert read_registrations(path, town_areas, as_of=AS_OF).rows == 2
            continue
        with pytest.raises(ValidationError, match="like a number of children per row"):
            read_registrations(path, town_areas, as_of=AS_OF)
