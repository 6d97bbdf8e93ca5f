"""The uncertainty model: commented YAML -> frozen, validated dataclass.

The default file is ``planning/uncertainty.yaml`` (installed with the package, beside the
standards); an authority passes its own with ``--uncertainty FILE``. The file's declared schema is
:class:`UncertaintyFile` (a pydantic model); every problem is reported at once, naming the file,
the key and the fix. :mod:`planning.analysis.uncertainty` draws plausible inputs from it.
"""

from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic import ValidationError as SchemaError

from planning._errors import ValidationError
from planning._validate import Place, Problems, dotted, json_schema, read_text, schema_problems

DEFAULT_UNCERTAINTY_FILE = "uncertainty.yaml"
#: The age bands whose error the model sets apart: babies (few per area, so noisier) and 1-4.
AGE_BANDS: dict[str, tuple[str, ...]] = {
    "age_0": ("age_0",),
    "age_1_4": ("age_1", "age_2", "age_3", "age_4"),
}


@dataclass(frozen=True)
class UncertaintyModel:
    """How far each input of the assessment may be from the figure used (``uncertainty.yaml``).

    A source set to ``None`` (or a CV of 0) is exact. :meth:`none` is the model with no
    uncertainty at all: every draw then equals the point estimate.
    """

    fragile_below: float = 0.8
    interval: tuple[float, float] = (0.05, 0.95)
    population_vintage: str = "mid-2020"
    #: coefficient of variation of each age band's count in one area (lognormal, mean 1)
    population_cv: dict[str, float] = field(
        default_factory=lambda: {"age_0": 0.35, "age_1_4": 0.10}
    )
    authority_cv: float = 0.0
    #: Dirichlet concentration of the shares of a split 2011 area (None: the split is exact)
    apportionment_concentration: float | None = 20.0
    #: IDACI numerator rounding and suppression (None: the counts are exact)
    idaci_rounding_base: int | None = 5
    idaci_suppressed_below: int | None = 10
    #: walking circuity range (None: the standards' point value)
    circuity: tuple[float, float] | None = (1.2, 1.5)
    reach_km: tuple[float, float] | None = None
    max_under5_per_centre: tuple[float, float] | None = None
    source: str = "default"

    @classmethod
    def none(cls) -> UncertaintyModel:
        """No uncertainty: every draw is the point estimate (for checks and comparisons)."""
        return cls(
            population_cv={band: 0.0 for band in AGE_BANDS},
            authority_cv=0.0,
            apportionment_concentration=None,
            idaci_rounding_base=None,
            idaci_suppressed_below=None,
            circuity=None,
            source="no uncertainty",
        )

    def replace(self, **changes: Any) -> UncertaintyModel:
        """A copy with some choices changed, e.g. ``circuity=None``."""
        return dataclasses.replace(self, **changes)

    def describe(self) -> dict[str, Any]:
        """Plain dict for summaries and reports."""
        out = dataclasses.asdict(self)
        for key, value in out.items():
            if isinstance(value, tuple):
                out[key] = list(value)
        return out


# --------------------------------------------------------------------------------------------
# The declared schema of an uncertainty file


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _range_rule(low: float, high: float, what: str) -> None:
    if low > high:
        raise ValueError(
            f"{what}: the low end ({low:g}) exceeds the high end ({high:g}); swap them"
        )


class VintageCV(_Section):
    """Coefficient of variation of an area's count by age band, for one population vintage."""

    age_0: float = Field(default=0.35, ge=0, le=3, allow_inf_nan=False, examples=[0.35])
    age_1_4: float = Field(default=0.10, ge=0, le=3, allow_inf_nan=False, examples=[0.1])


class PopulationSection(_Section):
    """Error of the ONS small-area under-5 estimates."""

    vintage: str = Field(default="mid-2020", examples=["mid-2020"])
    cv_by_vintage: dict[str, VintageCV] = Field(
        default_factory=lambda: {"mid-2020": VintageCV()},
        min_length=1,
        description="vintage -> CV by age band (age_0, age_1_4)",
    )
    authority_cv: float = Field(default=0.0, ge=0, le=1, allow_inf_nan=False, examples=[0.02])

    @model_validator(mode="after")
    def _vintage_known(self) -> PopulationSection:
        if self.vintage not in self.cv_by_vintage:
            raise ValueError(
                f"population.vintage '{self.vintage}' has no entry in population.cv_by_vintage "
                f"({', '.join(self.cv_by_vintage)}); add one or change the vintage"
            )
        return self


class ApportionmentSection(_Section):
    """Shares of a split 2011 area among its 2021 areas (Dirichlet concentration)."""

    concentration: float | None = Field(
        default=20.0, gt=0, allow_inf_nan=False, examples=[20], description="null: exact split"
    )


class IdaciSection(_Section):
    """Rounding and suppression of the published IDACI numerator (exact intervals)."""

    rounding_base: int = Field(default=5, ge=1, examples=[5])
    suppressed_below: int = Field(default=10, ge=0, examples=[10])


class CircuitySection(_Section):
    """Range of the ratio of walking to straight-line distance."""

    low: float = Field(default=1.2, ge=1, le=3, allow_inf_nan=False, examples=[1.2])
    high: float = Field(default=1.5, ge=1, le=3, allow_inf_nan=False, examples=[1.5])

    @model_validator(mode="after")
    def _ordered(self) -> CircuitySection:
        _range_rule(self.low, self.high, "circuity")
        return self


