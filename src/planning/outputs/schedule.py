"""Scheduled sufficiency reports: running a whole schedule, unattended.

:func:`run_schedule` runs every report of a schedule (:func:`load_schedule`) with
:func:`run_scheduled_report`, one after another or in parallel (a process pool of spawned
workers, each with its warm kernel, or Dask tasks through :func:`dask_executor`); a failed report
never stops the others, and ``<out>/index.html`` is rewritten after each (:func:`write_index`).
:func:`prepare_schedule` refuses what the runs may not replace before anything runs; SIGTERM and
SIGINT stop the workers and their kernels, and nothing is published after the stop
(:class:`ScheduleInterrupted` says what finished and what did not). :func:`format_summary` is the
plain-text summary, and :func:`uncertainty_batch` runs how sure every authority's verdict is as
one task per authority on the same executors.

The rest lives in modules that read as the data flow, and is re-exported here so that every
import from this module keeps working:

- :mod:`planning.outputs.schedule_file`: the schedule YAML format (:class:`ReportSpec`, the
  schema, :func:`load_schedule`, :func:`report_spec`);
- :mod:`planning.outputs.scheduled_report`: one report run (:func:`run_scheduled_report`,
  staging, manifests, provenance, :func:`previous_report`, failures kept, :func:`run_report`);
- :mod:`planning.outputs.report_index`: the reports index page (:func:`write_index`).

    .venv/bin/planning report --schedule schedules/example.yaml --workers 2
"""

from __future__ import annotations

import datetime as dt
import logging
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import Executor, Future, ProcessPoolExecutor, as_completed
from contextlib import contextmanager, nullcontext, suppress
from pathlib import Path
from typing import Any

from planning._errors import ValidationError
from planning._files import (
    check_output_folder,
    publishing_stopped,
    remove_stale_staging,
    stop_publishing,
)
from planning._validate import Problems
from planning.outputs import warm_kernel as warm
from planning.outputs.report_index import INDEX, INDEX_GENERATOR, check_index, write_index
from planning.outputs.schedule_file import (
    FORMATS,
    SCHEDULE_KEYS,
    TOP_LEVEL_KEYS,
    ReportSpec,
    RunDefaults,
    ScheduleDocument,
    ScheduleFile,
    ScheduleRun,
    load_schedule,
    report_spec,
    schedule_json_schema,
)
from planning.outputs.scheduled_report import (
    DEFAULT_CELL_TIMEOUT,
    FAILED_DIR,
    FIGURES,
    MANIFEST,
    PREVIOUS_FIGURES,
    Interrupted,
    ReportOutcome,
    _crashed,
    previous_report,
    run_report,
    run_scheduled_report,
)

# Every public name this module had before it was split, so imports from here keep working.
__all__ = [
    "DEFAULT_CELL_TIMEOUT",
    "FAILED_DIR",
    "FIGURES",
    "FORMATS",
    "INDEX",
    "INDEX_GENERATOR",
    "MANIFEST",
    "PREVIOUS_FIGURES",
    "SCHEDULE_KEYS",
    "STOP_SIGNALS",
    "TOP_LEVEL_KEYS",
    "Interrupted",
    "ReportOutcome",
    "ReportSpec",
    "RunDefaults",
    "ScheduleDocument",
    "ScheduleFile",
    "ScheduleInterrupted",
    "ScheduleRun",
    "authority_uncertainty",
    "check_index",
    "dask_executor",
    "format_summary",
    "load_schedule",
    "prepare_schedule",
    "previous_report",
    "report_spec",
    "run_report",
    "run_schedule",
    "run_scheduled_report",
    "schedule_json_schema",
    "uncertainty_batch",
    "write_index",
]

logger = logging.getLogger(__name__)

#: Signals that stop a schedule (a scheduler's stop, or Ctrl-C).
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


# --------------------------------------------------------------------------------------------
# Many runs


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
