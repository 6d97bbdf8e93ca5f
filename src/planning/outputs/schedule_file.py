"""The schedule file: which reports to run, as a declared YAML format.

A schedule is a YAML list of report runs (authority, centres file, standards, scenario, street
network, output root, formats), or a mapping with ``runs``, ``defaults`` and
``allow_out_outside``. This module holds :class:`ReportSpec` (one run, validated, with absolute
paths), the pydantic schema of the file (:class:`ScheduleDocument`, published by
:func:`schedule_json_schema` as ``planning schema schedule``), :func:`load_schedule` (a file to
specs, every problem reported at once) and :func:`report_spec` (one run from the command line).

Running one spec is :mod:`planning.outputs.scheduled_report`; running a whole schedule is
:mod:`planning.outputs.schedule`, which re-exports this module's names.
"""

from __future__ import annotations

import datetime as dt
import functools
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, RootModel, StringConstraints
from pydantic import ValidationError as SchemaError

from planning import settings
from planning._errors import ValidationError
from planning._files import why_protected
from planning._format import slug
from planning._validate import Place, Problems, dotted, json_schema, require_file, schema_problems
from planning.inputs.areas import resolve_authority
from planning.outputs.report_render import find_chromium

__all__ = [
    "FORMATS",
    "SCHEDULE_KEYS",
    "TOP_LEVEL_KEYS",
    "ReportSpec",
    "RunDefaults",
    "ScheduleDocument",
    "ScheduleFile",
    "ScheduleRun",
    "load_schedule",
    "report_spec",
    "schedule_json_schema",
]

#: Output formats a schedule entry may ask for; HTML is always written (the PDF is printed from it).
FORMATS = ("html", "pdf")


@dataclass(frozen=True)
class ReportSpec:
    """One report run: which authority, with which inputs, written where, in which formats.

    Paths are absolute so that the spec can be run from any process or working directory.
    """

    authority: str
    name: str
    centres: Path | None = None
    standards: Path | None = None
    scenario: Path | None = None
    out: Path = Path("reports")
    #: A street network file (OSM extract or GraphML): distances along it (``network:``).
    network: Path | None = None
    formats: tuple[str, ...] = ("html",)
    origin: str = "command line"
    #: Replace a report folder even if it holds files this tool did not write (``--force``).
    force: bool = False

    @property
    def inputs(self) -> tuple[Path, ...]:
        """The run's own input files (its report folder must never hold one)."""
        return tuple(
            p for p in (self.centres, self.standards, self.scenario, self.network) if p is not None
        )

    @property
    def slug(self) -> str:
        return slug(self.name)

    @property
    def scenario_slug(self) -> str | None:
        """``None`` for the authority's own report; else the scenario file's name as a slug."""
        return None if self.scenario is None else slug(self.scenario.stem, empty="scenario")

    def run_name(self, date: dt.date) -> str:
        """The date, and for a scenario ``<date>-scenario-<name>``: a scenario report has a
        folder and file name of its own, so it never replaces the published report of that day
        (and :func:`planning.outputs.scheduled_report.previous_report`, which reads only plain
        dates, never compares with it)."""
        suffix = "" if self.scenario_slug is None else f"-scenario-{self.scenario_slug}"
        return f"{date.isoformat()}{suffix}"

    def folder(self, date: dt.date) -> Path:
        """Where the report for ``date`` is published."""
        return self.out / self.slug / self.run_name(date)


# The declared schema of a schedule file (published by `planning schema schedule`)


def _as_list(value: Any) -> Any:
    """``formats: pdf`` is read as ``[pdf]``."""
    return [value] if isinstance(value, str) else value


def _lower(value: Any) -> Any:
    return value.strip().lower() if isinstance(value, str) else value


_Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
_Format = Annotated[Literal["html", "pdf"], BeforeValidator(_lower)]
_Formats = Annotated[list[_Format], BeforeValidator(_as_list)]
_CENTRES = Field(
    default=None,
    examples=["centres/thurrock.csv"],
    description="the council's centres file (CSV, GeoJSON, GPKG; relative to the schedule's "
    "folder); required for every authority except Derby",
)
_STANDARDS = Field(default=None, examples=["standards.yaml"], description="standards YAML file")
_SCENARIO = Field(
    default=None,
    examples=["scenarios/close_two.yaml"],
    description="scenario file, passed to the report notebook as its 'scenario' parameter",
)
_NETWORK = Field(
    default=None,
    examples=["maps/derbyshire-latest.osm.pbf"],
    description="street network file (an OpenStreetMap .osm.pbf extract or GraphML), passed to "
    "the report notebook as its 'network' parameter: distances are walked along it",
)
_OUT = Field(
    default=None,
    examples=["thurrock"],
    description="reports root (default --out); relative paths are read from --out, and a folder "
    "outside --out needs 'allow_out_outside: true' at the top of the schedule",
)
_FORMATS = Field(
    default=None,
    examples=[["html", "pdf"]],
    description="html (always written) and/or pdf (needs Chromium); default [html]",
)