Range = list[float]


class StandardsRanges(_Section):
    """The standards' own ranges (off by default)."""

    reach_km: Range | None = Field(
        default=None, min_length=2, max_length=2, examples=[[1.609344, 2.5]]
    )
    max_under5_per_centre: Range | None = Field(
        default=None, min_length=2, max_length=2, examples=[[1000, 1400]]
    )

    @model_validator(mode="after")
    def _ordered(self) -> StandardsRanges:
        for name in ("reach_km", "max_under5_per_centre"):
            value = getattr(self, name)
            if value is not None:
                if min(value) <= 0:
                    raise ValueError(f"standards.{name}: both ends must be above 0")
                _range_rule(value[0], value[1], f"standards.{name}")
        return self


class UncertaintyFile(_Section):
    """An uncertainty file (``planning/uncertainty.yaml``): a section left out or null is exact,
    except ``fragile_below`` and ``interval``, which keep their defaults."""

    fragile_below: float = Field(default=0.8, gt=0.5, le=1, allow_inf_nan=False, examples=[0.8])
    interval: list[float] = Field(
        default_factory=lambda: [0.05, 0.95], min_length=2, max_length=2, examples=[[0.05, 0.95]]
    )
    population: PopulationSection | None = None
    apportionment: ApportionmentSection | None = None
    idaci: IdaciSection | None = None
    circuity: CircuitySection | None = None
    standards: StandardsRanges | None = None

    @model_validator(mode="after")
    def _interval(self) -> UncertaintyFile:
        low, high = self.interval
        if not 0 <= low < high <= 1:
            raise ValueError("interval: need 0 <= low < high <= 1, e.g. [0.05, 0.95]")
        return self


@functools.cache
def uncertainty_json_schema() -> dict[str, Any]:
    """The JSON Schema of an uncertainty file, for editors."""
    return json_schema(
        UncertaintyFile.model_json_schema(),
        title="Children's centre planning uncertainty model",
        description="How far each input may be from the figure used "
        "(planning/uncertainty.yaml); pass your own with --uncertainty FILE.",
    )


def _place(loc: tuple[str | int, ...]) -> Place:
    if len(loc) == 1:
        return Place("", dotted(loc), "section")
    return Place("", dotted(loc))


def load_uncertainty(path: str | Path | None = None) -> UncertaintyModel:
    """Read an uncertainty model from a YAML file (``None``: the packaged default).

    Raises
    ------
    ValidationError
        Unknown sections or keys, values out of range, an unknown vintage, an empty or
        unreadable file; every problem in one message naming the file and the key.
    """
    if path is None:
        text = resources.files("planning").joinpath(DEFAULT_UNCERTAINTY_FILE).read_text("utf-8")
        name = "default uncertainty model (planning/uncertainty.yaml)"
    else:
        path = Path(path)
        if not path.exists():
            raise ValidationError(f"uncertainty file {path} does not exist; check the path")
        text = read_text(path, "uncertainty file (.yaml)")
        name = str(path)
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ValidationError(f"{name}: is not valid YAML ({exc}); fix the syntax") from exc
    if raw is None:
        raise ValidationError(f"{name}: is empty; copy planning/uncertainty.yaml and edit it")
    if not isinstance(raw, dict):
        raise ValidationError(f"{name}: must be a mapping of sections (population, idaci, ...)")
    return uncertainty_from_dict(raw, source=name)


def uncertainty_from_dict(raw: dict[str, Any], *, source: str = "dict") -> UncertaintyModel:
    """Build :class:`UncertaintyModel` from the nested YAML structure (:class:`UncertaintyFile`).

    Examples
    --------
    >>> uncertainty_from_dict({"circuity": {"low": 1.25, "high": 1.4}}).circuity
    (1.25, 1.4)
    >>> uncertainty_from_dict({}).idaci_rounding_base is None  # left out: exact
    True
    """
    problems = Problems(source)
    try:
        parsed = UncertaintyFile.model_validate(raw)
    except SchemaError as exc:
        schema_problems(exc, uncertainty_json_schema(), problems, _place)
        problems.raise_if_any()
        raise  # pragma: no cover - an error always adds a problem
    values: dict[str, Any] = {
        "fragile_below": parsed.fragile_below,
        "interval": (parsed.interval[0], parsed.interval[1]),
        "source": source,
    }
    population = parsed.population
    if population is None:
        values["population_cv"] = {band: 0.0 for band in AGE_BANDS}
        values["authority_cv"] = 0.0
    else:
        chosen = population.cv_by_vintage[population.vintage]
        values["population_vintage"] = population.vintage
        values["population_cv"] = {"age_0": chosen.age_0, "age_1_4": chosen.age_1_4}
        values["authority_cv"] = population.authority_cv
    values["apportionment_concentration"] = (
        parsed.apportionment.concentration if parsed.apportionment else None
    )
    values["idaci_rounding_base"] = parsed.idaci.rounding_base if parsed.idaci else None
    values["idaci_suppressed_below"] = parsed.idaci.suppressed_below if parsed.idaci else None
    values["circuity"] = (parsed.circuity.low, parsed.circuity.high) if parsed.circuity else None
    ranges = parsed.standards
    for name in ("reach_km", "max_under5_per_centre"):
        value = getattr(ranges, name) if ranges is not None else None
        values[name] = (float(value[0]), float(value[1])) if value is not None else None
    return UncertaintyModel(**values)
