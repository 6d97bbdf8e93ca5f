"""``planning report``: render one sufficiency report, or every report of a schedule file
(Papermill + nbconvert, on a process pool or Dask), with its parser and handler.

The shared options and checks are in ``cli_common``; ``main`` is in ``cli``.
"""

from __future__ import annotations

import argparse
import logging
import sys
from contextlib import nullcontext
from pathlib import Path

from planning import settings
from planning.apps.cli_common import (
    _check_centres,
    _common_options,
    _force_option,
    _iso_date,
    _network_option,
    _positive_int,
)


def _report(args: argparse.Namespace) -> int:
    import time

    from planning._errors import ValidationError
    from planning.outputs.schedule import (
        ScheduleInterrupted,
        dask_executor,
        format_summary,
        run_schedule,
    )
    from planning.outputs.schedule_file import load_schedule, report_spec

    # One progress line per report, even without --verbose (Papermill's own chatter stays quiet).
    logging.getLogger("planning.outputs.schedule").setLevel(logging.INFO)
    if args.schedule is not None:
        single = [
            flag
            for flag, value in (
                ("--authority", args.authority),
                ("--centres", args.centres),
                ("--standards", args.standards),
                ("--scenario", args.scenario),
                ("--network", args.network),
                ("--pdf", args.pdf or None),
            )
            if value is not None
        ]
        if single:
            raise ValidationError(
                f"give either --schedule or {', '.join(single)}, not both: the schedule file "
                "names each run's authority, files and formats"
            )
        specs = load_schedule(args.schedule, out=args.out, force=args.force)
    else:
        _check_centres(args)
        specs = [
            report_spec(
                args.authority or settings.DEFAULT_AUTHORITY,
                centres=args.centres,
                standards=args.standards,
                scenario=args.scenario,
                out=args.out,
                formats=("html", "pdf") if args.pdf else ("html",),
                force=args.force,
                network=args.network,
            )
        ]
    start = time.perf_counter()
    on_dask = args.executor == "dask" or args.dask is not None
    try:
        with (
            dask_executor(args.dask, workers=args.workers) if on_dask else nullcontext()
        ) as executor:
            outcomes = run_schedule(
                specs,
                date=args.date,
                workers=args.workers,
                cell_timeout=args.timeout or None,
                executor=executor,
            )
    except ScheduleInterrupted as stop:
        print(stop.describe(), file=sys.stderr)
        return 128 + stop.signum
    print(format_summary(outcomes, elapsed=time.perf_counter() - start))
    if args.schedule is None and outcomes[0].ok:
        print(f"Report: {outcomes[0].html}")
    return 0 if all(o.ok for o in outcomes) else 1


def _add_report_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``planning report``: one report, or every report of a schedule file."""
    p = sub.add_parser(
        "report",
        help="render sufficiency reports (Papermill + nbconvert), one or a schedule",
        description="Run one report (--authority ...) or every report in a schedule file "
        "(--schedule FILE). Exit status: 0 all published, 1 some failed (kept under "
        "<out>/failed/), 2 bad input.",
    )
    _common_options(p, layer=False)  # the report notebook reads a centres file as given
    p.set_defaults(authority=None)  # so that --authority beside --schedule can be refused
    p.add_argument(
        "--scenario",
        type=Path,
        default=None,
        help="scenario file, passed to the notebook as the 'scenario' parameter",
    )
    p.add_argument("--pdf", action="store_true", help="also print a PDF with headless Chromium")
    _network_option(p)
    p.add_argument(
        "--schedule",
        type=Path,
        default=None,
        help="YAML schedule of report runs (see schedules/example.yaml)",
    )
    p.add_argument(
        "--out",
        type=Path,
        default=Path("reports"),
        help="reports root folder; each report goes to <out>/<authority>/<date>/ and a schedule "
        "run's own 'out' is read inside it (default reports)",
    )
    _force_option(p)
    p.add_argument(
        "--workers",
        type=_positive_int,
        default=1,
        help="reports to run at once, each in its own process (default 1)",
    )
    p.add_argument(
        "--executor",
        choices=["process", "dask"],
        default="process",
        help="where reports run: 'process' (default), a pool of --workers processes on this "
        "machine; 'dask', a dask.distributed LocalCluster of --workers processes",
    )
    p.add_argument(
        "--dask",
        metavar="ADDRESS",
        default=None,
        help="run the reports as tasks on a running Dask scheduler, e.g. tcp://host:8786 "
        "(its workers need this package and the same report folders)",
    )
    p.add_argument(
        "--date",
        type=_iso_date,
        default=None,
        help="report date YYYY-MM-DD (default today); a re-run replaces that date",
    )
    p.add_argument(
        "--timeout",
        type=float,
        default=1800.0,
        help="seconds any one notebook cell may run (default 1800; 0 for no limit)",
    )
    p.set_defaults(func=_report)