class RunDefaults(BaseModel):
    """Keys applied to every run of a schedule unless the run sets them (not ``authority``)."""

    model_config = ConfigDict(extra="forbid")

    centres: _Text | None = _CENTRES
    standards: _Text | None = _STANDARDS
    scenario: _Text | None = _SCENARIO
    network: _Text | None = _NETWORK
    out: _Text | None = _OUT
    formats: _Formats | None = _FORMATS


class ScheduleRun(BaseModel):
    """One report run of a schedule."""

    model_config = ConfigDict(extra="forbid")

    authority: _Text = Field(
        examples=["Derby"],
        description="an ONS code (e.g. E06000015) or a name (e.g. Derby); `planning "
        "authorities` lists them",
    )
    centres: _Text | None = _CENTRES
    standards: _Text | None = _STANDARDS
    scenario: _Text | None = _SCENARIO
    network: _Text | None = _NETWORK
    out: _Text | None = _OUT
    formats: _Formats | None = _FORMATS


class ScheduleFile(BaseModel):
    """A schedule as a mapping: ``runs`` and optional ``defaults`` and ``allow_out_outside``."""

    model_config = ConfigDict(extra="forbid")

    runs: list[ScheduleRun] = Field(
        min_length=1, description="the report runs, e.g. '- authority: Derby'"
    )
    defaults: RunDefaults = Field(default_factory=RunDefaults)
    allow_out_outside: bool = Field(
        default=False,
        strict=True,
        description="let runs write reports outside --out (only for a trusted schedule's author)",
    )


#: Keys a schedule entry may have.
SCHEDULE_KEYS = tuple(ScheduleRun.model_fields)
#: Keys a schedule file may have at its top level (when it is a mapping).
TOP_LEVEL_KEYS = tuple(ScheduleFile.model_fields)


class ScheduleDocument(RootModel[ScheduleFile | Annotated[list[ScheduleRun], Field(min_length=1)]]):
    """A schedule file: the mapping form (:class:`ScheduleFile`) or just the list of runs."""


@functools.cache
def schedule_json_schema() -> dict[str, Any]:
    """The JSON Schema of a schedule file (``planning schema schedule``), for editors."""
    return json_schema(
        ScheduleDocument.model_json_schema(),
        title="Children's centre report schedule",
        description="Report runs for `planning report --schedule FILE` (see "
        "schedules/example.yaml).",
    )


def _place(loc: tuple[str | int, ...]) -> Place:
    """Schedule errors name the entry by its number (from 1)."""
    if len(loc) >= 2 and loc[0] == "runs" and isinstance(loc[1], int):
        return Place(f"entry {loc[1] + 1}: ", dotted(loc[2:]))
    if len(loc) >= 2 and loc[0] == "defaults":
        return Place("defaults: ", dotted(loc[1:]))
    return Place("", dotted(loc))


def _accepted(raw: Any, at: tuple[str | int, ...], bad: Sequence[tuple[str | int, ...]]) -> dict:
    """The keys of ``raw`` (a mapping at ``at``) that the schema did not refuse, so that the
    checks that need them (files, authority, folders) still run and every problem is reported."""
    if not isinstance(raw, dict):
        return {}
    refused = {loc[len(at)] for loc in bad if len(loc) > len(at) and loc[: len(at)] == at}
    return {k: v for k, v in raw.items() if k not in refused}


def _path(value: Any, *, key: str, base: Path, where: str, problems: Problems) -> Path | None:
    if value is None:
        return None
    if not isinstance(value, (str, os.PathLike)) or not str(value).strip():
        problems.add(f"{where}: '{key}' must be a file path, found {value!r}")
        return None
    path = Path(value).expanduser()
    resolved = (path if path.is_absolute() else base / path).resolve()
    if not resolved.is_file():
        problems.add(
            f"{where}: {key} file '{value}' not found (looked for {resolved}); check the path "
            "(relative paths are read from the schedule file's folder)"
        )
        return None
    return resolved


