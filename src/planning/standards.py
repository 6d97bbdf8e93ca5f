"""Analysis standards: commented YAML -> frozen, validated dataclass.

The default file is ``planning/standards.yaml`` (installed with the package); an authority passes
its own with ``--standards FILE``. The file's declared schema is :class:`StandardsFile` (a pydantic
model, published as JSON Schema by ``planning schema standards`` for editors); every number is
checked on load and every problem is reported at once, naming the file, the key and the fix.
"""

from __future__ import annotations

import copy
import dataclasses
import functools
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field
from pydantic import ValidationError as SchemaError

from planning._errors import ValidationError
from planning._files import file_sha256  # noqa: F401  (re-exported: input hashes)
from planning._format import count, standard_km
from planning._validate import (
    Place,
    Problems,
    did_you_mean,
    dotted,
    json_schema,
    read_text,
    schema_problems,
)

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
#: Documented age-range presets for ``population.ages`` (inclusive, in years).
AGE_PRESETS: dict[str, tuple[int, int]] = {
    # Children's centres (Childcare Act 2006 s.5A: young children; DfE 2013): under-5s.
    "childrens_centres": (0, 4),
    # Derby's procedures: services reach families with children under 8.
    "derby_under8s": (0, 7),
    # Family Hubs (DfE programme guide 2022): 0-19 (25 with SEND, not embedded here).
    "family_hubs": (0, 19),
}


def ages_label(ages: tuple[int, int]) -> str:
    """The age range in words for every figure and label.

    Examples
    --------
    >>> ages_label((0, 4))
    'under-5s'
    >>> ages_label((0, 19))
    'children aged 0-19'
    """
    low, high = ages
    if low == 0 and high == 4:
        return "under-5s"
    if low == high:
        return f"children aged {low}"
    return f"children aged {low}-{high}"


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
    #: Ages counted by the age-range figures (inclusive); the load standard stays under-5s.
    population_ages: tuple[int, int] = (0, 4)
    #: Service-level sufficiency (:mod:`planning.analysis.services`) in every run.
    services_assess: bool = False
    #: Service vocabulary file (``None``: the packaged ``services.yaml``).
    services_vocabulary: str | None = None
    #: Extra service terms accepted in a centres file: name -> {definition, offer}.
    services_declared: dict[str, dict[str, str]] = field(default_factory=dict)
    #: A branch farther than this from its hub is flagged (km); a workbench default.
    hub_branch_max_km: float = 5.0
    #: Colour of "no site in <locality> offers <a universal service>".
    services_missing_rag: str = "Amber"
    services_green: float = 0.80
    services_amber: float = 0.60
    source: str = "default"

    @property
    def ages_label(self) -> str:
        """The age range in force in words: 'under-5s', 'children aged 0-19'."""
        return ages_label(self.population_ages)

    @property
    def reach_m(self) -> float:
        return self.reach_km * 1_000.0

    @property
    def rural_reach_m(self) -> float:
        return (self.rural_reach_km if self.rural_reach_km is not None else self.reach_km) * 1e3

    @property
    def ring_metres(self) -> tuple[float, ...]:
        """The distances a map draws rings at: the reach standard, the rural one when it
        differs, and the short distance (largest first, no repeats).

        Examples
        --------
        >>> Standards(rural_reach_km=5.0).ring_metres
        (5000.0, 2500.0, 1609.344)
        """
        return tuple(sorted({self.reach_m, self.rural_reach_m, self.short_reach_m}, reverse=True))

    @property
    def short_reach_m(self) -> float:
        return self.short_reach_km * 1_000.0

    def replace(self, **changes: Any) -> Standards:
        """A copy with some standards changed (validated), e.g. ``reach_km=2.0``."""
        new = dataclasses.replace(self, **changes)
        # Checked by the same schema as a file, so the messages name the file's keys.
        checked = standards_from_dict(_as_yaml(new), source=f"standards ({self.source})")
        return dataclasses.replace(checked, source=self.source)

    def describe(self) -> dict[str, Any]:
        """Plain dict for summaries and reports."""
        out = dataclasses.asdict(self)
        out["most_deprived_deciles"] = list(self.most_deprived_deciles)
        out["population_ages"] = list(self.population_ages)
        out["ages_label"] = self.ages_label
        return out

    def reach_label(self) -> str:
        return f"{self.reach_km:g} km"

    # The one place that words a standard; every label that quotes one goes through these, so a
    # council's own standards file changes the wording everywhere at once.
    @property
    def deprived_label(self) -> str:
        """The deprived areas in words: deciles 1-3 -> '30% most deprived', 1-2 -> '20% most
        deprived'; a set that does not start at decile 1 or has gaps names its deciles.

        Examples
        --------
        >>> Standards().deprived_label
        '30% most deprived'
        >>> Standards(most_deprived_deciles=(1, 2)).deprived_label
        '20% most deprived'
        >>> Standards(most_deprived_deciles=(1, 3)).deprived_label
        'most deprived (IMD deciles 1, 3)'
        """
        deciles = sorted(set(self.most_deprived_deciles))
        if deciles == list(range(1, len(deciles) + 1)):
            return f"{10 * len(deciles)}% most deprived"
        return f"most deprived (IMD deciles {', '.join(map(str, deciles))})"

    @property
    def deprived_heading(self) -> str:
        """:attr:`deprived_label` as a heading: 'Most deprived (IMD deciles 1, 3)'."""
        label = self.deprived_label
        return label[:1].upper() + label[1:]

    @property
    def load_range_label(self) -> str:
        """The acceptable under-5s per centre, e.g. '600-1,200'."""
        return f"{count(self.load_min)}-{count(self.load_max)}"

    @property
    def short_reach_label(self) -> str:
        """The short distance standard in words: '1 mile' for the default, else '1.5 km'.

        Examples
        --------
        >>> Standards().short_reach_label
        '1 mile'
        >>> Standards(short_reach_km=1.5).short_reach_label
        '1.5 km'
        """
        miles = self.short_reach_km / MILE_KM
        if abs(miles - round(miles)) < 1e-6 and round(miles) >= 1:
            whole = round(miles)
            return f"{whole} mile" + ("s" if whole > 1 else "")
        return standard_km(self.short_reach_km)

    @property
    def load_max_label(self) -> str:
        """The largest acceptable under-5s per centre, e.g. '1,200'."""
        return count(self.load_max)


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
    ("population", "ages"): "population_ages",
    ("services", "assess"): "services_assess",
    ("services", "vocabulary"): "services_vocabulary",
    ("services", "declared"): "services_declared",
    ("services", "hub_branch_max_km"): "hub_branch_max_km",
}
_THRESHOLDS = {
    "deprived_within_reach": ("deprived_green", "deprived_amber"),
    "all_within_reach": ("all_green", "all_amber"),
}


