"""What a scenario is: its actions, its file format and how it changes the centres.

A scenario is a small readable YAML file (or the same structure built in Python)::

    name: Close Spondon, open at Derwent
    actions:
      - close: CC03
      - open: {id: NEW1, name: Derwent Community Centre, postcode: DE21 4ET, kind: branch}
      - move: {id: CC05, easting: 432100, northing: 335200}
      - capacity: {id: CC02, capacity: 120}
      - services: {id: CC02, kind: hub, services: "family hub core offer; midwifery"}
      - standard: {reach_km: 2.0}

:class:`Scenario` holds the actions in order; the file format is a declared schema
(:class:`ScenarioFile`, ``planning schema scenario``); :func:`apply_scenario` applies the
actions to a plain centre table (:func:`centre_table`), refusing unknown ids and contradictions
all at once. Evaluating a scenario is :class:`planning.analysis.scenarios.ScenarioEngine`'s job.
"""

from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import yaml
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    WithJsonSchema,
    model_validator,
)
from pydantic import ValidationError as SchemaError

from planning._errors import ValidationError
from planning._validate import (
    Place,
    Problems,
    dotted,
    json_schema,
    read_text,
    schema_problems,
)
from planning.analysis.catchments import centre_localities
from planning.inputs.locations import far_from_authority, locate_point
from planning.standards import Standards

ACTIONS = ("close", "open", "move", "capacity", "services", "standard")
LOCATION_KEYS = ("easting", "northing", "latitude", "longitude", "postcode")
#: Standards a scenario may change, with the dataclass field each sets.
STANDARD_KEYS = {
    "reach_km": "reach_km",
    "rural_reach_km": "rural_reach_km",
    "short_reach_km": "short_reach_km",
    "walk_minutes": "walk_minutes",
    "walk_speed_kmh": "walk_speed_kmh",
    "walk_circuity": "walk_circuity",
    "load_min": "load_min",
    "load_target": "load_target",
    "load_max": "load_max",
}


@dataclass(frozen=True)
class Action:
    """One change: ``kind`` is one of :data:`ACTIONS`; ``values`` its settings."""

    kind: str
    centre_id: str | None = None
    values: tuple[tuple[str, Any], ...] = ()

    def get(self, key: str, default: Any = None) -> Any:
        return dict(self.values).get(key, default)

    def describe(self) -> str:
        v = dict(self.values)
        if self.kind == "close":
            return f"close {self.centre_id}"
        if self.kind == "open":
            return f"open {self.centre_id} ({v.get('name', self.centre_id)}) at {_where(v)}"
        if self.kind == "move":
            return f"move {self.centre_id} to {_where(v)}"
        if self.kind == "capacity":
            return f"set capacity of {self.centre_id} to {v['capacity']:g}"
        if self.kind == "services":
            return f"change services at {self.centre_id}"
        return "change standards: " + ", ".join(f"{k} = {val}" for k, val in v.items())


def _where(values: dict[str, Any]) -> str:
    """A site's location in words, in the form it was given (the priority of
    :func:`planning.inputs.centres.locate_point`): 'easting 432100, northing 335200', 'latitude 52.92,
    longitude -1.47' or the postcode."""

    def given(key: str) -> bool:
        return values.get(key) is not None and str(values[key]).strip() != ""

    def number(key: str, digits: str) -> str:
        try:
            return format(float(values[key]), digits)
        except (TypeError, ValueError):
            return str(values[key])

    if given("easting") or given("northing"):
        return f"easting {number('easting', '.0f')}, northing {number('northing', '.0f')}"
    if given("latitude") or given("longitude"):
        return f"latitude {number('latitude', '.5g')}, longitude {number('longitude', '.5g')}"
    if given("postcode"):
        return str(values["postcode"]).strip()
    return "a point"


