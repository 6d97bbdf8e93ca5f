"""The ``planning`` command.

    planning authorities
    planning sufficiency --authority CODE|NAME [--centres FILE] [--standards FILE] --out DIR
    planning report --authority CODE|NAME [--centres FILE] [--standards FILE] [--out ROOT]
"""

from __future__ import annotations

import argparse
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


def _report(args: argparse.Namespace) -> int:
    from planning.reporting import run_report

    path = run_report(
        args.authority, centres=args.centres, standards=args.standards, out_root=args.out
    )
    print(f"Report: {path}")
    return 0


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number of at least 1, not {text}")
    return value


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
            help="centres file (CSV, GeoJSON, GPKG); default: Derby's illustrative sites",
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
    p = sub.add_parser("report", help="render the sufficiency report (Papermill + nbconvert)")
    common(p)
    p.add_argument("--out", type=Path, default=Path("reports"), help="reports root folder")
    p.set_defaults(func=_report)
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
