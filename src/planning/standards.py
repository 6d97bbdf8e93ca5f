"""Analysis standards: commented YAML -> frozen, validated dataclass.

The default file is ``planning/standards.yaml`` (installed with the package); an authority passes
its own with ``--standards FILE``. Every number is checked on load and every problem is reported at
once, naming the file and the key.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from planning._errors import ValidationError
from planning._files import file_sha256  # noqa: F401  (re-exported: input hashes)
from planning._validate import Problems, read_text

DEFAULT_STANDARDS_FILE = "standards.yaml"

#: Indicators a standards file may weight in the need index, with what each measures. Higher
#: means more need. :mod:`planning.analysis.need` says how each is computed.
NEED_INDICATORS: dict[str, str] = {
    "under5_income_deprived": "estimated under-5s in income-deprived families (IDACI rate x "
    "under-5s)",
    "idaci_children": "children 0-15 in income-deprived families (the IDACI numerator)",
    "under5": "children under 5 (ONS mid-year estimates)",
    "imd_score": "Index of Multiple Deprivation score",
    "income_score": "IoD income domain score",
    "health_score": "IoD health deprivation and disability domain score",
    "education_score": "IoD education, skills and training domain score",
}
#: How indicators are put on a common 0-1 scale before weighting.
NEED_NORMALISERS: dict[str, str] = {
    "rank": "percentile rank (ties share their mean rank)",
    "minmax": "(x - min) / (max - min)",
    "zscore": "standard normal CDF of the z-score",
}
MILE_KM = 1.609344


@dataclass(frozen=True)
class Standards:
    """The standards a sufficiency assessment applies (see ``standards.yaml`` for sources)."""

    reach_km: float = 2.5
    rural_reach_km: float | None = None
    short_reach_km: float = MILE_KM
    walk_speed_kmh: float = 4.0
    walk_circuity: float = 1.3
    walk_minutes: float = 30.0
    load_target: float = 800.0
    load_min: float = 600.0
    load_max: float = 1200.0
    most_deprived_deciles: tuple[int, ...] = (1, 2, 3)
    deprived_green: float = 0.90
    deprived_amber: float = 0.75
    all_green: float = 0.80
    all_amber: float = 0.60
    red_load_factor: float = 1.5
    need_normaliser: str = "rank"
    need_weights: dict[str, float] = field(
        default_factory=lambda: {"under5_income_deprived": 0.5, "imd_score": 0.3, "under5": 0.2}
    )
    source: str = "default"

    @property
    def reach_m(self) -> float:
        return self.reach_km * 1_000.0

    @property
    def rural_reach_m(self) -> float:
        return (self.rural_reach_km if self.rural_reach_km is not None else self.reach_km) * 1e3

    @property
    def short_reach_m(self) -> float:
        return self.short_reach_km * 1_000.0

    def replace(self, **changes: Any) -> "Standards":
        """A copy with some standards changed (validated), e.g. ``reach_km=2.0``."""
        new = dataclasses.replace(self, **changes)
        _check(new, Problems(f"standards ({self.source})"))
        return new

    def describe(self) -> dict[str, Any]:
        """Plain dict for summaries and reports."""
        out = dataclasses.asdict(self)
        out["most_deprived_deciles"] = list(self.most_deprived_deciles)
        return out

    def reach_label(self) -> str:
        return f"{self.reach_km:g} km"


# YAML path -> dataclass field
_FIELDS: dict[tuple[str, str], str] = {
    ("reach", "distance_km"): "reach_km",
    ("reach", "rural_distance_km"): "rural_reach_km",
    ("reach", "short_distance_km"): "short_reach_km",
    ("walking", "speed_kmh"): "walk_speed_kmh",
    ("walking", "circuity"): "walk_circuity",
    ("walking", "minutes"): "walk_minutes",
    ("load", "target_under5_per_centre"): "load_target",
    ("load", "min_under5_per_centre"): "load_min",
    ("load", "max_under5_per_centre"): "load_max",
    ("deprivation", "most_deprived_deciles"): "most_deprived_deciles",
    ("verdict", "red_load_factor"): "red_load_factor",
    ("need_index", "normaliser"): "need_normaliser",
    ("need_index", "indicators"): "need_weights",
}
#: A sensible value of each number, quoted in messages that ask for one.
_EXAMPLES = {
    "reach.distance_km": "2.5",
    "reach.rural_distance_km": "4",
    "reach.short_distance_km": "1.6",
    "walking.speed_kmh": "4.0",
    "walking.circuity": "1.3",
    "walking.minutes": "30",
    "load.target_under5_per_centre": "800",
    "load.min_under5_per_centre": "600",
    "load.max_under5_per_centre": "1200",
    "verdict.red_load_factor": "1.5",
}
_THRESHOLDS = {
    "deprived_within_reach": ("deprived_green", "deprived_amber"),
    "all_within_reach": ("all_green", "all_amber"),
}


def load_standards(path: str | Path | None = None) -> Standards:
    """Read standards from a YAML file (``None``: the packaged defaults).

    Raises
    ------
    ValidationError
        Unknown sections or keys (with the valid ones listed), non-numeric or out-of-range values,
        an empty or unreadable file; all problems in one message naming the file.
    """
    if path is None:
        text = resources.files("planning").joinpath(DEFAULT_STANDARDS_FILE).read_text("utf-8")
        name = "default standards (planning/standards.yaml)"
    else:
        path = Path(path)
        if not path.exists():
            raise ValidationError(f"standards file {path} does not exist; check the path")
        text = read_text(path, "standards file (.yaml)")
        name = str(path)
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ValidationError(f"{name}: is not valid YAML ({exc}); fix the syntax") from exc
    if raw is None:
        raise ValidationError(f"{name}: is empty; copy planning/standards.yaml and edit it")
    if not isinstance(raw, dict):
        raise ValidationError(f"{name}: must be a mapping of sections (reach, walking, ...)")
    return standards_from_dict(raw, source=name)


def standards_from_dict(raw: dict[str, Any], *, source: str = "dict") -> Standards:
    """Build :class:`Standards` from the nested YAML structure, validating every value."""
    problems = Problems(source)
    values: dict[str, Any] = {}
    sections = {section for section, _ in _FIELDS} | {"verdict"}
    for section, body in raw.items():
        if section not in sections:
            problems.add(f"unknown section '{section}'; valid sections: {', '.join(sorted(sections))}")
            continue
        if not isinstance(body, dict):
            problems.add(f"section '{section}' must be a mapping of keys to values")
            continue
        valid = sorted(
            [k for s, k in _FIELDS if s == section]
            + (list(_THRESHOLDS) if section == "verdict" else [])
        )
        for key, value in body.items():
            if section == "verdict" and key in _THRESHOLDS:
                if not isinstance(value, dict) or set(value) - {"green", "amber"}:
                    problems.add(f"verdict.{key} must be a mapping with 'green' and 'amber' shares")
                    continue
                green_field, amber_field = _THRESHOLDS[key]
                if "green" in value:
                    values[green_field] = value["green"]
                if "amber" in value:
                    values[amber_field] = value["amber"]
            elif (section, key) in _FIELDS:
                values[_FIELDS[(section, key)]] = value
            else:
                problems.add(f"unknown key '{section}.{key}'; valid keys: {', '.join(valid)}")
    problems.raise_if_any()
    try:
        standards = Standards(**values, source=source)
    except TypeError as exc:  # pragma: no cover - keys are filtered above
        raise ValidationError(f"{source}: {exc}") from exc
    if "most_deprived_deciles" in values:
        deciles = values["most_deprived_deciles"]
        if isinstance(deciles, list):
            object.__setattr__(standards, "most_deprived_deciles", tuple(deciles))
    if "need_weights" in values and isinstance(values["need_weights"], dict):
        object.__setattr__(standards, "need_weights", dict(values["need_weights"]))
    _check(standards, problems)
    return standards


def _is_number(value: Any) -> bool:
    """A real, finite number: YAML's ``.nan`` and ``.inf`` are floats but not standards."""
    return (
        isinstance(value, (int, float))
        and not isinstance(value, bool)
        and math.isfinite(value)
    )