@dataclass(frozen=True)
class Scenario:
    """An ordered list of changes to the centre network or the standards.

    Build one from YAML with :func:`load_scenario`, or in Python::

        Scenario("Close CC03").close("CC03").open("NEW1", postcode="DE21 4ET")
    """

    name: str = "current network"
    actions: tuple[Action, ...] = ()
    description: str = ""
    #: Where the scenario came from (its file), for error messages.
    source: str = ""

    def _add(self, action: Action) -> Scenario:
        return dataclasses.replace(self, actions=(*self.actions, action))

    def close(self, centre_id: str) -> Scenario:
        return self._add(Action("close", str(centre_id)))

    def open(self, centre_id: str, **values: Any) -> Scenario:
        """Open a site: location as easting/northing, latitude/longitude or postcode; optional
        name, locality, kind (hub/branch), capacity, services."""
        return self._add(Action("open", str(centre_id), _freeze(values)))

    def move(self, centre_id: str, **location: Any) -> Scenario:
        return self._add(Action("move", str(centre_id), _freeze(location)))

    def set_capacity(self, centre_id: str, capacity: float) -> Scenario:
        return self._add(Action("capacity", str(centre_id), _freeze({"capacity": capacity})))

    def set_services(self, centre_id: str, **values: Any) -> Scenario:
        return self._add(Action("services", str(centre_id), _freeze(values)))

    def set_standard(self, **changes: Any) -> Scenario:
        return self._add(Action("standard", None, _freeze(changes)))

    def describe(self) -> list[str]:
        return [a.describe() for a in self.actions] or ["no change"]


def _freeze(values: dict[str, Any]) -> tuple[tuple[str, Any], ...]:
    return tuple(sorted((k, v) for k, v in values.items() if v is not None))


# --------------------------------------------------------------------------------------------
# The declared schema of a scenario file (published by `planning schema scenario`)


def _id_text(value: Any) -> Any:
    """Centre ids may be typed as numbers in YAML (``close: 12``); they are text."""
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


#: A centre id: text (a bare number in YAML is read as its text).
CentreId = Annotated[
    str,
    BeforeValidator(_id_text),
    StringConstraints(strip_whitespace=True, min_length=1),
    WithJsonSchema({"type": ["string", "integer"], "minLength": 1, "examples": ["CC03"]}),
]
_Number = Annotated[float, Field(strict=True)]


class _Settings(BaseModel):
    # Unknown keys are refused (with a "did you mean"), never silently ignored.
    model_config = ConfigDict(extra="forbid")


class _Centre(_Settings):
    id: CentreId = Field(description="the centre's id, e.g. CC02 (a new id for 'open')")


class _Located(_Centre):
    easting: _Number | None = Field(None, examples=[432100], description="EPSG:27700 metres")
    northing: _Number | None = Field(None, examples=[335200], description="EPSG:27700 metres")
    latitude: _Number | None = Field(None, examples=[52.92], description="WGS84 degrees")
    longitude: _Number | None = Field(None, examples=[-1.47], description="WGS84 degrees")
    postcode: str | None = Field(None, examples=["DE21 4ET"], description="a full postcode")


class OpenSite(_Located):
    """Open a site: its id, a location (easting/northing, latitude/longitude or postcode) and
    optionally its name, locality, kind, capacity and services."""

    name: str | None = Field(None, examples=["Derwent Community Centre"])
    locality: str | None = Field(
        None, description="default: the locality of the nearest current centre"
    )
    kind: str | None = Field(None, examples=["branch"], description="hub or branch")
    capacity: _Number | None = Field(None, examples=[120], description="0 or more")
    services: str | None = Field(None, examples=["family hub core offer; midwifery"])


class MoveCentre(_Located):
    """Move a centre to a new location."""


class SetCapacity(_Centre):
    """Change a centre's capacity."""

    capacity: _Number = Field(examples=[120], description="the new capacity, 0 or more")


class SetServices(_Centre):
    """Change a centre's kind or services."""

    kind: str | None = Field(None, examples=["hub"], description="hub or branch")
    services: str | None = Field(None, examples=["family hub core offer; midwifery"])


class ChangeStandards(_Settings):
    """Change standards for this scenario (checked by the standards' own rules when applied)."""

    reach_km: _Number | None = Field(None, examples=[2.0])
    rural_reach_km: _Number | None = Field(None, examples=[4.0])
    short_reach_km: _Number | None = Field(None, examples=[1.6])
    walk_minutes: _Number | None = Field(None, examples=[30])
    walk_speed_kmh: _Number | None = Field(None, examples=[4.0])
    walk_circuity: _Number | None = Field(None, examples=[1.3])
    load_min: _Number | None = Field(None, examples=[600])
    load_target: _Number | None = Field(None, examples=[800])
    load_max: _Number | None = Field(None, examples=[1200])