def _formats(value: Sequence[str] | None, *, where: str, problems: Problems) -> tuple[str, ...]:
    """The formats to write (the schema has checked the names); PDF needs Chromium."""
    wanted = set(value or ("html",))
    if "pdf" in wanted and find_chromium() is None:
        problems.add(
            f"{where}: format 'pdf' needs Chromium, which was not found; install it "
            "(`make system-deps`), set PLANNING_CHROMIUM, or drop pdf from 'formats'"
        )
    return ("html", "pdf") if "pdf" in wanted else ("html",)


def _spec(
    run: ScheduleRun,
    *,
    base: Path,
    default_out: Path,
    where: str,
    problems: Problems,
    require_centres: bool,
    allow_out_outside: bool = False,
    force: bool = False,
) -> ReportSpec | None:
    """The checks a schema cannot make (the authority exists, files exist, folders are allowed)
    on a run the schema has accepted; problems are added, not raised."""
    try:
        code, name = resolve_authority(run.authority)
    except ValidationError as exc:
        problems.add(f"{where}: {exc}")
        return None
    where = f"{where} ({name})"
    centres = _path(run.centres, key="centres", base=base, where=where, problems=problems)
    if require_centres and run.centres is None and code != settings.DEFAULT_AUTHORITY:
        problems.add(
            f"{where}: 'centres' is missing; the default centres are Derby's illustrative sites, "
            f"meaningless for {name}: give the council's centres file "
            "(format in planning/data/centres/README.md)"
        )
    standards = _path(run.standards, key="standards", base=base, where=where, problems=problems)
    scenario = _path(run.scenario, key="scenario", base=base, where=where, problems=problems)
    if scenario is not None and scenario.exists():
        # Check the scenario file now, so a bad one is reported before anything runs.
        from planning.analysis.scenarios import load_scenario

        try:
            load_scenario(scenario)
        except ValidationError as exc:
            problems.add(f"{where}: 'scenario': {exc}")
    network = _path(run.network, key="network", base=base, where=where, problems=problems)
    out = _out_folder(
        run.out,
        root=default_out,
        where=where,
        problems=problems,
        allow_outside=allow_out_outside,
    )
    formats = _formats(run.formats, where=where, problems=problems)
    return ReportSpec(
        authority=code,
        name=name,
        centres=centres,
        standards=standards,
        scenario=scenario,
        out=out,
        formats=formats,
        origin=where,
        force=force,
        network=network,
    )


def _out_folder(
    value: Any, *, root: Path, where: str, problems: Problems, allow_outside: bool
) -> Path:
    """A run's reports root: ``--out`` itself, or a folder inside it (relative paths are read
    from ``--out``). A folder outside ``--out`` needs ``allow_out_outside: true`` at the top of
    the schedule, so a schedule file alone cannot send reports anywhere on the machine."""
    root = Path(root).expanduser().resolve()
    if value is None:
        out = root
    elif isinstance(value, str) and value.strip():
        given = Path(value).expanduser()
        out = (given if given.is_absolute() else root / given).resolve()
        if not allow_outside and out != root and root not in out.parents:
            problems.add(
                f"{where}: 'out' {value!r} is outside the reports folder {root} (--out); give a "
                "folder inside it, or set 'allow_out_outside: true' at the top of the schedule "
                "if the schedule's author may write reports anywhere"
            )
    else:
        problems.add(f"{where}: 'out' must be a folder path, found {value!r}")
        out = root
    reason = why_protected(out)
    if reason is not None:
        problems.add(
            f"{where}: reports folder {reason}; reports are never written there. Give a folder "
            "of their own, e.g. reports/"
        )
    return out


def report_spec(
    authority: str = settings.DEFAULT_AUTHORITY,
    *,
    centres: str | Path | None = None,
    standards: str | Path | None = None,
    scenario: str | Path | None = None,
    out: str | Path = "reports",
    formats: Sequence[str] = ("html",),
    force: bool = False,
    network: str | Path | None = None,
) -> ReportSpec:
    """A validated :class:`ReportSpec` for one report (what ``planning report --authority`` runs).

    Relative paths are read from the current folder. Unlike a schedule entry, an authority other
    than Derby may use the default (illustrative Derby) centres, as ``planning report`` always has.

    Raises
    ------
    ValidationError
        Listing every problem: unknown authority, missing files, unknown formats.
    """
    problems = Problems("planning report")
    entry = {
        "authority": authority,
        "centres": None if centres is None else str(centres),
        "standards": None if standards is None else str(standards),
        "scenario": None if scenario is None else str(scenario),
        "formats": list(formats),
    }
    if network is not None:
        entry["network"] = str(network)
    try:
        run = ScheduleRun.model_validate(entry)
    except SchemaError as exc:
        schema_problems(
            exc, schedule_json_schema(), problems, lambda loc: Place("report: ", dotted(loc))
        )
        problems.raise_if_any()
    spec = _spec(
        run,
        base=Path.cwd(),
        default_out=Path(out),
        where="report",
        problems=problems,
        require_centres=False,
        force=force,
    )
    problems.raise_if_any()
    assert spec is not None
    return spec


