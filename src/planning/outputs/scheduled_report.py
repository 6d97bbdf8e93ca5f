"""One scheduled report: run its notebook, publish it atomically, or keep its failure.

:func:`run_scheduled_report` runs one :class:`planning.outputs.schedule_file.ReportSpec`: the
report notebook is executed with Papermill in a staging folder beside
``<out>/<authority>/<YYYY-MM-DD>/`` (in a warm kernel if asked,
:mod:`planning.outputs.warm_kernel`), rendered to HTML (and PDF), given a ``manifest.json``
(parameters, input hashes, data vintages, versions, timings, status) and a ``figures.json``, and
published in one rename only when every step succeeded. A report opens with what changed since
the previous successful report for the same authority (:func:`previous_report`,
:func:`planning.outputs.changes.compare_figures`). Anything that failed is kept in
``<out>/failed/<authority>/<date>-<time>/`` with a readable ``error.txt``, and the outcome
(:class:`ReportOutcome`) says so: nothing is raised, so a schedule carries on.
:func:`run_report` runs one report as ``planning report --authority`` does and returns its HTML
(raising if it failed).

Reading schedule files is :mod:`planning.outputs.schedule_file`; the reports index page is
:mod:`planning.outputs.report_index`; running many reports (process pool, Dask, signals) is
:mod:`planning.outputs.schedule`, which re-exports this module's names.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import logging
import os
import platform
import re
import shutil
import signal
import subprocess
import time
import traceback
from contextlib import suppress
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

from planning import settings
from planning._errors import PlanningError, ValidationError
from planning._files import atomic_directory, file_sha256, input_label, publishing_stopped
from planning.inputs.areas import DATA_VINTAGES, VINTAGE_FILES
from planning.outputs import warm_kernel as warm
from planning.outputs.changes import compare_figures, load_figures
from planning.outputs.report_render import html_to_pdf, render_html, report_notebook
from planning.outputs.schedule_file import ReportSpec, report_spec

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "DEFAULT_CELL_TIMEOUT",
    "FAILED_DIR",
    "FIGURES",
    "MANIFEST",
    "PREVIOUS_FIGURES",
    "Interrupted",
    "ReportOutcome",
    "previous_report",
    "run_report",
    "run_scheduled_report",
]

logger = logging.getLogger(__name__)

#: Seconds any one notebook cell may run before the report is failed (a hung run must not block
#: the rest of an unattended schedule).
DEFAULT_CELL_TIMEOUT = 1800.0
FAILED_DIR = "failed"
MANIFEST = "manifest.json"
FIGURES = "figures.json"
PREVIOUS_FIGURES = "previous-figures.json"
_MANIFEST_SCHEMA = 1


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
        From :func:`planning.outputs.schedule_file.load_schedule` or :func:`report_spec`.
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

    A convenience over :func:`run_scheduled_report` (Papermill, nbconvert, manifest, atomic
    publication); raises :class:`planning.PlanningError` with the error log's
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


def _crashed(spec: ReportSpec, date: dt.date, exc: BaseException) -> ReportOutcome:
    """A run whose worker process died: record it in failed/ from the parent (for
    :func:`planning.outputs.schedule.run_schedule`)."""
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


# A stop signal: raised here when publishing has stopped, and by the signal handlers of
# planning.outputs.schedule, which stop the workers.


class Interrupted(BaseException):
    """A stop signal (a BaseException, like KeyboardInterrupt, so no ``except Exception`` in a
    run can swallow it and carry on)."""

    def __init__(self, signum: int) -> None:
        super().__init__(f"stopped by {signal.Signals(signum).name}")
        self.signum = int(signum)