class ScenarioAction(_Settings):
    """One change, written as a one-key mapping: ``close: CC03``, ``open: {...}``, ..."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"minProperties": 1, "maxProperties": 1}
    )

    close: CentreId | None = Field(None, description="close the centre with this id")
    open: OpenSite | None = None
    move: MoveCentre | None = None
    capacity: SetCapacity | None = None
    services: SetServices | None = None
    standard: ChangeStandards | None = None

    @model_validator(mode="after")
    def _one_change(self) -> ScenarioAction:
        given = sorted(self.model_fields_set)
        if len(given) != 1:
            raise ValueError(
                "must be one mapping like 'close: CC03' or 'open: {id: NEW1, postcode: DE21 4ET}'"
                f", found {len(given)} keys ({', '.join(given)})"
            )
        return self


class ScenarioFile(_Settings):
    """A what-if scenario: a name, a description and an ordered list of actions."""

    name: str | None = Field(None, examples=["Close Spondon, open at Derwent"])
    description: str | None = None
    actions: list[ScenarioAction] | None = Field(
        None,
        description="changes applied in order; one of: " + ", ".join(ACTIONS),
        examples=[[{"close": "CC03"}]],
    )


@functools.cache
def scenario_json_schema() -> dict[str, Any]:
    """The JSON Schema of a scenario file (``planning schema scenario``), for editors."""
    return json_schema(
        ScenarioFile.model_json_schema(),
        title="Children's centre what-if scenario",
        description="A scenario for `planning scenario --scenario FILE`: open, close, move or "
        "resize centres, or change a standard.",
    )


def _place(loc: tuple[str | int, ...]) -> Place:
    """Scenario errors name the action by its number (from 1) and kind."""
    if len(loc) >= 2 and loc[0] == "actions" and isinstance(loc[1], int):
        number = loc[1] + 1
        if len(loc) == 2:
            return Place(f"action {number}: ", "")
        if len(loc) == 3:
            return Place(f"action {number}: ", str(loc[2]), "action")
        noun = "standard" if loc[2] == "standard" else "key"
        return Place(f"action {number} ({loc[2]}): ", dotted(loc[3:]), noun)
    return Place("", dotted(loc))


def load_scenario(path: str | Path) -> Scenario:
    """Read a scenario YAML file; every problem is reported at once, naming the action.

    The file's schema is :class:`ScenarioFile` (published by ``planning schema scenario``).
    """
    path = Path(path)
    if not path.exists():
        raise ValidationError(f"scenario file {path} does not exist; check the path")
    text = read_text(path, "scenario file (.yaml)")
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ValidationError(f"{path}: is not valid YAML ({exc}); fix the syntax") from exc
    if raw is None:
        raise ValidationError(f"{path}: is empty; give a name and a list of actions")
    return scenario_from_dict(raw, source=str(path))


def scenario_from_dict(raw: Any, *, source: str = "scenario") -> Scenario:
    """Build a :class:`Scenario` from the YAML structure (name, description, actions), validated
    by :class:`ScenarioFile`. Centre ids, locations and standards are checked against the
    network when the scenario is applied (:func:`apply_scenario`)."""
    if not isinstance(raw, dict):
        raise ValidationError(f"{source}: must be a mapping with 'name' and 'actions'")
    problems = Problems(source)
    try:
        parsed = ScenarioFile.model_validate(raw)
    except SchemaError as exc:
        schema_problems(exc, scenario_json_schema(), problems, _place)
        problems.raise_if_any()
        raise  # pragma: no cover - an error always adds a problem
    actions: list[Action] = []
    for item in parsed.actions or []:
        (kind,) = item.model_fields_set
        body = getattr(item, kind)
        if kind == "close":
            actions.append(Action("close", body))
        elif kind == "standard":
            actions.append(Action("standard", None, _freeze(body.model_dump(exclude_unset=True))))
        else:
            values = body.model_dump(exclude_unset=True)
            actions.append(Action(kind, values.pop("id"), _freeze(values)))
    return Scenario(
        name=parsed.name or "unnamed scenario",
        actions=tuple(actions),
        description=parsed.description or "",
        source=source,
    )


#: Columns of the plain centre table a scenario edits (coordinates in EPSG:27700 metres).
CENTRE_FIELDS = (
    "name",
    "locality",
    "kind",
    "capacity",
    "services",
    "source",
    "in_authority",
    "neighbour",
    "easting",
    "northing",
)


def centre_table(centres: gpd.GeoDataFrame) -> pd.DataFrame:
    """The centres as a plain table (no geometry) with easting/northing, for fast editing."""
    table = pd.DataFrame(index=centres.index.astype(str))
    table.index.name = "centre_id"
    table["name"] = centres["name"].astype(str).to_numpy() if "name" in centres else table.index
    table["locality"] = centre_localities(centres).to_numpy()
    for column, default in (("kind", ""), ("services", ""), ("source", "")):
        table[column] = (
            centres[column].astype("string").fillna(default).astype(str).to_numpy()
            if column in centres
            else default
        )
    table["capacity"] = (
        pd.to_numeric(centres["capacity"], errors="coerce").to_numpy()
        if "capacity" in centres
        else np.nan
    )
    table["in_authority"] = (
        centres["in_authority"].astype("boolean").array
        if "in_authority" in centres
        else pd.array([pd.NA] * len(centres), dtype="boolean")
    )
    # Another authority's centre (the cross-boundary supply), never the council's to count.
    table["neighbour"] = (
        centres["neighbour"].astype("boolean").fillna(False).to_numpy(dtype=bool)
        if "neighbour" in centres
        else False
    )
    table["easting"] = centres.geometry.x.to_numpy()
    table["northing"] = centres.geometry.y.to_numpy()
    return table


def table_to_centres(table: pd.DataFrame, crs: Any = "EPSG:27700") -> gpd.GeoDataFrame:
    """Back from the plain table to a centres GeoDataFrame (as read by ``read_centres``)."""
    frame = table.drop(columns=["easting", "northing"])
    return gpd.GeoDataFrame(
        frame, geometry=gpd.points_from_xy(table["easting"], table["northing"]), crs=crs
    )


def apply_scenario(
    table: pd.DataFrame,
    standards: Standards,
    scenario: Scenario,
    *,
    source: str | None = None,
    areas: gpd.GeoDataFrame | None = None,
) -> tuple[pd.DataFrame, Standards]:
    """The centre table and standards after the scenario's actions, in order.

    Parameters
    ----------
    areas : GeoDataFrame, optional
        The authority's areas: when given, a site opened or moved more than 10 km from them is
        refused (:func:`planning.inputs.centres.far_from_authority`, the dashboard's rule).

    Raises
    ------
    ValidationError
        Unknown centre ids (the valid ones are listed), malformed or out-of-England points,
        sites far from ``areas``, contradictory actions (closing a centre twice, changing a
        closed centre, opening an id that is already open), or closing every centre. All
        problems at once.
    """
    source = source or (
        f"{scenario.source} (scenario '{scenario.name}')"
        if scenario.source
        else f"scenario '{scenario.name}'"
    )
    problems = Problems(source)
    edited = table.copy()
    closed: set[str] = set()
    changes: dict[str, Any] = {}
    for number, action in enumerate(scenario.actions, start=1):
        try:
            edited = _apply_action(
                edited,
                number,
                action,
                original=table,
                closed=closed,
                changes=changes,
                problems=problems,
                areas=areas,
            )
        except ValidationError as exc:
            problems.add(str(exc))
    if len(edited) == 0 and not problems:
        problems.add("the scenario closes every centre; at least one must stay open")
    problems.raise_if_any()
    if changes:
        try:
            standards = standards.replace(**changes)
        except ValidationError as exc:
            raise ValidationError(f"{source}: standard change: {exc}") from None
    order = _original_order(edited, set(table.index))
    if order == edited.index.tolist():  # already in order (the usual case): no reindexing copy
        return edited, standards
    return edited.loc[order], standards


def _apply_action(
    table: pd.DataFrame,
    number: int,
    action: Action,
    *,
    original: pd.DataFrame,
    closed: set[str],
    changes: dict[str, Any],
    problems: Problems,
    areas: gpd.GeoDataFrame | None,
) -> pd.DataFrame:
    """The centre table after one action; notes contradictions in ``problems``, raises bad values.

    ``closed`` (ids closed so far) and ``changes`` (standard fields to set) are updated in place.
    """
    cid = action.centre_id
    what = f"action {number} ({action.kind} {cid})"
    if action.kind == "close":
        if _known(number, action, table, closed=closed, problems=problems):
            table = table.drop(index=cid)
            closed.add(str(cid))
    elif action.kind == "open":
        if cid in table.index:
            problems.add(f"{what}: centre id {cid} is already open; choose a new id or 'move' it")
        else:
            table = _open_site(table, action, what, original=original, areas=areas)
            closed.discard(str(cid))
    elif action.kind == "move":
        if _known(number, action, table, closed=closed, problems=problems):
            x, y = _locate(action, what, areas)
            table.loc[cid, ["easting", "northing"]] = [x, y]
            # Inside the authority or not is worked out again for the new place.
            table.loc[cid, "in_authority"] = pd.NA
    elif action.kind == "capacity":
        if _known(number, action, table, closed=closed, problems=problems):
            table.loc[cid, "capacity"] = parse_capacity(action.get("capacity"), what)
    elif action.kind == "services":
        if _known(number, action, table, closed=closed, problems=problems):
            _set_services(table, action, what)
    elif action.kind == "standard":
        changes.update({STANDARD_KEYS[k]: v for k, v in action.values})
    return table


def _known(
    number: int, action: Action, table: pd.DataFrame, *, closed: set[str], problems: Problems
) -> bool:
    """Whether the action's centre is open in ``table``; if not, say why in ``problems``."""
    cid = action.centre_id
    if cid in closed:
        problems.add(
            f"action {number} ({action.kind}): centre {cid} was closed by an earlier action; "
            "remove one of the two"
        )
        return False
    if cid not in table.index:
        listed = ", ".join(sorted(table.index)[:12])
        problems.add(
            f"action {number} ({action.kind}): unknown centre id '{cid}'; the centres are {listed}"
        )
        return False
    return True


def _locate(action: Action, what: str, areas: gpd.GeoDataFrame | None) -> tuple[float, float]:
    """The action's site as easting/northing, refused if more than 10 km from ``areas``."""
    x, y = locate_point(**{k: action.get(k) for k in LOCATION_KEYS}, what=what)
    if areas is not None:
        far = far_from_authority(areas, [x], [y])[0]
        if far is not None:
            raise ValidationError(f"{what}: the site at {_where(dict(action.values))} {far}")
    return x, y


def _open_site(
    table: pd.DataFrame,
    action: Action,
    what: str,
    *,
    original: pd.DataFrame,
    areas: gpd.GeoDataFrame | None,
) -> pd.DataFrame:
    """The table with the action's new site appended as a row of the same column types."""
    cid = action.centre_id
    x, y = _locate(action, what, areas)
    kind = str(action.get("kind", "") or "").lower()
    if kind not in ("", "hub", "branch"):
        raise ValidationError(f"{what}: kind must be 'hub' or 'branch', found {kind!r}")
    name = str(action.get("name", cid))
    row = {
        "name": name,
        # The nearest centre of the starting table, so earlier closures do not move the locality.
        "locality": str(action.get("locality", "") or _nearest_locality(original, x, y)),
        "kind": kind,
        "capacity": parse_capacity(action.get("capacity"), what),
        "services": str(action.get("services", "") or ""),
        "source": "scenario",
        "in_authority": pd.NA,
        "neighbour": False,
        "easting": x,
        "northing": y,
    }
    new = pd.DataFrame([row], index=pd.Index([str(cid)], name=table.index.name))
    return pd.concat([table, new.astype(table.dtypes.to_dict())])


def _set_services(table: pd.DataFrame, action: Action, what: str) -> None:
    """Set the centre's kind and services in ``table`` (in place), each only when given."""
    cid = action.centre_id
    kind = action.get("kind")
    if kind is not None:
        kind = str(kind).lower()
        if kind not in ("hub", "branch", ""):
            raise ValidationError(f"{what}: kind must be 'hub' or 'branch', found {kind!r}")
        table.loc[cid, "kind"] = kind
    if action.get("services") is not None:
        table.loc[cid, "services"] = str(action.get("services"))


def _original_order(table: pd.DataFrame, original: set[str]) -> list[str]:
    """Ids in the table, centres that were there first in their order, then the new sites."""
    # Keep the original order for unchanged centres (ties go to the centre listed first).
    return [c for c in table.index if c in original] + [c for c in table.index if c not in original]


def _nearest_locality(table: pd.DataFrame, x: float, y: float) -> str:
    """A new site joins the locality of the nearest current centre (open or not in the scenario)
    unless the scenario names one: localities are places, not buildings. Only the council's own
    centres have its localities (another authority's centre is "Served from ...")."""
    # On arrays: filtering the frame first costs more than the rest of opening a site.
    own = (
        ~table["neighbour"].astype(bool).to_numpy()
        if "neighbour" in table
        else np.ones(len(table), dtype=bool)
    )
    if not own.any():
        return "New sites"
    gap = np.hypot(
        table["easting"].to_numpy(float)[own] - x, table["northing"].to_numpy(float)[own] - y
    )
    return str(table["locality"].to_numpy()[own][int(gap.argmin())])


def parse_capacity(value: Any, what: str) -> float:
    if value is None or value == "":
        return float("nan")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValidationError(f"{what}: capacity must be a number, found {value!r}") from None
    if not np.isfinite(number) or number < 0:
        raise ValidationError(f"{what}: capacity must be 0 or more, found {value!r}")
    return number
