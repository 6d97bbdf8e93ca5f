"""``planning reach``, ``target`` and ``synthetic-registrations``: the commands that read (or
make) a registration extract, with their parsers and handlers.

The shared options and checks are in ``cli_common``; ``main`` is in ``cli``.
"""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path

from planning import settings
from planning.apps.cli_common import (
    _check_centres,
    _check_out,
    _common_options,
    _force_option,
    _iso_date,
    _positive_int,
    _run,
)


def _reach(args: argparse.Namespace) -> int:
    from planning.analysis.disclosure import check_threshold
    from planning.runs.reach import publish_reach, run_reach, write_reach_outputs
    from planning.runs.sufficiency import run_sufficiency

    check_threshold(args.threshold)  # before the (slow) run: below 3 is refused, exit 2
    _check_out(args)
    run = run_reach(
        args.authority,
        args.registrations,
        centres=args.centres,
        standards=args.standards,
        sustained_contacts=args.sustained_contacts,
        as_of=args.as_of,
        run=run_sufficiency(
            args.authority, centres=args.centres, standards=args.standards, layer=args.layer
        ),
    )
    published = publish_reach(run.result, threshold=args.threshold)
    out = write_reach_outputs(
        published,
        args.out,
        provenance=run.provenance,
        inputs=[args.registrations, args.centres, args.standards],
        force=args.force,
    )
    a, name = published.authority, run.sufficiency.authority_name

    def pct(value: object) -> str:
        return "withheld" if value is None else f"{100 * float(str(value)):.0f}%"

    print(
        f"{name}: {pct(a.get('reach'))} of under-5s registered ({a.get('reach_band')}); "
        f"{pct(a.get('sustained_reach'))} with sustained engagement"
    )
    for note in published.notes:
        print(f"Note: {note}")
    print(
        f"Wrote {out}/ (areas.csv, centres.csv, localities.csv, deprivation_bands.csv, "
        "wards.csv, target_groups.csv, ages.csv, summary.json, reach.html)"
    )
    return 0


def _target(args: argparse.Namespace) -> int:
    from planning.analysis.targeting import OutreachModel
    from planning.runs.sufficiency import run_sufficiency
    from planning.runs.targeting import run_targeting, write_targeting_outputs

    _check_out(args)
    run = run_targeting(
        args.authority,
        registrations=args.registrations,
        centres=args.centres,
        standards=args.standards,
        hours=args.outreach_hours,
        outreach_model=OutreachModel(families_per_hour=args.families_per_hour),
        target=args.target,
        as_of=args.as_of,
        run=run_sufficiency(
            args.authority, centres=args.centres, standards=args.standards, layer=args.layer
        ),
    )
    out = write_targeting_outputs(
        run, args.out, inputs=[args.registrations, args.centres, args.standards], force=args.force
    )
    for row in run.errors.head(1).itertuples():
        print(
            f"{run.authority_name}: {100 * row.exclusion_error:.0f}% of under-5s in "
            f"income-deprived families ({row.in_need_missed:,.0f} of {row.in_need_total:,.0f}) "
            f"live outside the {row.targeting}"
        )
    for note in run.notes:
        print(f"Note: {note}")
    print(
        f"Wrote {out}/ (gains.csv, targeting_errors.csv, outreach.csv, outreach_allocation.csv"
        f"{', scores.csv' if run.scores is not None else ''}, summary.json, targeting.html)"
    )
    return 0


def _synthetic_registrations(args: argparse.Namespace) -> int:
    from planning.inputs.synthetic import synthetic_registrations, write_synthetic_registrations

    _check_centres(args)
    run = _run(args)
    frame = synthetic_registrations(
        run.result.areas, seed=args.seed, as_of=args.as_of or dt.date.today()
    )
    path = write_synthetic_registrations(frame, args.out)
    print(f"Wrote {len(frame):,} SYNTHETIC registrations for {run.authority_name} to {path}")
    return 0


def _add_reach_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``planning reach``."""
    p = sub.add_parser("reach", help="reach from a registration extract, with disclosure control")
    _common_options(p)
    p.add_argument(
        "--registrations",
        type=Path,
        required=True,
        help="registration extract CSV (format: planning.runs.reach module docs)",
    )
    p.add_argument("--out", type=Path, required=True, help="output folder")
    _force_option(p)
    p.add_argument(
        "--threshold",
        type=int,
        default=5,
        help="smallest publishable count (default 5; at least 3)",
    )
    p.add_argument(
        "--sustained-contacts",
        type=_positive_int,
        default=3,
        help="contacts in 12 months that count as sustained engagement (default 3)",
    )
    p.add_argument(
        "--as-of", type=_iso_date, default=None, help="extract date YYYY-MM-DD (default today)"
    )
    p.set_defaults(func=_reach)


def _add_target_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``planning target``."""
    p = sub.add_parser("target", help="targeting gains, outreach allocation, targeting model")
    _common_options(p)
    p.add_argument(
        "--registrations",
        type=Path,
        default=None,
        help="registration extract CSV: fits and evaluates the targeting model",
    )
    p.add_argument("--out", type=Path, required=True, help="output folder")
    _force_option(p)
    p.add_argument(
        "--outreach-hours",
        type=float,
        default=2000.0,
        help="outreach hours to allocate (default 2000)",
    )
    p.add_argument(
        "--families-per-hour",
        type=float,
        default=0.25,
        help="families contacted per outreach hour (default 0.25)",
    )
    p.add_argument(
        "--target",
        choices=["shortfall", "unmet_need"],
        default="shortfall",
        help="what the model predicts (default shortfall: reach below the good benchmark, from "
        "registrations and under-5s only)",
    )
    p.add_argument(
        "--as-of", type=_iso_date, default=None, help="extract date YYYY-MM-DD (default today)"
    )
    p.set_defaults(func=_target)


def _add_synthetic_registrations_parser(
    sub: argparse._SubParsersAction[argparse.ArgumentParser],
) -> None:
    """Add ``planning synthetic-registrations``."""
    p = sub.add_parser(
        "synthetic-registrations", help="write a SYNTHETIC registration extract for demos and tests"
    )
    _common_options(p)
    p.add_argument(
        "--out",
        type=Path,
        required=True,
        help="CSV file to write; its name must contain 'synthetic'",
    )
    p.add_argument(
        "--seed",
        type=int,
        default=settings.RANDOM_SEED,
        help=f"random seed: the same seed gives the same extract (default {settings.RANDOM_SEED})",
    )
    p.add_argument(
        "--as-of", type=_iso_date, default=None, help="extract date YYYY-MM-DD (default today)"
    )
    p.set_defaults(func=_synthetic_registrations)
