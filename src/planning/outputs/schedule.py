"""Scheduled sufficiency reports: schedule files, unattended runs, manifests, "what changed".

A schedule is a YAML list of report runs (authority, centres file, standards, scenario, output
root, formats). :func:`run_schedule` executes each run's report notebook with Papermill (in
parallel processes), publishes it under ``<out>/<authority>/<YYYY-MM-DD>/`` atomically together
with a ``manifest.json`` (parameters, input hashes, data vintages, versions, timings, status) and a
``figures.json``, keeps anything that failed in ``<out>/failed/<authority>/<date>-<time>/`` with a
readable ``error.txt``, and rewrites ``<out>/index.html``. Each report opens with what changed
since the previous successful report for the same authority
(:func:`planning.outputs.changes.compare_figures`).

    .venv/bin/planning report --schedule schedules/example.yaml --workers 2
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import logging
import multiprocessing
import os
import platform
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Iterator, Sequence
from concurrent.futures import Executor, Future, ProcessPoolExecutor, as_completed
from contextlib import contextmanager, nullcontext, suppress
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, RootModel, StringConstraints
from pydantic import ValidationError as SchemaError

from planning import settings
from planning._errors import PlanningError, ValidationError
from planning._files import (
    atomic_directory,
    check_output_folder,
    file_sha256,
    input_label,
    publishing_stopped,
    remove_stale_staging,
    stop_publishing,
    why_protected,
)
from planning._format import slug
from planning._html import Markup, render
from planning._validate import Place, Problems, dotted, json_schema, require_file, schema_problems
from planning.inputs.areas import DATA_VINTAGES, VINTAGE_FILES, resolve_authority
from planning.outputs import warm_kernel as warm
from planning.outputs.changes import compare_figures, load_figures
from planning.outputs.report import (
    find_chromium,
    html_to_pdf,
    render_html,
    report_notebook,
)

if TYPE_CHECKING:
    import pandas as pd

logger = logging.getLogger(__name__)

#: Output formats a schedule entry may ask for; HTML is always written (the PDF is printed from it).
FORMATS = ("html", "pdf")
#: Seconds any one notebook cell may run before the report is failed (a hung run must not block
#: the rest of an unattended schedule).
DEFAULT_CELL_TIMEOUT = 1800.0
FAILED_DIR = "failed"
MANIFEST = "manifest.json"
FIGURES = "figures.json"
PREVIOUS_FIGURES = "previous-figures.json"
INDEX = "index.html"
#: Marks an index page as the tool's own (a page without it is never overwritten).
INDEX_GENERATOR = "planning workbench reports index"
_MANIFEST_SCHEMA = 1
#: Signals that stop a schedule (a scheduler's stop, or Ctrl-C).
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


# --------------------------------------------------------------------------------------------
# Schedule files


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
        (and :func:`previous_report`, which reads only plain dates, never compares with it)."""
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


# --------------------------------------------------------------------------------------------
# One run


@dataclass(frozen=True)
class ReportOutcome:
    """What happened to one report run (picklable: returned from worker processes)."""

    authority: str
    name: str
    date: dt.date
    status: str  # "ok" or "failed"
    folder: Path  # the published folder, or the failed/ folder
    out: Path
    duration_seconds: float
    origin: str = "command line"
    verdict: str | None = None
    changes: int | None = None  # None: no previous report to compare with
    previous_date: str | None = None
    error: str | None = None
    files: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    @property
    def html(self) -> Path | None:
        name = self.files.get("html")
        return self.folder / name if name and self.ok else None


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return value if isinstance(value, dict) else None


def previous_report(out: str | Path, authority_slug: str, *, date: dt.date) -> Path | None:
    """The newest published report folder for an authority dated on or before ``date`` whose
    manifest says it succeeded and whose ``figures.json`` is readable (the same date counts: a
    re-run compares itself with the report it replaces)."""
    folder = Path(out) / authority_slug
    if not folder.is_dir():
        return None
    dated = []
    for child in folder.iterdir():
        try:
            when = dt.date.fromisoformat(child.name)
        except ValueError:
            continue
        if when <= date:
            dated.append((when, child))
    for _, child in sorted(dated, reverse=True):
        manifest = _read_json(child / MANIFEST)
        if manifest and manifest.get("status") == "ok":
            try:
                load_figures(child / FIGURES)
            except ValidationError:
                continue
            return child
    return None