def _not_finite(value: Any) -> bool:
    return isinstance(value, float) and not math.isfinite(value)


def _yaml_value(value: Any) -> str:
    """How the user typed a value: ``.nan``/``.inf`` as YAML spells them, else ``repr``."""
    if isinstance(value, float) and math.isnan(value):
        return ".nan"
    if isinstance(value, float) and math.isinf(value):
        return ".inf" if value > 0 else "-.inf"
    return repr(value)


def _finite_problem(key: str, value: Any, example: str) -> str:
    return (
        f"'{key}' is {_yaml_value(value)}, which is not a finite number; give a number such "
        f"as {example}"
    )


def _check(s: Standards, problems: Problems) -> None:
    positive = {
        "reach.distance_km": s.reach_km,
        "reach.short_distance_km": s.short_reach_km,
        "walking.speed_kmh": s.walk_speed_kmh,
        "walking.circuity": s.walk_circuity,
        "walking.minutes": s.walk_minutes,
        "load.target_under5_per_centre": s.load_target,
        "load.min_under5_per_centre": s.load_min,
        "load.max_under5_per_centre": s.load_max,
        "verdict.red_load_factor": s.red_load_factor,
    }
    if s.rural_reach_km is not None:
        positive["reach.rural_distance_km"] = s.rural_reach_km
    for key, value in positive.items():
        if _not_finite(value):
            problems.add(_finite_problem(key, value, _EXAMPLES.get(key, "1")))
        elif not _is_number(value):
            problems.add(f"'{key}' must be a number, found {value!r}")
        elif value <= 0:
            problems.add(f"'{key}' must be greater than 0, found {value}")
    shares = {
        "verdict.deprived_within_reach.green": s.deprived_green,
        "verdict.deprived_within_reach.amber": s.deprived_amber,
        "verdict.all_within_reach.green": s.all_green,
        "verdict.all_within_reach.amber": s.all_amber,
    }
    for key, value in shares.items():
        if _not_finite(value):
            problems.add(_finite_problem(key, value, "0.9"))
        elif not _is_number(value) or not 0 <= value <= 1:
            problems.add(f"'{key}' must be a share between 0 and 1 (e.g. 0.9), found {value!r}")
    if not problems:
        if s.deprived_amber > s.deprived_green or s.all_amber > s.all_green:
            problems.add("verdict thresholds: 'amber' must not exceed 'green'")
        if not s.load_min <= s.load_target <= s.load_max:
            problems.add(
                "load: need min_under5_per_centre <= target_under5_per_centre <= "
                f"max_under5_per_centre, found {s.load_min}, {s.load_target}, {s.load_max}"
            )
        if s.red_load_factor < 1:
            problems.add("'verdict.red_load_factor' must be at least 1")
    deciles = s.most_deprived_deciles
    if not isinstance(deciles, (list, tuple)) or not deciles or not all(
        isinstance(d, int) and 1 <= d <= 10 for d in deciles
    ):
        problems.add(f"'deprivation.most_deprived_deciles' must list deciles 1-10, found {deciles!r}")
    if s.need_normaliser not in NEED_NORMALISERS:
        problems.add(
            f"'need_index.normaliser' is '{s.need_normaliser}'; valid: {', '.join(NEED_NORMALISERS)}"
        )
    weights = s.need_weights
    if not isinstance(weights, dict) or not weights:
        problems.add("'need_index.indicators' must map indicator names to weights")
    else:
        for name, weight in weights.items():
            if name not in NEED_INDICATORS:
                problems.add(
                    f"'need_index.indicators.{name}' is not a known indicator; valid: "
                    f"{', '.join(NEED_INDICATORS)}"
                )
            if _not_finite(weight):
                problems.add(_finite_problem(f"need_index.indicators.{name}", weight, "0.5"))
            elif not _is_number(weight) or weight < 0:
                problems.add(f"'need_index.indicators.{name}' weight must be >= 0, found {weight!r}")
        if all(_is_number(w) for w in weights.values()) and sum(weights.values()) <= 0:
            problems.add("'need_index.indicators' weights must not all be zero")
    problems.raise_if_any()
