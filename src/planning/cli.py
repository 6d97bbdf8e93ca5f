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


def _report(args: argparse.Namespace) -> int:
    from planning.reporting import run_report

    path = run_report(
        args.authority, centres=args.centres, standards=args.standards, out_root=args.out
    )
    print(f"Report: {path}")
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
            help="centres file (CSV, GeoJSON, GPKG); default: Derby's illustrative sites",
        )
        p.add_argument("--standards", type=Path, default=None, help="standards YAML file")

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