def _versions() -> dict[str, str | None]:
    versions: dict[str, str | None] = {
        "planning": settings.VERSION,
        "python": platform.python_version(),
    }
    for package in ("papermill", "nbconvert", "nbclient", "pandas", "geopandas", "numpy", "folium"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = None
    return versions


def _source_revision() -> str | None:
    """The git commit of a source checkout, if the package runs from one (read-only)."""
    root = settings.REPOSITORY_DIR
    if root is None or not (root / ".git").exists() or shutil.which("git") is None:
        return None
    try:
        done = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() or None if done.returncode == 0 else None


def _input(path: Path | None, default: Path | None = None) -> dict[str, Any] | None:
    used = path or default
    if used is None:
        return None
    return {"path": input_label(used), "sha256": file_sha256(used), "default": path is None}


def _inputs(spec: ReportSpec, template: Path) -> dict[str, Any]:
    standards = settings.package_path("standards.yaml")
    data = settings.DATA_DIR / VINTAGE_FILES[2021]
    return {
        "centres": _input(spec.centres, settings.DEFAULT_CENTRES),
        "standards": _input(spec.standards, standards),
        "scenario": _input(spec.scenario),
        **({"network": _input(spec.network)} if spec.network is not None else {}),
        "notebook": _input(template),
        "data": _input(data),
    }


def _portable_notebook(path: Path, template: Path) -> None:
    """Name no folder of this machine in an executed notebook's Papermill record.

    Papermill writes the absolute paths of the notebook it ran (inside the installed package)
    and of the one it wrote (in the staging folder, a temporary name) into the notebook's
    metadata; they become the template's label (:func:`planning._files.input_label`) and the
    file's own name.
    """
    import nbformat

    if not path.is_file():
        return
    notebook = nbformat.read(path, as_version=4)
    record = notebook.metadata.get("papermill")
    if record is None:
        return
    record["input_path"] = input_label(template)
    record["output_path"] = path.name
    nbformat.write(notebook, path)


def _strip_ansi(text: str) -> str:
    return re.sub(r"\x1b\[[0-9;]*[A-Za-z]", "", text)


def _describe_error(exc: BaseException) -> tuple[str, str]:
    """(one-line summary, full text) of an exception, readable without a terminal."""
    from papermill.exceptions import PapermillExecutionError

    if isinstance(exc, PapermillExecutionError):
        summary = f"{exc.ename}: {exc.evalue}".strip()
        detail = (
            f"The notebook stopped in cell {exc.cell_index} (execution count {exc.exec_count}).\n"
            + _strip_ansi("\n".join(exc.traceback))
        )
        return summary, detail
    summary = f"{type(exc).__name__}: {exc}".strip()
    return summary, "".join(traceback.format_exception(exc))


def _unique_folder(base: Path) -> Path:
    candidate, n = base, 1
    while candidate.exists():
        n += 1
        candidate = base.with_name(f"{base.name}-{n}")
    return candidate


def _keep_failure(
    spec: ReportSpec,
    *,
    date: dt.date,
    started: dt.datetime,
    staging: Path | None,
    manifest: dict[str, Any],
    step: str,
    exc: BaseException,
) -> tuple[Path | None, str]:
    """Copy what a failed run produced to ``<out>/failed/<authority>/<date>-<time>/`` with an
    ``error.txt`` and a failed manifest. Never raises: a failure must not hide the first one."""
    summary, detail = _describe_error(exc)
    local = started.astimezone()
    folder = _unique_folder(
        spec.out / FAILED_DIR / spec.slug / f"{spec.run_name(date)}-{local:%H%M%S}"
    )
    try:
        if staging is not None and staging.is_dir():
            shutil.copytree(staging, folder)
        else:
            folder.mkdir(parents=True)
        folder.chmod(0o755)
        text = (
            f"The sufficiency report for {spec.name} ({spec.authority}) dated {date.isoformat()} "
            f"FAILED while {step}.\nNothing was published: any earlier report for this date is "
            "untouched.\n\n"
            f"Error: {summary}\n\n"
            f"Run: {spec.origin}\n"
            f"Started: {started.isoformat(timespec='seconds')}\n\n"
            "Fix the input or setting named in the error and run the schedule again (re-running "
            "is safe: each report replaces its own date's folder only when it succeeds).\n\n"
            f"Details:\n{detail}\n"
        )
        (folder / "error.txt").write_text(text, encoding="utf-8")
        files = {
            kind: name
            for kind, name in manifest.get("files", {}).items()
            if (folder / name).exists()
        }
        files["error"] = "error.txt"
        finished = _now()
        record = {
            **manifest,
            "status": "failed",
            "failed_step": step,
            "error": summary,
            "finished": finished.isoformat(timespec="seconds"),
            "duration_seconds": round((finished - started).total_seconds(), 2),
            "files": files,
        }
        (folder / MANIFEST).write_text(json.dumps(record, indent=1), encoding="utf-8")
        return folder, summary
    except OSError:
        logger.exception("could not keep the failed run of %s in %s", spec.name, folder)
        return None, summary


def _new_manifest(
    spec: ReportSpec, *, date: dt.date, started: dt.datetime, stem: str
) -> dict[str, Any]:
    """Start the manifest of one run, marked ``running`` until every step has succeeded."""
    manifest: dict[str, Any] = {
        "schema": _MANIFEST_SCHEMA,
        "status": "running",
        "authority": {"code": spec.authority, "name": spec.name},
        "report_date": date.isoformat(),
        "run": spec.origin,
        "started": started.isoformat(timespec="seconds"),
        "files": {"notebook": f"{stem}.ipynb"},
    }
    if spec.scenario is not None:
        # marks the run as a scenario in the index ("what if", never the published network)
        manifest["scenario"] = {"file": spec.scenario.name, "name": _scenario_name(spec.scenario)}
    return manifest


def _scenario_name(path: Path) -> str:
    """The scenario's own ``name``, or its file name when it cannot be read (the run then
    fails, with the reason, at the step that reads it)."""
    from planning.analysis.scenarios import load_scenario

    try:
        return str(load_scenario(path).name)
    except (ValidationError, OSError):
        return path.stem


def _notebook_parameters(spec: ReportSpec, *, date: dt.date, previous: bool) -> dict[str, Any]:
    """The Papermill parameters of the report notebook (paths as text, so they are recorded)."""
    parameters: dict[str, Any] = {
        "authority": spec.authority,
        "centres": str(spec.centres) if spec.centres else None,
        "standards": str(spec.standards) if spec.standards else None,
        "report_date": date.isoformat(),
        "previous": PREVIOUS_FIGURES if previous else None,
        "figures_out": FIGURES,
    }
    # only when given, so that a notebook without a 'scenario' parameter still runs
    if spec.scenario is not None:
        parameters["scenario"] = str(spec.scenario)
    if spec.network is not None:
        parameters["network"] = str(spec.network)
    return parameters


def _provenance(
    spec: ReportSpec, *, template: Path, parameters: dict[str, Any], previous: Path | None
) -> dict[str, Any]:
    """What the manifest records of the run's inputs, versions and the report compared with."""
    return {
        "parameters": parameters,
        "formats": list(spec.formats),
        "inputs": _inputs(spec, template),
        "data_vintages": DATA_VINTAGES,
        "versions": _versions(),
        "source_revision": _source_revision(),
        "previous": None
        if previous is None
        else {
            "report_date": previous.name,
            "folder": os.path.relpath(previous, spec.out),
        },
    }


def _prepare_staging(staging: Path, previous: Path | None) -> None:
    """Make the staging folder readable and give it the previous report's figures to compare."""
    staging.chmod(0o755)  # mkdtemp makes it private; reports are for reading
    if previous is not None:
        shutil.copyfile(previous / FIGURES, staging / PREVIOUS_FIGURES)


def _execute_notebook(
    template: Path,
    notebook: Path,
    *,
    parameters: dict[str, Any],
    cell_timeout: float | None,
    warm_kernel: bool = False,
) -> None:
    """Execute the report notebook into ``notebook`` with Papermill, then make it portable.

    With ``warm_kernel`` Papermill runs it in this thread's warm kernel
    (:mod:`planning.outputs.warm_kernel`), which is discarded if the run fails in any way, so
    the next report starts from a fresh kernel. The executed notebook is made portable even
    when a cell fails, since it is kept in failed/.
    """
    import papermill
    from traitlets.config import Config

    engine: dict[str, Any] = {}
    if warm_kernel:
        engine = {
            "engine_name": warm.engine_name(),
            "kernel_cwd": str(notebook.parent),
            "notebook_path": str(notebook),
            "request_save_on_cell_execute": False,  # saved once (and if it stops half-way)
        }
    try:
        papermill.execute_notebook(
            str(template),
            str(notebook),
            parameters=parameters,
            kernel_name="python3",
            progress_bar=False,
            cwd=str(notebook.parent),  # the staging folder: figures.json is written there
            execution_timeout=cell_timeout,
            # The kernel is a local child process: Unix sockets beside its connection file, not
            # TCP on 127.0.0.1 (which ipykernel warns about as unencrypted on every run).
            config=Config({"KernelManager": {"transport": "ipc"}}),
            **engine,
        )
    except Exception:
        if warm_kernel:  # a cell raised or timed out, or the kernel died: never reuse it
            warm.discard_warm_kernel()
        with suppress(Exception):  # the first error is the one to report
            _portable_notebook(notebook, template)
        raise
    _portable_notebook(notebook, template)


def _read_figures(staging: Path, *, previous: bool) -> tuple[dict[str, Any], pd.DataFrame | None]:
    """The figures the notebook wrote, and their changes since the previous report if any."""
    figures = load_figures(staging / FIGURES)
    changes = (
        compare_figures(load_figures(staging / PREVIOUS_FIGURES), figures) if previous else None
    )
    return figures, changes


def _write_html(staging: Path, stem: str) -> str:
    """Render the executed notebook as the HTML report; return the file's name."""
    (staging / f"{stem}.html").write_text(render_html(staging / f"{stem}.ipynb"), encoding="utf-8")
    return f"{stem}.html"


def _write_pdf(staging: Path, stem: str) -> str:
    """Print the HTML report to PDF with headless Chromium; return the file's name."""
    html_to_pdf(staging / f"{stem}.html", staging / f"{stem}.pdf")
    return f"{stem}.pdf"


def _record_figures(manifest: dict[str, Any], *, previous: bool) -> None:
    """Add the figures files to the manifest's list, after the report files as before."""
    manifest["files"]["figures"] = FIGURES
    if previous:
        manifest["files"]["previous_figures"] = PREVIOUS_FIGURES


def _write_manifest(
    staging: Path,
    manifest: dict[str, Any],
    *,
    clock: float,
    figures: dict[str, Any],
    changes: pd.DataFrame | None,
) -> None:
    """Mark the manifest ``ok`` with the run's timing, verdict and changes, and write it."""
    finished = _now()
    manifest.update(
        status="ok",
        finished=finished.isoformat(timespec="seconds"),
        duration_seconds=round(time.perf_counter() - clock, 2),
        verdict=figures.get("verdict"),
        changes=None if changes is None else changes.to_dict(orient="records"),
    )
    (staging / MANIFEST).write_text(
        json.dumps(manifest, indent=1, ensure_ascii=False), encoding="utf-8"
    )


def run_scheduled_report(
    spec: ReportSpec,
    *,
    date: dt.date | None = None,
    notebook: str | Path | None = None,
    cell_timeout: float | None = DEFAULT_CELL_TIMEOUT,
    warm_kernel: bool = False,
) -> ReportOutcome:
    """Run one report: execute the notebook, render HTML (and PDF), write the manifest, publish.

    Everything is made in a staging folder beside ``<out>/<authority>/<date>/`` and replaces it
    in one rename only when every step succeeded. On any failure the staging folder (with the
    partly executed notebook) goes to ``<out>/failed/<authority>/<date>-<HHMMSS>/`` with an
    ``error.txt``; the outcome says ``failed`` and nothing is raised, so a schedule carries on.

    Parameters
    ----------
    spec : ReportSpec
        From :func:`load_schedule` or :func:`report_spec`.
    date : datetime.date, optional
        Report date (default today); names the folder.
    notebook : path, optional
        The report notebook (default :func:`planning.outputs.report.report_notebook`).
    cell_timeout : float, optional
        Seconds any one cell may run (default 1800; None for no limit).
    warm_kernel : bool
        Run the notebook in this thread's warm kernel, started by an earlier report and kept
        for the next (:mod:`planning.outputs.warm_kernel`; the caller closes it with
        :func:`planning.outputs.warm_kernel.close_warm_kernels`), instead of a kernel of its
        own. The report is the same; the imports are paid once per kernel.
    """
    # before the clock and outside the try: a broken install is an error, not a failed report
    import papermill  # noqa: F401

    date = date or dt.date.today()
    started, clock = _now(), time.perf_counter()
    # `step` names what was being done when a failure came, for error.txt and the summary
    step = "preparing the run"
    stem = f"sufficiency-{spec.slug}-{spec.run_name(date)}"
    manifest = _new_manifest(spec, date=date, started=started, stem=stem)
    # the manifest is only ever updated in place, so the failure record sees its last state
    keep_failure = functools.partial(
        _keep_failure, spec, date=date, started=started, manifest=manifest
    )
    staging_seen: Path | None = None
    try:
        template = Path(notebook).resolve() if notebook else report_notebook()
        target = spec.folder(date)
        previous = previous_report(spec.out, spec.slug, date=date)
        parameters = _notebook_parameters(spec, date=date, previous=previous is not None)
        manifest.update(
            _provenance(spec, template=template, parameters=parameters, previous=previous)
        )
        if publishing_stopped():
            raise Interrupted(signal.SIGTERM)
        with atomic_directory(
            target, inputs=spec.inputs, force=spec.force, kind="report", option="report folder"
        ) as staging:
            staging_seen = staging
            try:
                _prepare_staging(staging, previous)
                step = "executing the notebook"
                logger.debug("executing %s for %s", template, spec.name)
                _execute_notebook(
                    template,
                    staging / f"{stem}.ipynb",
                    parameters=parameters,
                    cell_timeout=cell_timeout,
                    warm_kernel=warm_kernel,
                )
                step = "reading the figures the notebook wrote"
                figures, changes = _read_figures(staging, previous=previous is not None)
                step = "rendering the HTML report"
                manifest["files"]["html"] = _write_html(staging, stem)
                if "pdf" in spec.formats:
                    step = "printing the PDF with Chromium"
                    manifest["files"]["pdf"] = _write_pdf(staging, stem)
                _record_figures(manifest, previous=previous is not None)
                step = "writing the manifest"
                _write_manifest(staging, manifest, clock=clock, figures=figures, changes=changes)
                step = "publishing"
            except Exception as exc:  # not KeyboardInterrupt: that stops, staging is removed
                folder, summary = keep_failure(staging=staging, step=step, exc=exc)
                raise _Kept(folder, summary) from exc
    except _Kept as kept:
        return _failed_outcome(spec, date, clock, kept.folder, kept.summary)
    except Exception as exc:
        folder, summary = keep_failure(staging=staging_seen, step=step, exc=exc)
        return _failed_outcome(spec, date, clock, folder, summary)
    return _ok_outcome(
        spec,
        date=date,
        clock=clock,
        folder=target,
        manifest=manifest,
        previous=previous,
        changes=changes,
    )


def _ok_outcome(
    spec: ReportSpec,
    *,
    date: dt.date,
    clock: float,
    folder: Path,
    manifest: dict[str, Any],
    previous: Path | None,
    changes: pd.DataFrame | None,
) -> ReportOutcome:
    """The outcome of a published report, from its manifest."""
    return ReportOutcome(
        authority=spec.authority,
        name=spec.name,
        date=date,
        status="ok",
        folder=folder,
        out=spec.out,
        duration_seconds=time.perf_counter() - clock,
        origin=spec.origin,
        verdict=manifest.get("verdict"),
        changes=None if changes is None else len(changes),
        previous_date=previous.name if previous is not None else None,
        files=dict(manifest["files"]),
    )


class _Kept(Exception):
    """A failure already kept in failed/ (carries where, and the one-line summary)."""

    def __init__(self, folder: Path | None, summary: str) -> None:
        super().__init__(summary)
        self.folder, self.summary = folder, summary


def _failed_outcome(
    spec: ReportSpec, date: dt.date, clock: float, folder: Path | None, summary: str
) -> ReportOutcome:
    return ReportOutcome(
        authority=spec.authority,
        name=spec.name,
        date=date,
        status="failed",
        folder=folder or spec.out / FAILED_DIR,
        out=spec.out,
        duration_seconds=time.perf_counter() - clock,
        origin=spec.origin,
        error=summary,
        files={"error": "error.txt"},
    )


def run_report(
    authority: str,
    *,
    centres: str | Path | None = None,
    standards: str | Path | None = None,
    scenario: str | Path | None = None,
    out_root: str | Path = "reports",
    date: dt.date | None = None,
    network: str | Path | None = None,
) -> Path:
    """Run one report as ``planning report --authority`` does and return the published HTML.

    A convenience over :func:`planning.outputs.schedule.run_scheduled_report` (Papermill, nbconvert,
    manifest, atomic publication); raises :class:`planning.PlanningError` with the error log's
    location when the run fails, having published nothing.
    """
    spec = report_spec(
        authority,
        centres=centres,
        standards=standards,
        scenario=scenario,
        out=out_root,
        network=network,
    )
    outcome = run_scheduled_report(spec, date=date)
    if not outcome.ok or outcome.html is None:
        raise PlanningError(f"report for {outcome.name} failed: {outcome.error} ({outcome.folder})")
    return outcome.html


# --------------------------------------------------------------------------------------------
# Many runs, the index and the summary


def _outcome_line(outcome: ReportOutcome, number: int, total: int) -> str:
    head = f"[{number}/{total}] {outcome.name} ({outcome.authority}) {outcome.date.isoformat()}"
    if outcome.ok:
        if outcome.changes is None:
            change = "first report"
        elif outcome.changes == 0:
            change = f"no change since {outcome.previous_date}"
        else:
            change = f"{outcome.changes} change(s) since {outcome.previous_date}"
        return (
            f"{head}: published in {outcome.duration_seconds:.1f} s, {outcome.verdict}, {change}: "
            f"{outcome.folder}"
        )
    return (
        f"{head}: FAILED after {outcome.duration_seconds:.1f} s: {outcome.error} "
        f"(kept in {outcome.folder})"
    )


def _crashed(spec: ReportSpec, date: dt.date, exc: BaseException) -> ReportOutcome:
    """A run whose worker process died: record it in failed/ from the parent."""
    started = _now()
    manifest = {
        "schema": _MANIFEST_SCHEMA,
        "authority": {"code": spec.authority, "name": spec.name},
        "report_date": date.isoformat(),
        "run": spec.origin,
        "started": started.isoformat(timespec="seconds"),
        "files": {},
    }
    folder, summary = _keep_failure(
        spec,
        date=date,
        started=started,
        staging=None,
        manifest=manifest,
        step="running in a worker process",
        exc=exc,
    )
    return _failed_outcome(spec, date, time.perf_counter(), folder, summary)


def run_schedule(
    specs: Sequence[ReportSpec],
    *,
    date: dt.date | None = None,
    workers: int = 1,
    notebook: str | Path | None = None,
    cell_timeout: float | None = DEFAULT_CELL_TIMEOUT,
    progress: bool | None = None,
    executor: Executor | None = None,
    warm_kernels: bool = True,
) -> list[ReportOutcome]:
    """Run every report in a schedule; a failed report never stops the others.

    Parameters
    ----------
    specs : sequence of ReportSpec
        From :func:`load_schedule`.
    date : datetime.date, optional
        Report date for every run (default today), fixed at the start so a schedule that runs
        past midnight files every report under one date.
    workers : int
        Reports run at once, each in its own process (and Jupyter kernel). 1 runs them one after
        another in this process.
    notebook : path, optional
        The report notebook (default :func:`planning.outputs.report.report_notebook`).
    cell_timeout : float, optional
        Seconds any one notebook cell may run before that report is failed.
    progress : bool, optional
        Show a tqdm bar on stderr; default: only when stderr is a terminal.
    executor : concurrent.futures.Executor, optional
        Run the reports on this executor instead of a local process pool, e.g.
        :func:`dask_executor` (``dask.distributed``; workers must see the same ``out``
        folders and have the package and its data installed). Failure semantics, manifests,
        the index and progress are the same: a report that fails publishes nothing and the
        others carry on; a worker that dies is recorded as that report's failure.
    warm_kernels : bool
        Run each worker's reports in one warm kernel (:mod:`planning.outputs.warm_kernel`):
        its namespace is emptied before every report and it is replaced after a failed one, so
        the reports are those of a kernel per report (False), without paying the kernel's
        start and the imports for each.

    Returns
    -------
    list of ReportOutcome
        In schedule order. Progress is logged (logger ``planning.outputs.schedule``, INFO) one line per
        report as it finishes, and ``<out>/index.html`` is rewritten after each.
    """
    from tqdm import tqdm
    from tqdm.contrib.logging import logging_redirect_tqdm

    specs = list(specs)
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ValidationError(f"workers must be a whole number of at least 1, not {workers!r}")
    date = date or dt.date.today()
    show = sys.stderr.isatty() if progress is None else progress
    done: dict[int, ReportOutcome] = {}

    def finish(position: int, outcome: ReportOutcome) -> None:
        done[position] = outcome
        try:
            write_index(outcome.out)
        except OSError:
            logger.exception("could not rewrite %s", outcome.out / INDEX)
        logger.info(_outcome_line(outcome, len(done), len(specs)))
        bar.update()

    prepare_schedule(specs, date=date)
    options = {
        "date": date,
        "notebook": notebook,
        "cell_timeout": cell_timeout,
        "warm_kernel": warm_kernels,
    }
    redirect = logging_redirect_tqdm() if show else nullcontext()
    pool: ProcessPoolExecutor | None = None
    try:
        with (
            _stop_on_signals(),
            redirect,
            tqdm(total=len(specs), unit="report", disable=not show, desc="reports") as bar,
        ):
            if executor is None and (workers == 1 or len(specs) <= 1):
                for position, spec in enumerate(specs):
                    finish(position, run_scheduled_report(spec, **options))  # type: ignore[arg-type]
            else:
                if executor is None:
                    pool = ProcessPoolExecutor(
                        max_workers=min(workers, len(specs)),
                        # spawn: a clean interpreter per worker (no forked threads or sockets)
                        mp_context=multiprocessing.get_context("spawn"),
                        initializer=_worker_started,
                    )
                run = run_scheduled_report if executor is not None else _run_in_worker
                futures: dict[Future[ReportOutcome], int] = {
                    (executor or pool).submit(run, spec, **options): i  # type: ignore[union-attr,arg-type]
                    for i, spec in enumerate(specs)
                }
                for future in as_completed(futures):
                    position = futures[future]
                    try:
                        outcome = future.result()
                    except Exception as exc:  # the worker died (killed, out of memory)
                        outcome = _crashed(specs[position], date, exc)
                    finish(position, outcome)
    except Interrupted as stop:
        stop_publishing()
        if pool is not None:
            _stop_workers(pool)
        elif executor is None:
            _stop_kernels()
        unfinished = [spec for i, spec in enumerate(specs) if i not in done]
        raise ScheduleInterrupted(
            stop.signum, finished=[done[i] for i in sorted(done)], unfinished=unfinished
        ) from None
    finally:
        if pool is not None:
            # each worker closes its warm kernel as it exits (warm_kernel's atexit)
            pool.shutdown(wait=not publishing_stopped(), cancel_futures=True)
        elif executor is None:
            warm.discard_warm_kernel()  # the one this thread ran the reports in, if any
    for root in {spec.out for spec in specs}:
        write_index(root)
    return [done[i] for i in range(len(specs))]


@contextmanager
def dask_executor(address: str | None = None, *, workers: int = 2) -> Iterator[Executor]:
    """A :class:`concurrent.futures.Executor` that runs reports as Dask tasks, for
    :func:`run_schedule`'s ``executor``.

    Parameters
    ----------
    address : str, optional
        A running ``dask.distributed`` scheduler, e.g. ``tcp://scheduler:8786`` (started with
        ``dask scheduler`` and ``dask worker tcp://scheduler:8786`` on other hosts, or by
        dask-kubernetes / dask-jobqueue). Its workers must have this package and its data
        installed and see the same report folders. Default: start a ``LocalCluster`` of
        ``workers`` processes (one thread each: one report and one kernel per process) for
        the length of the ``with`` block.
    workers : int
        Worker processes of the local cluster (ignored with ``address``).

    Raises
    ------
    ValidationError
        When ``dask.distributed`` is not installed or the scheduler cannot be reached.
    """
    try:
        from dask.distributed import Client, LocalCluster
    except ImportError:
        raise ValidationError(
            "running reports on Dask needs dask.distributed; install it with "
            "pip install 'dask[distributed]' (or the package's 'distributed' extra)"
        ) from None
    cluster = None
    try:
        if address is None:
            cluster = LocalCluster(
                n_workers=workers,
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
                silence_logs=logging.WARNING,
            )
            client = Client(cluster)
        else:
            try:
                client = Client(address, timeout="10s")
            except (OSError, TimeoutError) as exc:
                raise ValidationError(
                    f"could not reach the Dask scheduler at {address!r} ({exc}); check that "
                    "'dask scheduler' is running there and the address is its tcp://host:port"
                ) from None
        with client:
            try:
                yield client.get_executor()
            finally:
                # the workers' warm kernels; on a shared cluster, those running another
                # schedule's report are left to finish it
                with suppress(Exception):
                    client.run(warm.close_warm_kernels, idle_only=True)
    finally:
        if cluster is not None:
            cluster.close()


def prepare_schedule(specs: Sequence[ReportSpec], *, date: dt.date) -> None:
    """Before anything runs: refuse report folders or index pages the runs may not replace,
    and remove staging folders left by killed runs (each is logged as a warning).

    Raises
    ------
    ValidationError
        Listing every refused folder, so a schedule never fails half-way for this reason.
    """
    problems = Problems("schedule")
    for spec in specs:
        try:
            check_output_folder(
                spec.folder(date), inputs=spec.inputs, force=spec.force, option="report folder"
            )
        except ValidationError as exc:
            problems.add(f"{spec.origin}: {exc}")
    for root in sorted({spec.out for spec in specs}):
        try:
            check_index(root)
        except ValidationError as exc:
            problems.add(str(exc))
    problems.raise_if_any()
    for root in sorted({spec.out for spec in specs}):
        for folder in [root, *sorted(p for p in root.glob("*") if p.is_dir())]:
            for cleaned in remove_stale_staging(folder):
                logger.warning("cleaned up %s left by an interrupted run", cleaned)


# --------------------------------------------------------------------------------------------
# Stopping: SIGTERM or SIGINT stops the workers, and nothing is published after the stop


class Interrupted(BaseException):
    """A stop signal (a BaseException, like KeyboardInterrupt, so no ``except Exception`` in a
    run can swallow it and carry on)."""

    def __init__(self, signum: int) -> None:
        super().__init__(f"stopped by {signal.Signals(signum).name}")
        self.signum = int(signum)


class ScheduleInterrupted(Exception):
    """A schedule stopped by a signal: what finished before the stop, and what did not."""

    def __init__(
        self,
        signum: int,
        *,
        finished: Sequence[ReportOutcome],
        unfinished: Sequence[ReportSpec],
    ) -> None:
        self.signum = int(signum)
        self.signal_name = signal.Signals(signum).name
        self.finished, self.unfinished = list(finished), list(unfinished)
        super().__init__(self.describe())

    def describe(self) -> str:
        """What a scheduler's log needs: the signal, what was published, what was not."""
        published = [o for o in self.finished if o.ok]
        lines = [
            f"Stopped by {self.signal_name}: {len(published)} report(s) published before the "
            f"stop, {len(self.finished) - len(published)} failed, {len(self.unfinished)} left "
            "unfinished (nothing was published for them after the stop)."
        ]
        lines += [f"  published  {o.name} ({o.authority}): {o.folder}" for o in published]
        lines += [f"  unfinished {s.name} ({s.authority}) [{s.origin}]" for s in self.unfinished]
        lines.append("Run the schedule again to finish them; re-running is safe.")
        return "\n".join(lines)


def _raise_interrupted(signum: int, frame: Any) -> None:
    stop_publishing()
    # A report running in this process has its kernel as a child: stop it before the staging
    # folder (its working folder) is removed on the way out, or a kernel still starting fails
    # noisily in a folder that has gone. Pool workers are left to _stop_workers.
    _stop_kernels(kernels_only=True)
    raise Interrupted(signum)


@contextmanager
def _stop_on_signals() -> Iterator[None]:
    """SIGTERM and SIGINT raise :class:`Interrupted` in the main thread while a schedule runs
    (signal handlers can only be set there; elsewhere the caller's own handling applies)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {sig: signal.signal(sig, _raise_interrupted) for sig in STOP_SIGNALS}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _worker_started() -> None:
    """In each worker process: a stop signal stops publishing, ends the run (its staging folder
    is removed on the way out), shuts its kernel and exits the worker."""

    def stop(signum: int, frame: Any) -> None:
        stop_publishing()
        _stop_kernels()
        raise Interrupted(signum)

    for sig in STOP_SIGNALS:
        signal.signal(sig, stop)


def _run_in_worker(spec: ReportSpec, **options: Any) -> ReportOutcome:
    """One report in a pool worker; a stop signal ends the worker process itself (after the run
    removed its staging folder), so no orphaned worker goes on to the next report."""
    try:
        return run_scheduled_report(spec, **options)
    except Interrupted as stop:
        logging.shutdown()
        os._exit(128 + stop.signum)


def _stop_kernels(timeout: float = 10.0, *, kernels_only: bool = False) -> None:
    """Stop this process's child processes (Jupyter kernels run in their own sessions, so a
    signal to the worker does not reach them); with ``kernels_only``, only its own kernels."""
    import psutil

    children = psutil.Process().children(recursive=not kernels_only)
    if kernels_only:
        children = [child for child in children if _is_kernel(child)]
    for child in children:
        with suppress(psutil.Error):
            child.terminate()
    _, alive = psutil.wait_procs(children, timeout=timeout)
    for child in alive:
        with suppress(psutil.Error):
            child.kill()


def _is_kernel(process: Any) -> bool:
    import psutil

    try:
        return "ipykernel" in " ".join(process.cmdline())
    except psutil.Error:
        return False


def _stop_workers(pool: ProcessPoolExecutor, timeout: float = 60.0) -> None:
    """Signal every worker process (and so its kernel) to stop, wait, then kill what is left."""
    import psutil

    # ProcessPoolExecutor has no public way to reach its processes; _processes is stable
    # from Python 3.8 to 3.13.
    workers = [
        psutil.Process(p.pid)
        for p in list(getattr(pool, "_processes", {}).values())
        if p.is_alive()
    ]
    tree = list(workers)
    for worker in workers:
        with suppress(psutil.Error):
            tree += worker.children(recursive=True)
    for worker in workers:
        with suppress(psutil.Error):
            worker.send_signal(signal.SIGTERM)
    _, alive = psutil.wait_procs(tree, timeout=timeout)
    for process in alive:
        with suppress(psutil.Error):
            process.kill()
    psutil.wait_procs(alive, timeout=5)


def format_summary(outcomes: Sequence[ReportOutcome], *, elapsed: float | None = None) -> str:
    """A plain-text summary of a schedule: one line per report, then the totals."""
    failed = [o for o in outcomes if not o.ok]
    lines = []
    width = max((len(f"{o.name} ({o.authority})") for o in outcomes), default=10)
    for o in outcomes:
        label = f"{o.name} ({o.authority})".ljust(width)
        if o.ok:
            change = (
                "first report"
                if o.changes is None
                else "no change"
                if o.changes == 0
                else f"{o.changes} change(s)"
            )
            lines.append(
                f"  {label}  ok      {o.duration_seconds:6.1f} s  {o.verdict or '':5}  {change}: "
                f"{o.folder}"
            )
        else:
            lines.append(
                f"  {label}  FAILED  {o.duration_seconds:6.1f} s  {o.error}\n"
                f"  {'':{width}}  see {o.folder / 'error.txt'}"
            )
    took = f" in {elapsed:.1f} s" if elapsed is not None else ""
    head = (
        f"{len(outcomes)} report(s){took}: {len(outcomes) - len(failed)} published, "
        f"{len(failed)} failed"
    )
    indexes = sorted({str(o.out / INDEX) for o in outcomes})
    return "\n".join([head, *lines, *(f"Index: {i}" for i in indexes)])


_INDEX_CSS = """
body { font-family: Arial, Helvetica, sans-serif; max-width: 1100px; margin: 1em auto;
       padding: 0 1em; }
