"""Authority names as people type them, districts pointed to their county, and suggestions
that do not mislead (issue 13: "Authority names")."""

import pytest

from planning._errors import ValidationError
from planning.apps.cli import main
from planning.inputs.areas import resolve_authority


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ("Derby City", "E06000015"),
        ("City of Derby", "E06000015"),
        ("Derby City Council", "E06000015"),
        ("derby", "E06000015"),
        ("Hull", "E06000010"),
        ("Kingston upon Hull City Council", "E06000010"),
        ("Bristol", "E06000023"),
        ("Bristol City Council", "E06000023"),
        ("Herefordshire", "E06000019"),
        ("Herefordshire Council", "E06000019"),
        ("Derbyshire County Council", "E10000007"),
        ("Brighton & Hove", "E06000043"),
        ("St Helens", "E08000013"),
        ("City of London", "E09000001"),  # the official name itself, not "London"
    ],
)
def test_names_people_type_are_accepted(typed, code):
    assert resolve_authority(typed)[0] == code


@pytest.mark.parametrize("district", ["Amber Valley", "E07000032", "amber valley borough council"])
def test_a_district_is_pointed_to_its_county(district):
    with pytest.raises(ValidationError) as caught:
        resolve_authority(district)
    assert str(caught.value) == (
        "Amber Valley is a district in Derbyshire; children's centres are the county's duty: "
        "use Derbyshire (E10000007)"
    )


def test_district_from_the_command_line_exits_2_with_the_county(capsys, tmp_path):
    assert main(["sufficiency", "--authority", "Erewash", "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: Erewash is a district in Derbyshire;")
    assert "use Derbyshire (E10000007)" in err
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize(
    ("typed", "offered", "not_offered"),
    [
        ("Herefordshir", "Herefordshire, County of", "Hertfordshire"),
        ("Hereford", "Herefordshire, County of", "Hertfordshire"),
        ("Hertfordshir", "Hertfordshire", "Herefordshire"),
        ("Kingston", "Kingston upon Thames", "Islington"),
    ],
)
def test_suggestions_offer_the_right_place_only(typed, offered, not_offered):
    with pytest.raises(ValidationError) as caught:
        resolve_authority(typed)
    message = str(caught.value)
    assert f"'{offered}'" in message and not_offered not in message
    assert "planning authorities" in message  # and the fix: the list