# --------------------------------------------------------------------------------------------
# The declared schema of a standards file (published by `planning schema standards`)

_DEFAULT = Standards()


def _positive(default: float, example: float, description: str) -> Any:
    """A finite number above zero (YAML's ``.nan`` and ``.inf`` are floats, but not standards)."""
    return Field(
        default=default,
        gt=0,
        allow_inf_nan=False,
        strict=True,
        examples=[example],
        description=description,
    )


def _share(default: float, example: float, description: str) -> Any:
    return Field(
        default=default,
        ge=0,
        le=1,
        allow_inf_nan=False,
        strict=True,
        examples=[example],
        description=description,
    )


class _Section(BaseModel):
    # Unknown keys are refused (with a "did you mean"), never silently ignored.
    model_config = ConfigDict(extra="forbid")


class ReachSection(_Section):
    """Reasonable reach: the distance a family can be expected to travel to a centre."""

    distance_km: float = _positive(
        _DEFAULT.reach_km, 2.5, "a centre within this straight-line distance is within reach (km)"
    )
    rural_distance_km: float | None = Field(
        default=None,
        gt=0,
        allow_inf_nan=False,
        strict=True,
        examples=[4],
        description="reach in rural areas (km); null: rural areas use distance_km",
    )
    short_distance_km: float = _positive(
        _DEFAULT.short_reach_km, 1.6, "a second, stricter distance reported alongside (km)"
    )


class WalkingSection(_Section):
    """Walking time = straight-line distance x circuity / speed."""

    speed_kmh: float = _positive(_DEFAULT.walk_speed_kmh, 4.0, "walking speed with a pram (km/h)")
    circuity: float = _positive(
        _DEFAULT.walk_circuity, 1.3, "ratio of network to straight-line distance"
    )
    minutes: float = _positive(_DEFAULT.walk_minutes, 30, "report the share within this walk")


