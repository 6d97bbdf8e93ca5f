import pytest

from planning import ValidationError
from planning.standards import Standards, load_standards


def test_packaged_defaults_match_domain():
    s = load_standards()
    assert s.reach_km == 2.5 and s.short_reach_km == pytest.approx(1.609344)
    assert (s.load_min, s.load_target, s.load_max) == (600, 800, 1200)
    assert (s.walk_speed_kmh, s.walk_circuity) == (4.0, 1.3)
    assert s.most_deprived_deciles == (1, 2, 3)
    assert s == Standards(source=s.source)


def test_custom_file(tmp_path):
    path = tmp_path / "local.yaml"
    path.write_text("reach:\n  distance_km: 2.0\nverdict:\n  all_within_reach: {green: 0.85, amber: 0.7}\n")
    s = load_standards(path)
    assert s.reach_km == 2.0 and s.all_green == 0.85 and s.load_max == 1200
    assert s.source == str(path)


@pytest.mark.parametrize(
    "text, message",
    [
        ("", "is empty"),
        ("reach: [1, 2", "not valid YAML"),
        ("reach:\n  distnce_km: 2\n", "unknown key 'reach.distnce_km'; did you mean 'distance_km'? Valid keys: distance_km"),
        ("rech:\n  distance_km: 2\n", "unknown section 'rech'"),
        ("reach:\n  distance_km: -1\n", "'reach.distance_km' must be greater than 0, found -1"),
        ("reach:\n  distance_km: far\n", "'reach.distance_km' must be a number"),
        ("verdict:\n  all_within_reach: {green: 0.5, amber: 0.7}\n", "'verdict.all_within_reach': 'amber' (0.7) must not exceed"),
        ("need_index:\n  indicators: {crime: 1}\n", "not a known indicator"),
    ],
)
def test_bad_standards_name_file_and_key(tmp_path, text, message):
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(ValidationError) as info:
        load_standards(path)
    assert str(path) in str(info.value) and message in str(info.value)


@pytest.mark.parametrize(
    "text, key, example",
    [
        ("reach:\n  distance_km: .nan\n", "reach.distance_km", "2.5"),
        ("reach:\n  rural_distance_km: .inf\n", "reach.rural_distance_km", "4"),
        ("walking:\n  speed_kmh: -.inf\n", "walking.speed_kmh", "4.0"),
        ("load:\n  max_under5_per_centre: .inf\n", "load.max_under5_per_centre", "1200"),
        ("verdict:\n  red_load_factor: .NaN\n", "verdict.red_load_factor", "1.5"),
        ("need_index:\n  indicators: {under5: .nan, imd_score: 1}\n",
         "need_index.indicators.under5", "0.5"),
    ],
)
def test_nan_and_inf_are_refused_with_file_key_and_fix(tmp_path, text, key, example):
    """YAML's .nan and .inf are floats, so they passed the old `value <= 0` checks."""
    path = tmp_path / "standards.yaml"
    path.write_text(text)
    with pytest.raises(ValidationError) as info:
        load_standards(path)
    message = str(info.value)
    assert message.startswith(str(path))
    assert f"'{key}' is " in message and "which is not a finite number" in message
    assert f"give a number such as {example}" in message


def test_replace_refuses_nan():
    with pytest.raises(ValidationError, match="'reach.distance_km' is .nan"):
        Standards().replace(reach_km=float("nan"))


def test_missing_file():
    with pytest.raises(ValidationError, match="does not exist"):
        load_standards("no/such/standards.yaml")


def test_replace_validates():
    assert Standards().replace(reach_km=2.0).reach_km == 2.0
    with pytest.raises(ValidationError):
        Standards().replace(reach_km=0)


def test_every_problem_in_a_standards_file_is_reported_at_once(tmp_path):
    """Schema problems and the rules across keys in one message, so one edit fixes them all."""
    path = tmp_path / "standards.yaml"
    path.write_text(
        "reach:\n  distance_km: -1\n  distanse_km: 2\n"
        "walking:\n  speed_kmh: fast\n"
        "load:\n  min_under5_per_centre: 1500\n"
        "verdict:\n  deprived_within_reach: {green: 0.5, amber: 0.8}\n"
    )
    with pytest.raises(ValidationError) as info:
        load_standards(path)
    message = str(info.value)
    assert f"{path}: 5 problems:" in message
    for part in (
        "'reach.distance_km' must be greater than 0, found -1",
        "unknown key 'reach.distanse_km'",
        "'walking.speed_kmh' must be a number",
        "'verdict.deprived_within_reach': 'amber' (0.8) must not exceed 'green' (0.5); lower "
        "amber or raise green",
        "found 1500, 800, 1200; put them in that order",
    ):
        assert part in message