def load_schedule(
    path: str | Path, *, out: str | Path = "reports", force: bool = False
) -> list[ReportSpec]:
    """Read and validate a schedule file.

    The file is YAML: either a list of runs, or a mapping with ``runs`` (that list) and optional
    ``defaults`` (keys applied to every run unless the run sets them)::

        defaults: {formats: [html, pdf]}
        runs:
          - authority: Derby
          - authority: E06000034            # Thurrock
            centres: centres/thurrock.csv   # relative to this file's folder
            standards: standards.yaml
            scenario: scenarios/close_two.yaml
            out: thurrock                   # inside --out

    Keys: ``authority`` (required; ONS code or name), ``centres`` (required except for Derby,
    whose default centres are illustrative), ``standards``, ``scenario`` (passed to the notebook
    as the ``scenario`` parameter), ``out`` (default: the ``out`` argument, i.e. ``--out``; a
    relative path is read from ``--out`` and an absolute one must lie inside it unless the
    schedule sets ``allow_out_outside: true`` at its top level) and ``formats`` (``html``,
    ``pdf``; default html). Other relative paths are read from the schedule file's folder.

    The file's schema is :class:`ScheduleDocument` (published by ``planning schema schedule``).

    Raises
    ------
    ValidationError
        One error listing every problem, each with the entry number, the key and the fix.
    """
    import yaml

    from planning._validate import read_text

    path = require_file(path, "schedule file", suffixes=(".yaml", ".yml"))
    label = str(path)
    try:
        raw = yaml.safe_load(read_text(path, "schedule file (.yaml)"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ValidationError(
            f"{label}{where}: not valid YAML ({problem}); a schedule is a list of runs such as "
            "'- authority: Derby'"
        ) from None
    if raw is None or not isinstance(raw, (dict, list)) or raw == []:
        raise ValidationError(
            f"{label}: expected a list of runs (e.g. '- authority: Derby'), found "
            f"{type(raw).__name__ if raw not in (None, []) else 'nothing'}"
        )
    # The list form is the mapping form's 'runs', so that one schema checks both.
    document: dict[str, Any] = raw if isinstance(raw, dict) else {"runs": raw}
    problems = Problems(label)
    defaults = document.get("defaults")
    if isinstance(defaults, dict) and "authority" in defaults:
        problems.add("'defaults' cannot set 'authority'; name it in each run")
        defaults = {k: v for k, v in defaults.items() if k != "authority"}
        document = {**document, "defaults": defaults}
    refused: list[tuple[str | int, ...]] = []
    try:
        ScheduleFile.model_validate(document)
    except SchemaError as exc:
        refused = schema_problems(exc, schedule_json_schema(), problems, _place)
    # Then the checks that need the machine (authorities, files, folders) on whatever the schema
    # accepted, so that one run of the command reports every problem.
    allow_outside = document.get("allow_out_outside") is True
    shared = _accepted(document.get("defaults"), ("defaults",), refused)
    runs = document.get("runs")
    specs: list[ReportSpec] = []
    for number, entry in enumerate(runs if isinstance(runs, list) else [], start=1):
        if not isinstance(entry, dict):
            continue  # reported by the schema
        try:
            run = ScheduleRun.model_validate(
                {**shared, **_accepted(entry, ("runs", number - 1), refused)}
            )
        except SchemaError:
            continue  # its authority is missing or refused: reported by the schema
        spec = _spec(
            run,
            base=path.resolve().parent,
            default_out=Path(out),
            where=f"entry {number}",
            problems=problems,
            require_centres=True,
            allow_out_outside=allow_outside,
            force=force,
        )
        if spec is not None:
            specs.append(spec)
    seen: dict[tuple[Path, str, str | None], str] = {}
    for spec in specs:
        key = (spec.out, spec.slug, spec.scenario_slug)
        if key in seen:
            suffix = "" if spec.scenario_slug is None else f"-scenario-{spec.scenario_slug}"
            problems.add(
                f"{seen[key]} and {spec.origin} both write {spec.out / spec.slug}/<date>{suffix}; "
                "give one of them a different 'out' folder"
            )
        seen[key] = spec.origin
    problems.raise_if_any()
    return specs