class LoadSection(_Section):
    """Reach-area size: under-5s per centre."""

    target_under5_per_centre: float = _positive(_DEFAULT.load_target, 800, "target load")
    min_under5_per_centre: float = _positive(_DEFAULT.load_min, 600, "smallest acceptable load")
    max_under5_per_centre: float = _positive(_DEFAULT.load_max, 1200, "largest acceptable load")


Decile = Annotated[int, Field(ge=1, le=10, strict=True, examples=[1])]


class DeprivationSection(_Section):
    """Which national IMD deciles count as "most deprived"."""

    most_deprived_deciles: list[Decile] = Field(
        default=list(_DEFAULT.most_deprived_deciles),
        min_length=1,
        examples=[[1, 2, 3]],
        description="IMD deciles 1-10 (1 = most deprived); [1, 2, 3] is the 30% most deprived",
    )


class DeprivedWithinReach(_Section):
    """Share of under-5s in the most deprived areas within reach for green and for amber."""

    green: float = _share(_DEFAULT.deprived_green, 0.9, "at least this share is green")
    amber: float = _share(_DEFAULT.deprived_amber, 0.75, "at least this share is amber")


class AllWithinReach(_Section):
    """Share of all under-5s within reach for green and for amber."""

    green: float = _share(_DEFAULT.all_green, 0.8, "at least this share is green")
    amber: float = _share(_DEFAULT.all_amber, 0.6, "at least this share is amber")


class VerdictSection(_Section):
    """Red/amber/green rules."""

    deprived_within_reach: DeprivedWithinReach = Field(default_factory=DeprivedWithinReach)
    all_within_reach: AllWithinReach = Field(default_factory=AllWithinReach)
    red_load_factor: float = Field(
        default=_DEFAULT.red_load_factor,
        ge=1,
        allow_inf_nan=False,
        strict=True,
        examples=[1.5],
        description="a load above this multiple of max_under5_per_centre is red",
    )


Weight = Annotated[float, Field(ge=0, allow_inf_nan=False, strict=True, examples=[0.5])]


class NeedIndexSection(_Section):
    """Need index = 100 x weighted mean of normalised indicators."""

    normaliser: Literal["rank", "minmax", "zscore"] = Field(
        default="rank", description="; ".join(f"{k}: {v}" for k, v in NEED_NORMALISERS.items())
    )
    indicators: dict[Literal[tuple(NEED_INDICATORS)], Weight] = Field(  # type: ignore[valid-type]
        default_factory=lambda: dict(_DEFAULT.need_weights),
        min_length=1,
        examples=[dict(_DEFAULT.need_weights)],
        description="indicator -> weight (>= 0, not all zero); "
        + "; ".join(f"{k}: {v}" for k, v in NEED_INDICATORS.items()),
    )


class PopulationSection(_Section):
    """The age range the age-range figures count (the load standard stays under-5s)."""

    ages: list[Annotated[int, Field(strict=True)]] | str = Field(
        default_factory=lambda: list(_DEFAULT.population_ages),
        examples=[[0, 4], "family_hubs"],
        description="[from, to] in years (0-19 embedded), or a preset: "
        + "; ".join(f"{k}: {a}-{b}" for k, (a, b) in AGE_PRESETS.items()),
    )


class DeclaredService(_Section):
    """A service term a centres file may use that the vocabulary does not list."""

    definition: str = Field(default="declared in the standards file", min_length=1)
    offer: Literal["universal", "targeted"] = "targeted"


class ServicesWithinReach(_Section):
    """Share of the age group within reach of a universal service for green and for amber."""

    green: float = _share(_DEFAULT.services_green, 0.8, "at least this share is green")
    amber: float = _share(_DEFAULT.services_amber, 0.6, "at least this share is amber")


class ServicesVerdict(_Section):
    """Service rules added to the verdict (planning.analysis.services)."""

    universal_missing_in_locality: Literal["Green", "Amber", "Red"] = Field(
        default="Amber", description="colour when no site in a locality offers a universal service"
    )
    universal_within_reach: ServicesWithinReach = Field(default_factory=ServicesWithinReach)


