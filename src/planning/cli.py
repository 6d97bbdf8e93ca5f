"""The ``planning`` command.

    planning authorities
    planning sufficiency --authority CODE|NAME [--centres FILE] [--standards FILE] --out DIR
    planning report --authority CODE|NAME [--centres FILE] [--standards FILE] [--out ROOT] [--pdf]
    planning report --schedule FILE [--workers N] [--date YYYY-MM-DD] [--out ROOT]
    planning reach --authority CODE|NAME --registrations FILE [--centres FILE] --out DIR
    planning target --authority CODE|NAME [--registrations FILE] [--centres FILE] --out DIR
    planning synthetic-registrations --authority CODE|NAME --out FILE [--seed N]
    planning dashboard [--port 8866] [--ip 127.0.0.1] [--base-url /] [--preheat N]
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from planning import settings
from planning._errors import PlanningError


def _authorities(args: argparse.Namespace) -> int:
    from planning.datasets import list_authorities

    table = list_authorities()
    print(f"{'code':<10} {'under-5s':>9} {'LSOAs':>6}  name")
    for row in table.itertuples():
        print(f"{row.code:<10} {row.under5:>9,} {row.lsoa_count:>6}  {row.name}")
    print(f"{len(table)} English upper-tier authorities (counties and unitaries).")
    return 0


def _sufficiency(args: argparse.Namespace) -> int:
    from planning.workflow import run_sufficiency, write_sufficiency_outputs

    run = run_sufficiency(args.authority, centres=args.centres, standards=args.standards)
    out = write_sufficiency_outputs(run, args.out)
    figures = run.result.authority
    print(f"{run.authority_name} ({run.authority_code}): {figures['rag']}")
    for reason in figures["reasons"]:
        print(f"  {reason}")
    for note in run.result.notes:
        print(f"Note: {note}")
    print(f"Wrote {out}/ (areas.csv, centres.csv, localities.csv, wards.csv, areas.gpkg, summary.json)")
    return 0


def _print_comparison(comparison) -> None:  # type: ignore[no-untyped-def]
    for line in comparison.summary_lines():
        print(f"  {line}")


def _scenario(args: argparse.Namespace) -> int:
    from planning.scenarios import ScenarioEngine, load_scenario
    from planning.workflow import run_sufficiency, write_comparison_outputs

    scenario = load_scenario(args.scenario)
    run = run_sufficiency(args.authority, centres=args.centres, standards=args.standards)
    engine = ScenarioEngine(
        run.result.areas, run.result.centres, standards=run.result.standards, area_candidates=False
    )
    comparison = engine.compare(scenario)
    from planning.config import file_sha256

    extra = {
        "authority": {"code": run.authority_code, "name": run.authority_name},
        "inputs": run.inputs | {"scenario_file": str(args.scenario),
                                "scenario_sha256": file_sha256(args.scenario)},
        "notes": run.result.notes,
    }
    out = write_comparison_outputs(comparison, args.out, extra=extra)
    print(f"{run.authority_name}: scenario '{scenario.name}'")
    _print_comparison(comparison)
    print(f"Wrote {out}/")
    return 0


def _optimise(args: argparse.Namespace) -> int:
    from planning.allocation import optimise
    from planning.io import read_centres
    from planning.workflow import run_sufficiency, write_comparison_outputs

    run = run_sufficiency(args.authority, centres=args.centres, standards=args.standards)
    candidates = (
        read_centres(args.candidates, areas=run.result.areas) if args.candidates else None
    )
    result = optimise(
        run.result.areas,
        run.result.centres,
        objective=args.objective,
        p=args.p,
        standards=run.result.standards,
        candidates=candidates,
        lock_existing=args.lock_existing,
        max_closures=args.max_closures,
        min_deprived_share=args.min_deprived_share,
        load_bands=args.load_bands,
        weight=args.weight,
    )
    model = result.model
    extra = {
        "authority": {"code": run.authority_code, "name": run.authority_name},
        "model": {
            "objective": args.objective, "p": args.p, "weight": args.weight,
            "lock_existing": args.lock_existing, "max_closures": args.max_closures,
            "min_deprived_share": args.min_deprived_share, "load_bands": args.load_bands,
            "sites_chosen": len(model.selected_), "objective_value": model.objective_value_,
            "covered_share": model.covered_share_, "candidates": len(result.sites),
            "solver": "HiGHS via PuLP", "solve_seconds": model.solve_seconds_,
        },
        "inputs": run.inputs,
        "notes": run.result.notes,
    }
    out = write_comparison_outputs(result.comparison, args.out, extra=extra)
    print(f"{run.authority_name}: {args.objective} chose {len(model.selected_)} of "
          f"{len(result.sites)} candidate sites in {model.solve_seconds_:.2f} s")
    _print_comparison(result.comparison)
    print(f"Wrote {out}/ (scenario_centres.csv is the chosen network, usable with --centres)")
    return 0


def _dashboard(args: argparse.Namespace) -> int:
    from planning._voila import serve

    return serve(port=args.port, ip=args.ip, base_url=args.base_url, preheat=args.preheat,
                 cull_idle_timeout=args.cull_idle_timeout)  # fmt: skip


def _report(args: argparse.Namespace) -> int:
    import time

    from planning._errors import ValidationError
    from planning.schedule import format_summary, load_schedule, report_spec, run_schedule

    # One progress line per report, even without --verbose (Papermill's own chatter stays quiet).
    logging.getLogger("planning.schedule").setLevel(logging.INFO)
    if args.schedule is not None:
        single = [
            flag for flag, value in (
                ("--authority", args.authority), ("--centres", args.centres),
                ("--standards", args.standards), ("--scenario", args.scenario),
                ("--pdf", args.pdf or None),
            ) if value is not None
        ]
        if single:
            raise ValidationError(
                f"give either --schedule or {', '.join(single)}, not both: the schedule file "
                "names each run's authority, files and formats"
            )
        specs = load_schedule(args.schedule, out=args.out)
    else:
        specs = [
            report_spec(
                args.authority or settings.DEFAULT_AUTHORITY, centres=args.centres,
                standards=args.standards, scenario=args.scenario, out=args.out,
                formats=("html", "pdf") if args.pdf else ("html",),
            )
        ]
    start = time.perf_counter()
    outcomes = run_schedule(
        specs, date=args.date, workers=args.workers, cell_timeout=args.timeout or None
    )
    print(format_summary(outcomes, elapsed=time.perf_counter() - start))
    if args.schedule is None and outcomes[0].ok:
        print(f"Report: {outcomes[0].html}")
    return 0 if all(o.ok for o in outcomes) else 1


def _iso_date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a date such as 2026-04-01") from None


def _positive_int(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"'{text}' is not a whole number of at least 1")
    return int(text)


def _reach(args: argparse.Namespace) -> int:
    from planning.disclosure import check_threshold
    from planning.reach import publish_reach, run_reach, write_reach_outputs

    check_threshold(args.threshold)  # before the (slow) run: below 3 is refused, exit 2
    run = run_reach(
        args.authority, args.registrations, centres=args.centres, standards=args.standards,
        sustained_contacts=args.sustained_contacts, as_of=args.as_of,
    )
    published = publish_reach(run.result, threshold=args.threshold)
    out = write_reach_outputs(published, args.out, provenance=run.provenance)
    a, name = published.authority, run.sufficiency.authority_name

    def pct(value: object) -> str:
        return "withheld" if value is None else f"{100 * float(str(value)):.0f}%"

    print(f"{name}: {pct(a.get('reach'))} of under-5s registered ({a.get('reach_band')}); "
          f"{pct(a.get('sustained_reach'))} with sustained engagement")
    for note in published.notes:
        print(f"Note: {note}")
    print(f"Wrote {out}/ (areas.csv, centres.csv, localities.csv, deprivation_bands.csv, "
          "wards.csv, target_groups.csv, ages.csv, summary.json, reach.html)")
    return 0


def _target(args: argparse.Namespace) -> int:
    from planning.targeting import OutreachModel
    from planning.targeting_workflow import run_targeting, write_targeting_outputs

    run = run_targeting(
        args.authority, registrations=args.registrations, centres=args.centres,
        standards=args.standards, hours=args.outreach_hours,
        outreach_model=OutreachModel(families_per_hour=args.families_per_hour),
        target=args.target, as_of=args.as_of,
    )
    out = write_targeting_outputs(run, args.out)
    for row in run.errors.head(1).itertuples():
        print(f"{run.authority_name}: {100 * row.exclusion_error:.0f}% of under-5s in "
              f"income-deprived families ({row.in_need_missed:,.0f} of {row.in_need_total:,.0f}) "
              f"live outside the {row.targeting}")
    for note in run.notes:
        print(f"Note: {note}")
    print(f"Wrote {out}/ (gains.csv, targeting_errors.csv, outreach.csv, outreach_allocation.csv"
          f"{', scores.csv' if run.scores is not None else ''}, summary.json, targeting.html)")
    return 0


def _synthetic_registrations(args: argparse.Namespace) -> int:
    from planning.synthetic import synthetic_registrations, write_synthetic_registrations
    from planning.workflow import run_sufficiency

    run = run_sufficiency(args.authority, centres=args.centres, standards=args.standards)
    frame = synthetic_registrations(
        run.result.areas, seed=args.seed, as_of=args.as_of or dt.date.today()
    )
    path = write_synthetic_registrations(frame, args.out)
    print(f"Wrote {len(frame):,} SYNTHETIC registrations for {run.authority_name} to {path}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="planning", description="Children's centre sufficiency planning workbench"
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("authorities", help="list the authorities that can be loaded")
    p.set_defaults(func=_authorities)

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "--authority", default=settings.DEFAULT_AUTHORITY,
            help="upper-tier authority code or name (default: Derby, E06000015)",
        )
        p.add_argument(
            "--centres", type=Path, default=None,
            help="centres file (CSV, GeoJSON, GPKG); default: illustrative sites for the authority",
        )
        p.add_argument("--standards", type=Path, default=None, help="standards YAML file")

    p = sub.add_parser("scenario", help="compare a what-if scenario with the current network")
    common(p)
    p.add_argument("--scenario", type=Path, required=True, help="scenario YAML file")
    p.add_argument("--out", type=Path, required=True, help="output folder")
    p.set_defaults(func=_scenario)
    p = sub.add_parser("optimise", help="choose sites by location-allocation")
    common(p)
    p.add_argument("--p", type=_positive_int, default=None, help="number of sites")
    p.add_argument("--objective", choices=["coverage", "median", "cover-all"], default="coverage")
    p.add_argument("--candidates", type=Path, default=None,
                   help="extra candidate sites (centres-file format), e.g. schools")
    p.add_argument("--lock-existing", action="store_true", help="keep every current centre")
    p.add_argument("--max-closures", type=int, default=None, help="close at most N centres")
    p.add_argument("--min-deprived-share", type=float, default=None,
                   help="share of under-5s in the 30%% most deprived areas that must be in reach")
    p.add_argument("--load-bands", action="store_true",
                   help="keep each site's under-5s within the standards' load band")
    p.add_argument("--weight", choices=["need_weighted", "under5", "under5_income_deprived"],
                   default="need_weighted", help="demand weight (default: need_weighted)")
    p.add_argument("--out", type=Path, required=True, help="output folder")
    p.set_defaults(func=_optimise)
    p = sub.add_parser("sufficiency", help="assess sufficiency and write tables")
    common(p)
    p.add_argument("--out", type=Path, required=True, help="output folder")
    p.set_defaults(func=_sufficiency)
    p = sub.add_parser(
        "report", help="render sufficiency reports (Papermill + nbconvert), one or a schedule",
        description="Run one report (--authority ...) or every report in a schedule file "
        "(--schedule FILE). Exit status: 0 all published, 1 some failed (kept under "
        "<out>/failed/), 2 bad input.",
    )
    common(p)
    p.set_defaults(authority=None)  # so that --authority beside --schedule can be refused
    p.add_argument("--scenario", type=Path, default=None,
                   help="scenario file, passed to the notebook as the 'scenario' parameter")
    p.add_argument("--pdf", action="store_true", help="also print a PDF with headless Chromium")
    p.add_argument("--schedule", type=Path, default=None,
                   help="YAML schedule of report runs (see schedules/example.yaml)")
    p.add_argument("--out", type=Path, default=Path("reports"),
                   help="reports root folder (for schedule runs without their own 'out')")
    p.add_argument("--workers", type=_positive_int, default=1,
                   help="reports to run at once, each in its own process (default 1)")
    p.add_argument("--date", type=_iso_date, default=None,
                   help="report date YYYY-MM-DD (default today); a re-run replaces that date")
    p.add_argument("--timeout", type=float, default=1800.0,
                   help="seconds any one notebook cell may run (default 1800; 0 for no limit)")
    p.set_defaults(func=_report)
    p = sub.add_parser("reach", help="reach from a registration extract, with disclosure control")
    common(p)
    p.add_argument("--registrations", type=Path, required=True,
                   help="registration extract CSV (format: planning.reach module docs)")
    p.add_argument("--out", type=Path, required=True, help="output folder")
    p.add_argument("--threshold", type=int, default=5,
                   help="smallest publishable count (default 5; at least 3)")
    p.add_argument("--sustained-contacts", type=_positive_int, default=3,
                   help="contacts in 12 months that count as sustained engagement (default 3)")
    p.add_argument("--as-of", type=_iso_date, default=None,
                   help="extract date YYYY-MM-DD (default today)")
    p.set_defaults(func=_reach)
    p = sub.add_parser("target", help="targeting gains, outreach allocation, targeting model")
    common(p)
    p.add_argument("--registrations", type=Path, default=None,
                   help="registration extract CSV: fits and evaluates the targeting model")
    p.add_argument("--out", type=Path, required=True, help="output folder")
    p.add_argument("--outreach-hours", type=float, default=2000.0,
                   help="outreach hours to allocate (default 2000)")
    p.add_argument("--families-per-hour", type=float, default=0.25,
                   help="families contacted per outreach hour (default 0.25)")
    p.add_argument("--target", choices=["unmet_need", "shortfall"], default="unmet_need",
                   help="what the model predicts (default unmet_need)")
    p.add_argument("--as-of", type=_iso_date, default=None,
                   help="extract date YYYY-MM-DD (default today)")
    p.set_defaults(func=_target)
    p = sub.add_parser("synthetic-registrations",
                       help="write a SYNTHETIC registration extract for demos and tests")
    common(p)
    p.add_argument("--out", type=Path, required=True,
                   help="CSV file to write; its name must contain 'synthetic'")
    p.add_argument("--seed", type=int, default=settings.RANDOM_SEED, help="random seed")
    p.add_argument("--as-of", type=_iso_date, default=None,
                   help="extract date YYYY-MM-DD (default today)")
    p.set_defaults(func=_synthetic_registrations)
    p = sub.add_parser("dashboard", help="serve the councillors' dashboard with Voila")
    p.add_argument("--port", type=_positive_int, default=8866, help="port (default 8866)")
    p.add_argument("--ip", default="127.0.0.1",
                   help="address to listen on (default 127.0.0.1; put a reverse proxy in front)")
    p.add_argument("--base-url", default="/",
                   help="path prefix the reverse proxy serves it under, e.g. /dashboard/")
    p.add_argument("--preheat", type=int, default=1,
                   help="kernels kept ready with the dashboard built (default 1; 0 for none)")
    p.add_argument("--cull-idle-timeout", type=_positive_int, default=600,
                   help="seconds before an idle kernel with no browser is shut down (default 600)")
    p.set_defaults(func=_dashboard)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING, format="%(message)s"
    )
    try:
        return int(args.func(args))
    except PlanningError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except FileNotFoundError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