table { border-collapse: collapse; font-size: 0.9em; width: 100%; }
th, td { border: 1px solid #ccc; padding: 4px 6px; text-align: left; vertical-align: top; }
th { background: #f4f4f4; }
.badge { display: inline-block; padding: 1px 8px; border-radius: 4px; color: #fff;
         font-weight: bold; }
.ok { background: #1e8449; } .failed { background: #c0392b; }
.Red { background: #c0392b; } .Amber { background: #d68910; } .Green { background: #1e8449; }
.error { color: #922b21; font-size: 0.9em; }
.scenario { color: #6c3483; font-weight: bold; font-size: 0.9em; }
"""


#: Link text of each file kind on the index, and whether it is shown in bold (in this order).
_LINK_LABELS: dict[str, tuple[str, bool]] = {
    "html": ("report", True),
    "pdf": ("PDF", False),
    "error": ("error.txt", True),
    "notebook": ("notebook", False),
    "manifest": ("manifest", False),
    "figures": ("figures", False),
    "previous_figures": ("previous figures", False),
}


def _relative(path: Path, root: Path) -> str:
    return Path(os.path.relpath(path, root)).as_posix()


def _index_rows(root: Path) -> list[tuple[dict[str, Any], Path]]:
    found = []
    patterns = ("*/*/" + MANIFEST, f"{FAILED_DIR}/*/*/{MANIFEST}")
    for pattern in patterns:
        for path in root.glob(pattern):
            parts = path.relative_to(root).parts
            if any(p.startswith(".") for p in parts):
                continue  # staging folders of runs in progress
            if pattern.startswith("*") and parts[0] == FAILED_DIR:
                continue
            manifest = _read_json(path)
            if manifest is not None:
                found.append((manifest, path.parent))
    found.sort(key=lambda item: str(item[0].get("started", "")), reverse=True)
    return found


def _index_is_ours(page: Path) -> bool:
    try:
        head = page.read_text(encoding="utf-8", errors="replace")[:2000]
    except OSError:
        return False
    return f'<meta name="generator" content="{INDEX_GENERATOR}">' in head or (
        # indexes written before the generator tag was added
        head.startswith(
            '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
            "<title>Children's centre sufficiency reports</title>"
        )
    )


def check_index(out: str | Path) -> None:
    """Refuse a reports folder whose ``index.html`` this tool did not write.

    Raises
    ------
    ValidationError
        Naming the page and the fix; nothing is overwritten.
    """
    page = Path(out) / INDEX
    if page.is_symlink() or (page.exists() and not page.is_file()):
        raise ValidationError(f"{page} is not a plain file; move it, or give another --out folder")
    if page.exists() and not _index_is_ours(page):
        raise ValidationError(
            f"{page} was not written by this tool, and the schedule would replace it with the "
            "reports index; move it, or give another --out folder"
        )


def _index_row(manifest: dict[str, Any], folder: Path, root: Path) -> dict[str, Any]:
    """What the index shows for one run (raw text: the template escapes it)."""
    status = str(manifest.get("status", "unknown"))
    authority = manifest.get("authority", {})
    shown = {**manifest.get("files", {}), "manifest": MANIFEST}
    order = list(_LINK_LABELS)
    links = [
        (_relative(folder / shown[kind], root), *_LINK_LABELS.get(kind, (kind, False)))
        for kind in sorted(shown, key=lambda k: order.index(k) if k in order else len(order))
        if (folder / shown[kind]).exists()
    ]
    changes = manifest.get("changes")
    verdict_change = [c for c in changes or [] if c.get("section") == "Verdict"]
    duration = manifest.get("duration_seconds")
    return {
        "report_date": str(manifest.get("report_date", "")),
        "authority_name": str(authority.get("name", "")),
        "authority_code": str(authority.get("code", "")),
        "status": status,
        "verdict": str(manifest["verdict"]) if manifest.get("verdict") else "",
        "error": str(manifest.get("error", "")) if status != "ok" else None,
        "changes": changes,
        "previous_date": str((manifest.get("previous") or {}).get("report_date", "")),
        "verdict_change": verdict_change[0] if verdict_change else None,
        "started": str(manifest.get("started", "")).replace("T", " ")[:16],
        "duration": "" if duration is None else f"{float(duration):.1f} s",
        "links": links,
        "scenario": str((manifest.get("scenario") or {}).get("name", "")) or None,
    }


def write_index(out: str | Path) -> Path:
    """Write ``<out>/index.html``: every run found under ``out`` (published and failed), newest
    first, with status, verdict, what changed and links. Self-contained (inline CSS, no
    scripts) and replaced atomically."""
    root = Path(out)
    root.mkdir(parents=True, exist_ok=True)
    entries = _index_rows(root)
    runs = [_index_row(manifest, folder, root) for manifest, folder in entries]
    failed = sum(1 for m, _ in entries if m.get("status") != "ok")
    page = render(
        "schedule_index.html.j2",
        generator=INDEX_GENERATOR,
        css=Markup(_INDEX_CSS),
        runs=runs,
        failed=failed,
        updated=_now().isoformat(timespec="seconds"),
    )
    target = root / INDEX
    check_index(root)
    handle, temporary = tempfile.mkstemp(prefix=".index-", suffix=".html", dir=root)
    with os.fdopen(handle, "w", encoding="utf-8") as fh:
        fh.write(page)
    os.chmod(temporary, 0o644)
    os.replace(temporary, target)
    return target


# ------------------------------------------------------------------ uncertainty, every authority


def authority_uncertainty(code: str, draws: int = 1_000, seed: int | None = None) -> dict[str, Any]:
    """One authority's verdict with its probabilities (a task for :func:`uncertainty_batch`).

    Runs :func:`planning.runs.sufficiency.run_sufficiency` (its illustrative sites, neighbours
    included) and :func:`planning.runs.sufficiency.run_uncertainty` with ``draws`` and ``seed``
    (the packaged model), and returns plain values, so that any executor (a process pool,
    Dask) can carry them back.
    """
    from planning.runs.sufficiency import run_sufficiency, run_uncertainty

    start = time.perf_counter()
    run = run_sufficiency(code)
    sure = run_uncertainty(run, draws=draws, seed=seed)
    table = sure.table
    authority = table[table["level"] == "authority"].iloc[0]
    groups = table[table["level"] != "centre"]
    return {
        "authority_code": run.authority_code,
        "authority_name": run.authority_name,
        "verdict": str(authority["verdict"]),
        "likely": str(authority["likely"]),
        "p_green": float(authority["p_green"]),
        "p_amber": float(authority["p_amber"]),
        "p_red": float(authority["p_red"]),
        "robust": bool(authority["robust"]),
        "fragile_verdicts": int((~groups["robust"].astype(bool)).sum()),
        "verdicts": len(groups),
        "draws": int(sure.draws),
        "seconds": time.perf_counter() - start,
    }


def uncertainty_batch(
    authorities: Sequence[str] | None = None,
    *,
    draws: int = 1_000,
    seed: int | None = None,
    executor: Executor | None = None,
) -> Any:
    """How sure every authority's verdict is, one task per authority.

    Parameters
    ----------
    authorities : sequence of str, optional
        Codes or names; default all 153 upper-tier authorities.
    draws, seed : as for :func:`planning.runs.sufficiency.run_uncertainty`.
    executor : concurrent.futures.Executor, optional
        Where the tasks run: a ``ProcessPoolExecutor``, or :func:`dask_executor` for a Dask
        cluster (the national batch's path); default one after another in this process.

    Returns
    -------
    pandas.DataFrame
        One row per authority, in the order given (see :func:`authority_uncertainty`).
    """
    import pandas as pd

    from planning.inputs.areas import list_authorities

    codes = list(authorities) if authorities is not None else list_authorities()["code"].tolist()
    if executor is None:
        rows = [authority_uncertainty(code, draws, seed) for code in codes]
    else:
        futures = [executor.submit(authority_uncertainty, code, draws, seed) for code in codes]
        rows = [future.result() for future in futures]
    return pd.DataFrame(rows).set_index("authority_code")