class ServicesSection(_Section):
    """The service offer: vocabulary, declared extra terms, hub-and-spoke and verdict rules."""

    assess: bool = Field(default=False, strict=True, description="assess services in every run")
    vocabulary: str | None = Field(
        default=None,
        description="service vocabulary YAML (relative to this file); null: planning/services.yaml",
    )
    declared: dict[str, DeclaredService] = Field(
        default_factory=dict, description="extra service terms: name -> {definition, offer}"
    )
    hub_branch_max_km: float = _positive(
        _DEFAULT.hub_branch_max_km, 5.0, "flag a hub whose branch lies farther than this (km)"
    )
    verdict: ServicesVerdict = Field(default_factory=ServicesVerdict)


class StandardsFile(_Section):
    """A standards file (``planning/standards.yaml``): every section and key is optional, and
    what is left out keeps the packaged default."""

    reach: ReachSection = Field(default_factory=ReachSection)
    walking: WalkingSection = Field(default_factory=WalkingSection)
    load: LoadSection = Field(default_factory=LoadSection)
    deprivation: DeprivationSection = Field(default_factory=DeprivationSection)
    verdict: VerdictSection = Field(default_factory=VerdictSection)
    need_index: NeedIndexSection = Field(default_factory=NeedIndexSection)
    population: PopulationSection = Field(default_factory=PopulationSection)
    services: ServicesSection = Field(default_factory=ServicesSection)


@functools.cache
def standards_json_schema() -> dict[str, Any]:
    """The JSON Schema of a standards file (``planning schema standards``), for editors."""
    return json_schema(
        StandardsFile.model_json_schema(),
        title="Children's centre planning standards",
        description="Standards for the sufficiency assessment (planning/standards.yaml); "
        "pass your own with --standards FILE.",
    )


def _place(loc: tuple[str | int, ...]) -> Place:
    """Standards errors name the dotted key; an unknown top-level key is a 'section'."""
    if len(loc) == 1:
        return Place("", dotted(loc), "section")
    if loc[:2] == ("need_index", "indicators"):
        return Place("", dotted(loc), "indicator")
    return Place("", dotted(loc))


def _as_yaml(s: Standards) -> dict[str, Any]:
    """The nested YAML structure of a :class:`Standards` (the inverse of the schema's mapping)."""
    raw: dict[str, Any] = {}
    for (section, key), name in _FIELDS.items():
        value = getattr(s, name)
        if isinstance(value, tuple):
            value = list(value)
        raw.setdefault(section, {})[key] = value
    for key, (green, amber) in _THRESHOLDS.items():
        raw["verdict"][key] = {"green": getattr(s, green), "amber": getattr(s, amber)}
    raw["services"]["verdict"] = {
        "universal_missing_in_locality": s.services_missing_rag,
        "universal_within_reach": {"green": s.services_green, "amber": s.services_amber},
    }
    return raw


#: Example standards files shipped in ``planning/examples`` (``planning standards --example``).
EXAMPLE_STANDARDS: dict[str, str] = {
    "family_hubs": "family hubs: ages 0-19 and the service offer assessed",
}


def example_standards_path(name: str) -> Path | None:
    """The packaged example standards file called ``name`` (with or without ``.yaml``)."""
    stem = name.removesuffix(".yaml").removesuffix(".yml")
    if stem not in EXAMPLE_STANDARDS:
        return None
    return Path(str(resources.files("planning").joinpath("examples", f"{stem}.yaml")))


def standards_file(path: str | Path) -> Path:
    """The standards file a name means: the path itself, or a shipped example named without a
    folder ("family_hubs.yaml") when no such file is in the current folder."""
    path = Path(path)
    example = example_standards_path(path.name)
    if not path.exists() and example is not None and path.parent == Path():
        return example
    return path


def load_standards(path: str | Path | None = None) -> Standards:
    """Read standards from a YAML file (``None``: the packaged defaults).

    Raises
    ------
    ValidationError
        Unknown sections or keys (with the valid ones listed), non-numeric or out-of-range values,
        an empty or unreadable file; all problems in one message naming the file
        (the schema is :class:`StandardsFile`, published by ``planning schema standards``).
    """
    if path is None:
        text = resources.files("planning").joinpath(DEFAULT_STANDARDS_FILE).read_text("utf-8")
        name = "default standards (planning/standards.yaml)"
    else:
        path = standards_file(path)
        if not path.exists():
            raise ValidationError(
                f"standards file {path} does not exist; check the path (shipped examples: "
                f"{', '.join(EXAMPLE_STANDARDS)})"
            )
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
    """Build :class:`Standards` from the nested YAML structure, validated by
    :class:`StandardsFile`; every problem is reported at once, naming the key and the fix."""
    problems = Problems(source)
    try:
        parsed = StandardsFile.model_validate(raw)
    except SchemaError as exc:
        schema_problems(exc, standards_json_schema(), problems, _place)
        # Every problem at once: the rules across keys are checked too, on what was accepted
        # (a rejected value falls back to its default meanwhile), before anything is raised.
        try:
            parsed = StandardsFile.model_validate(_without(raw, [e["loc"] for e in exc.errors()]))
        except SchemaError:
            problems.raise_if_any()
            raise  # pragma: no cover - an error always adds a problem
    data = parsed.model_dump(exclude_unset=True)
    values: dict[str, Any] = {}
    for (section, key), name in _FIELDS.items():
        if key in data.get(section, {}):
            values[name] = data[section][key]
    for key, (green, amber) in _THRESHOLDS.items():
        given = data.get("verdict", {}).get(key, {})
        values.update(
            {
                field: given[colour]
                for colour, field in (("green", green), ("amber", amber))
                if colour in given
            }
        )
    if "most_deprived_deciles" in values:
        values["most_deprived_deciles"] = tuple(values["most_deprived_deciles"])
    if "population_ages" in values:
        ages = values["population_ages"]
        if isinstance(ages, str) and ages not in AGE_PRESETS:
            problems.add(
                f"'population.ages' is '{ages}', not a preset{did_you_mean(ages, AGE_PRESETS)}; "
                "give [from, to] or a preset: "
                + ", ".join(f"{k} ({a}-{b})" for k, (a, b) in AGE_PRESETS.items())
            )
            ages = list(_DEFAULT.population_ages)
        values["population_ages"] = tuple(AGE_PRESETS[ages] if isinstance(ages, str) else ages)
    service_verdict = data.get("services", {}).get("verdict", {})
    if "universal_missing_in_locality" in service_verdict:
        values["services_missing_rag"] = service_verdict["universal_missing_in_locality"]
    within = service_verdict.get("universal_within_reach", {})
    values.update(
        {f"services_{colour}": within[colour] for colour in ("green", "amber") if colour in within}
    )
    standards = Standards(**values, source=source)
    _check(standards, problems)
    return standards


def _without(raw: Any, locations: list[tuple[str | int, ...]]) -> Any:
    """A deep copy of ``raw`` without the entries at ``locations`` (the keys a schema refused;
    the deepest key of each location that exists in ``raw`` is dropped)."""
    cleaned = copy.deepcopy(raw)
    for loc in locations:
        node, parent, key = cleaned, None, None
        for part in loc:
            if not isinstance(node, dict) or part not in node:
                break
            parent, key, node = node, part, node[part]
        if parent is not None:
            parent.pop(key, None)
    return cleaned


def _check(s: Standards, problems: Problems) -> None:
    """Rules across keys, on the standards after the defaults are filled in (the schema checks
    each value on its own)."""
    for key, (green, amber) in _THRESHOLDS.items():
        if getattr(s, amber) > getattr(s, green):
            problems.add(
                f"'verdict.{key}': 'amber' ({getattr(s, amber):g}) must not exceed 'green' "
                f"({getattr(s, green):g}); lower amber or raise green"
            )
    if not s.load_min <= s.load_target <= s.load_max:
        problems.add(
            "load: need min_under5_per_centre <= target_under5_per_centre <= "
            f"max_under5_per_centre, found {s.load_min:g}, {s.load_target:g}, {s.load_max:g}; "
            "put them in that order"
        )
    ages = s.population_ages
    if len(ages) != 2 or not 0 <= ages[0] <= ages[1] <= 19:
        problems.add(
            f"'population.ages' must be [from, to] with 0 <= from <= to <= 19 (single years 0-19 "
            f"are embedded), found {list(ages)}; e.g. "
            "[0, 4], or a preset: " + ", ".join(AGE_PRESETS)
        )
    if s.services_amber > s.services_green:
        problems.add(
            "'services.verdict.universal_within_reach': 'amber' must not exceed 'green'; "
            "lower amber or raise green"
        )
    if sum(s.need_weights.values()) <= 0:
        problems.add("'need_index.indicators' weights must not all be zero")
    problems.raise_if_any()
