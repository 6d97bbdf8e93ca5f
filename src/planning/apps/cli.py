"""The ``planning`` command.

planning authorities
planning sufficiency --authority CODE|NAME [--centres FILE] [--standards FILE] --out DIR
planning report --authority CODE|NAME [--centres FILE] [--standards FILE] [--out ROOT] [--pdf]
planning report --schedule FILE [--workers N] [--executor process|dask] [--dask ADDRESS]
    [--date YYYY-MM-DD] [--out ROOT]
planning reach --authority CODE|NAME --registrations FILE [--centres FILE] --out DIR
planning target --authority CODE|NAME [--registrations FILE] [--centres FILE] --out DIR
planning synthetic-registrations --authority CODE|NAME --out FILE [--seed N]
planning dashboard [--port 8866] [--ip 127.0.0.1] [--base-url /] [--preheat N] [--max-kernels N]
planning centres import --gias FILE --authority CODE|NAME|LA-NUMBER --out FILE.csv [--force]
planning standards [--write FILE] [--force]
planning schema standards|scenario|schedule|uncertainty [--out FILE] [--force]
planning optimise --objective coverage|median|cover-all [--p N] ... --out DIR
planning scenario --scenario FILE ... --out DIR

Commands that write a folder (sufficiency, scenario, optimise, reach, target, report) take
--force to replace a folder holding files the tool did not write.
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import os
import sys
from collections.abc import Sequence
from contextlib import nullcontext
from pathlib import Path
from typing import Any, NoReturn, cast

from planning import settings
from planning._errors import PlanningError


def _check_centres(args: argparse.Namespace) -> None:
    """A ``--centres`` that is not there, worded for the command line (the library's message
    offers Python's ``centres=None``, which is no option here: leaving it out is)."""
    from planning._errors import ValidationError

    centres = getattr(args, "centres", None)
    if centres is not None and not centres.exists():
        raise ValidationError(
            f"--centres {centres}: no such file; give the path of a CSV, GeoJSON or GeoPackage "
            "centres file (format in planning/data/centres/README.md), or leave out --centres "
            "for the authority's illustrative sites"
        )


def _check_out(args: argparse.Namespace, *inputs: Path | None) -> None:
    """Refuse an unusable ``--out`` before any work is done (it is checked again on writing)."""
    from planning._files import check_output_folder

    _check_centres(args)

    files = [
        args.centres,
        args.standards,
        getattr(args, "registrations", None),
        getattr(args, "neighbour_centres", None),
        *inputs,
    ]
    check_output_folder(args.out, inputs=files, force=args.force)


def _authorities(args: argparse.Namespace) -> int:
    from planning.inputs.areas import list_authorities

    table = list_authorities()
    print(f"{'code':<10} {'under-5s':>9} {'LSOAs':>6}  name")
    for row in table.itertuples():
        print(f"{row.code:<10} {row.under5:>9,} {row.lsoa_count:>6}  {row.name}")
    print(f"{len(table)} English upper-tier authorities (counties and unitaries).")
    return 0


def _sufficiency(args: argparse.Namespace) -> int:
    from planning.runs.sufficiency import write_sufficiency_outputs

    _check_out(args)
    run = _run(args)
    uncertainty = None
    if args.draws:
        from planning.analysis.uncertainty import verdict_text
        from planning.runs.sufficiency import run_uncertainty

        uncertainty = run_uncertainty(run, draws=args.draws, model=args.uncertainty, seed=args.seed)
    out = write_sufficiency_outputs(run, args.out, force=args.force, uncertainty=uncertainty)
    figures = run.result.authority
    print(f"{run.authority_name} ({run.authority_code}): {figures['rag']}")
    for reason in figures["reasons"]:
        print(f"  {reason}")
    if uncertainty is not None:
        table = uncertainty.table
        for _, row in table[table["level"] != "centre"].iterrows():
            label = "Authority" if row["level"] == "authority" else row["name"]
            robust = "robust" if row["robust"] else "fragile"
            print(f"  {label}: {verdict_text(row)} ({robust}, {uncertainty.draws:,} draws)")
    if run.services is not None:
        from planning.analysis.services import summary_lines

        for line in summary_lines(run.services, reach_km=run.result.standards.reach_km):
            print(line)
    for note in run.result.notes:
        print(f"Note: {note}")
    written = "areas.csv, centres.csv, localities.csv, wards.csv, areas.gpkg, summary.json"
    if uncertainty is not None:
        written += ", uncertainty.csv"
    if run.services is not None:
        written += (
            ", services.csv, services_matrix.csv, services_sites.csv, hub_links.csv, "
            "services_distances.csv, services_localities.csv"
        )
    if run.result.distances is not None:
        written += ", network_by_band.csv"
    print(f"Wrote {out}/ ({written})")
    if run.result.distances is not None:
        print(
            "  network_by_band.csv: reach in a straight line and along the network by "
            "deprivation band; areas.csv has snap_m, network_ratio and barrier"
        )
    return 0


def _place_service(args: argparse.Namespace, run: Any, candidates: Any) -> int:
    """``planning optimise --service NAME --p N``: where to add one service."""
    from planning._errors import ValidationError
    from planning._files import atomic_directory, write_json
    from planning.analysis.service_placement import place_service
    from planning.runs.sufficiency import run_input_files

    if args.p is None:
        raise ValidationError("--service needs --p N: the number of sites to add it at")
    _quiet_solver_banner()
    result = run.result
    sites = result.supply if result.supply is not None else result.centres
    placement = place_service(
        result.areas,
        sites,
        service=args.service,
        p=args.p,
        standards=result.standards,
        candidates=candidates,
        distances=result.distances,
    )
    names = sites["name"].astype(str)
    if candidates is not None:
        names = _with_candidate_names(names, candidates)
    lines = placement.lines(names)
    inputs = [*run_input_files(run.inputs), *([str(args.candidates)] if args.candidates else [])]
    with atomic_directory(args.out, inputs=inputs, force=args.force, kind="optimise") as staging:
        write_json(
            staging / "summary.json",
            {
                "authority": {"code": run.authority_code, "name": run.authority_name},
                "service": placement.service,
                "label": placement.label,
                "p": args.p,
                "chosen": placement.chosen,
                "ages_label": placement.ages_label,
                "children": placement.children,
                "covered_before": placement.covered_before,
                "covered_after": placement.covered_after,
                "status": placement.status,
                "summary": lines,
                "notes": result.notes,
                "inputs": run.inputs,
            },
        )
    print(f"{run.authority_name}: where to add {placement.label} ({placement.status})")
    for line in lines:
        print(f"  {line}")
    print(f"Wrote {Path(args.out).resolve()}/")
    return 0


def _with_candidate_names(names: Any, candidates: Any) -> Any:
    """Site names with the candidates' names (ids as names where a candidate has none)."""
    import pandas as pd

    extra = candidates["name"].astype(str) if "name" in candidates else candidates.index.to_series()
    return pd.concat([names, extra])


def _network_changes(current: Any, chosen: Any) -> list[str]:
    """The centres the chosen network closes and opens, by id and name."""
    now, then = set(map(str, current.index)), set(map(str, chosen.index))

    def named(frame: Any, ids: set[str]) -> str:
        rows = [(str(i), str(n)) for i, n in zip(frame.index, frame["name"]) if str(i) in ids]
        return "; ".join(f"{i} {n}" for i, n in rows) or "none"

    return [
        f"Closes {len(now - then)}: {named(current, now - then)}",
        f"Opens {len(then - now)}: {named(chosen, then - now)}",
    ]


def _headline_lines(comparison: Any) -> list[str]:
    """Before -> after for the figures a planner looks at first (from the comparison table)."""
    from planning._format import count, share

    lines = []
    for key in (
        "centres",
        "share_within_reach",
        "share_deprived_within_reach",
        "under5_per_centre",
    ):
        label, kind = _comparison_labels(comparison)[key]
        row = comparison.headline.loc[label]
        shown = share if kind == "share" else count
        lines.append(f"{label}: {shown(row['before'])} -> {shown(row['after'])}")
    return lines


def _comparison_labels(comparison: Any) -> dict[str, tuple[str, str]]:
    from planning.analysis.scenarios import headlines

    return headlines(comparison.before.standards)


def _quiet_solver_banner() -> None:
    """HiGHS writes a banner to the process's stdout when the first solver is made, before
    its output can be turned off; make that first one with stdout closed."""
    try:
        import highspy
    except ImportError:  # pragma: no cover - a dependency; the solve then says what is missing
        return
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 1)
            highspy.Highs()
    finally:
        os.dup2(saved, 1)
        os.close(saved)


def _print_comparison(comparison: Any) -> None:
    for line in comparison.summary_lines():
        print(f"  {line}")


def _scenario(args: argparse.Namespace) -> int:
    from planning.analysis.scenarios import ScenarioEngine, load_scenario
    from planning.runs.sufficiency import write_comparison_outputs

    _check_out(args, args.scenario)
    scenario = load_scenario(args.scenario)
    run = _run(args)
    engine = ScenarioEngine.from_result(run.result, area_candidates=False)
    comparison = engine.compare(scenario)
    from planning._files import file_sha256, input_label

    extra = {
        "authority": {"code": run.authority_code, "name": run.authority_name},
        "inputs": run.inputs
        | {
            "scenario_file": input_label(args.scenario),
            "scenario_sha256": file_sha256(args.scenario),
        },
        "notes": run.result.notes,
        # what the scenario changes in the standards, so a reader of the file alone sees it
        "standards_changed": comparison.standards_changed,
    }
    sure = None
    if args.draws:
        from planning.runs.sufficiency import run_scenario_uncertainty

        sure = run_scenario_uncertainty(
            run, comparison.after, draws=args.draws, model=args.uncertainty, seed=args.seed
        )
    service_table: Any = None
    service_lines: list[str] = []
    if run.services is not None:
        from planning.analysis.services import compare_scenario_services

        service_table, service_lines = compare_scenario_services(
            comparison, vocabulary=run.services.vocabulary
        )
        extra["services"] = {"ages_label": run.services.ages_label, "summary": service_lines}
    out = write_comparison_outputs(
        comparison,
        args.out,
        extra=extra,
        force=args.force,
        uncertainty=sure,
        services=service_table,
    )
    print(f"{run.authority_name}: scenario '{scenario.name}'")
    _print_comparison(comparison)
    for line in service_lines:
        print(f"  {line}")
    if sure is not None:
        from planning._format import whole_share

        for _, row in sure.iterrows():
            if row["p_worse"] > 0 or row["p_better"] > 0:
                label = "Authority" if row["level"] == "authority" else row["name"]
                print(
                    f"  {label}: worse in {whole_share(row['p_worse'])} of {args.draws:,} "
                    f"draws, better in {whole_share(row['p_better'])}; green to amber or red "
                    f"in {whole_share(row['p_green_to_amber_or_red'])}"
                )
    print(f"Wrote {out}/")
    return 0


def _optimise(args: argparse.Namespace) -> int:
    from planning.analysis.allocation import optimise
    from planning.inputs.centres import read_centres
    from planning.runs.sufficiency import write_comparison_outputs

    _check_out(args, args.candidates)
    run = _run(args)
    candidates = read_centres(args.candidates, areas=run.result.areas) if args.candidates else None
    if getattr(args, "service", None):
        return _place_service(args, run, candidates)
    _quiet_solver_banner()
    result = optimise(
        run.result.areas,
        run.result.supply,
        neighbours=run.result.neighbour_areas,
        objective=args.objective,
        p=args.p,
        standards=run.result.standards,
        candidates=candidates,
        lock_existing=args.lock_existing,
        max_closures=args.max_closures,
        min_deprived_share=args.min_deprived_share,
        load_bands=args.load_bands,
        weight=args.weight,
        distances=run.result.distances,
    )
    model = result.model
    extra = {
        "authority": {"code": run.authority_code, "name": run.authority_name},
        "model": {
            "objective": args.objective,
            "p": args.p,
            "weight": args.weight,
            "lock_existing": args.lock_existing,
            "max_closures": args.max_closures,
            "min_deprived_share": args.min_deprived_share,
            "load_bands": args.load_bands,
            "sites_chosen": len(model.selected_),
            "objective_value": model.objective_value_,
            "covered_share": model.covered_share_,
            "candidates": int((~result.sites["neighbour"].astype(bool)).sum()),
            "neighbour_centres_kept_open": int(result.sites["neighbour"].astype(bool).sum()),
            "solver": "HiGHS via scipy.optimize.milp (sparse)",
            "solve_seconds": model.solve_seconds_,
            "optimality_gap": model.gap_,
            # With load bands: each chosen site's under-5s as the band was solved (the tables
            # give the nearest-centre loads, which can fall outside the band).
            "loads_as_solved": (
                result.chosen["under5_assigned"].round(1).to_dict() if args.load_bands else None
            ),
        },
        "inputs": run.inputs
        | ({"candidates_file": str(args.candidates)} if args.candidates else {}),
        "notes": run.result.notes,
    }
    out = write_comparison_outputs(result.comparison, args.out, extra=extra, force=args.force)
    print(
        f"{run.authority_name}: {args.objective} chose {len(model.selected_)} of "
        f"{int((~result.sites['neighbour'].astype(bool)).sum())} candidate sites in "
        f"{model.solve_seconds_:.2f} s"
    )
    if args.objective == "cover-all":
        print(
            "  cover-all finds the fewest sites that put every small area within reach; "
            + (
                f"--p {args.p} is a maximum, not a target ({len(model.selected_)} are enough)."
                if args.p is not None
                else "--p, if given, is a maximum."
            )
        )
    council = run.result.centres[~run.result.centres["neighbour"].astype(bool)]
    for line in _network_changes(council, result.chosen):
        print(f"  {line}")
    for line in _headline_lines(result.comparison):
        print(f"  {line}")
    _print_comparison(result.comparison)
    print(f"Wrote {out}/ (scenario_centres.csv is the chosen network, usable with --centres)")
    return 0


def _dashboard(args: argparse.Namespace) -> int:
    from planning._errors import ValidationError
    from planning.apps.dashboard.server import serve

    if args.cull_connected_timeout < 0:
        raise ValidationError(
            f"--cull-connected-timeout {args.cull_connected_timeout}: give seconds, or 0 to "
            "keep the kernel of an open page for as long as the page stays open"
        )
    return serve(port=args.port, ip=args.ip, base_url=args.base_url, preheat=args.preheat,
                 max_kernels=args.max_kernels, cull_idle_timeout=args.cull_idle_timeout,
                 cull_connected_timeout=args.cull_connected_timeout,
                 network=args.network)  # fmt: skip


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


def _centres_import(args: argparse.Namespace) -> int:
    import os
    import tempfile

    from planning._errors import ValidationError
    from planning._files import shipped_folder
    from planning.inputs.centres import write_centres
    from planning.inputs.gias import DEFAULT_STATUSES, import_gias

    out, gias = args.out.expanduser().resolve(), args.gias.expanduser().resolve()
    if out.suffix.lower() != ".csv":
        raise ValidationError(f"--out {args.out}: give a file name ending in .csv")
    if out == gias:
        raise ValidationError(
            f"--out {args.out} is the GIAS extract being read; give another file name"
        )
    if out.is_dir():
        raise ValidationError(f"--out {args.out} is a folder; give a file name such as centres.csv")
    if out.exists():
        shipped = shipped_folder(out)
        if shipped is not None:
            raise ValidationError(
                f"--out {args.out} is a file inside {shipped[1]}; write the import elsewhere"
            )
        if not args.force:
            raise ValidationError(
                f"--out {args.out} already exists and this command did not create it; give "
                "another file name, or --force to replace it"
            )
    result = import_gias(
        args.gias,
        authority=args.authority,
        statuses=args.status or DEFAULT_STATUSES,
        extract_date=args.extract_date,
    )
    for line in result.summary_lines():
        print(line)
    if len(result.centres) == 0:
        raise ValidationError(
            f"{args.gias.name}: no children's centre was kept, so nothing was written; see the "
            "reasons above (check --authority and --status)"
        )
    out.parent.mkdir(parents=True, exist_ok=True)
    # Write beside the target and rename, so a failed write never leaves half a file behind.
    handle, staging = tempfile.mkstemp(prefix=f".{out.stem}.", suffix=".partial.csv",
                                       dir=out.parent)  # fmt: skip
    os.close(handle)
    try:
        write_centres(result.centres, staging)
        os.replace(staging, out)
    finally:
        Path(staging).unlink(missing_ok=True)
    print(f"Wrote {len(result.centres):,} centres to {args.out} (use it with --centres)")
    return 0


def _schema(args: argparse.Namespace) -> int:
    """Print (or write) the JSON Schema of a YAML format, for editors that validate as you type."""
    import json

    if args.format == "standards":
        from planning.standards import standards_json_schema as published
    elif args.format == "scenario":
        from planning.analysis.scenarios import scenario_json_schema as published
    elif args.format == "uncertainty":
        from planning.uncertainty_model import uncertainty_json_schema as published
    else:
        from planning.outputs.schedule_file import schedule_json_schema as published
    text = json.dumps(published(), indent=2, ensure_ascii=False) + "\n"
    if args.out is None:
        sys.stdout.write(text)
        return 0
    _write_text_file(text, args.out, "--out", f"{args.format}.schema.json", force=args.force)
    print(f"Wrote the {args.format} schema to {args.out}")
    return 0


def _write_text_file(text: str, path: Path, option: str, example: str, *, force: bool) -> None:
    """Write ``text`` to the file an option names: never onto a folder, and never over an
    existing file unless ``--force``."""
    from planning._errors import ValidationError

    out = path.expanduser()
    if out.is_dir():
        raise ValidationError(f"{option} {path} is a folder; give a file name such as {example}")
    if out.exists() and not force:
        raise ValidationError(
            f"{option} {path} already exists; give another file name, or --force to replace it"
        )
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")


def _standards(args: argparse.Namespace) -> int:
    """Print the packaged standards file, or write a copy to edit and pass as --standards."""
    from importlib import resources

    from planning.standards import DEFAULT_STANDARDS_FILE, example_standards_path

    text = resources.files("planning").joinpath(DEFAULT_STANDARDS_FILE).read_text("utf-8")
    what = "the default standards"
    if getattr(args, "example", None):
        example = example_standards_path(args.example)
        assert example is not None  # argparse choices
        text, what = example.read_text("utf-8"), f"the {args.example} example standards"
    if args.write is None:
        sys.stdout.write(text)
        return 0
    _write_text_file(text, args.write, "--write", "my_standards.yaml", force=args.force)
    print(f"Wrote {what} to {args.write}: edit it, then pass --standards {args.write}")
    return 0


def _force_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--force",
        action="store_true",
        help="replace an output folder even if it holds files this tool did not write "
        "(never the current, home, data or package folder, nor one holding an input)",
    )


def _standards_path(text: str) -> Path:
    """``--standards``: the file given, or the shipped example of that name when no such file
    exists here (``family_hubs.yaml``; see ``planning standards --example``)."""
    from planning.standards import standards_file

    return standards_file(text)


def _common_options(p: argparse.ArgumentParser, *, layer: bool = True) -> None:
    """Add the authority, centres and standards options that the analysis commands share."""
    p.add_argument(
        "--authority",
        default=settings.DEFAULT_AUTHORITY,
        help="upper-tier authority code or name (default: Derby, E06000015)",
    )
    p.add_argument(
        "--centres",
        type=Path,
        default=None,
        help="centres file (CSV, GeoJSON, GPKG); default: illustrative sites for the authority",
    )
    p.add_argument(
        "--standards",
        type=_standards_path,
        default=None,
        help="standards YAML file (default: the packaged standards; "
        "`planning standards --write FILE` writes a copy to edit; a shipped example such as "
        "family_hubs.yaml is found by name)",
    )
    if layer:
        p.add_argument(
            "--layer",
            default=None,
            help="the layer of a GeoPackage centres file that holds the centres",
        )


def _neighbour_options(p: argparse.ArgumentParser) -> None:
    """Add the cross-boundary options: other authorities' centres, or none (an island)."""
    p.add_argument(
        "--neighbour-centres",
        type=Path,
        default=None,
        help="other authorities' centres near the boundary: a centres file (CSV, GeoJSON, GPKG) "
        "or a DfE GIAS extract, national or not (default: the illustrative national network)",
    )
    p.add_argument(
        "--island",
        action="store_true",
        help="assess the authority as an island: no neighbouring areas or centres (for "
        "comparison only; families near a boundary use the nearest centre, whoever runs it)",
    )


def _network_option(p: argparse.ArgumentParser) -> None:
    """Add ``--network``: distances along a street network the council supplies."""
    p.add_argument(
        "--network",
        type=Path,
        default=None,
        help="street network file (an OpenStreetMap .osm.pbf extract, or GraphML): distances "
        "are walked along it instead of the straight line x circuity; the built graph is "
        "cached next to the file (or in the user cache folder if that folder is read-only)",
    )


def _run(args: argparse.Namespace) -> Any:
    """The sufficiency run the analysis commands start from (with neighbours unless --island)."""
    from planning.runs.sufficiency import run_sufficiency

    return run_sufficiency(
        args.authority,
        centres=args.centres,
        standards=args.standards,
        layer=getattr(args, "layer", None),
        neighbour_centres=getattr(args, "neighbour_centres", None),
        cross_boundary=not getattr(args, "island", False),
        network=getattr(args, "network", None),
    )


def _add_authorities_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``planning authorities``."""
    p = sub.add_parser("authorities", help="list the authorities that can be loaded")
    p.set_defaults(func=_authorities)


def _add_scenario_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``planning scenario``."""
    p = sub.add_parser("scenario", help="compare a what-if scenario with the current network")
    _common_options(p)
    _neighbour_options(p)
    p.add_argument("--scenario", type=Path, required=True, help="scenario YAML file")
    _draws_options(p)
    p.add_argument("--out", type=Path, required=True, help="output folder")
    _network_option(p)
    _force_option(p)
    p.set_defaults(func=_scenario)


def _add_optimise_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``planning optimise``."""
    p = sub.add_parser("optimise", help="choose sites by location-allocation")
    _common_options(p)
    _neighbour_options(p)
    p.add_argument(
        "--p",
        type=_positive_int,
        default=None,
        help="number of sites: required for coverage and median; for cover-all a maximum",
    )
    p.add_argument(
        "--objective",
        choices=["coverage", "median", "cover-all"],
        default="coverage",
        help="coverage: most demand within reach with p sites; median: least total distance "
        "with p sites; cover-all: fewest sites with every area within reach (default coverage)",
    )
    p.add_argument(
        "--candidates",
        type=Path,
        default=None,
        help="extra candidate sites (centres-file format), e.g. schools",
    )
    p.add_argument("--lock-existing", action="store_true", help="keep every current centre")
    p.add_argument("--max-closures", type=int, default=None, help="close at most N centres")
    p.add_argument(
        "--min-deprived-share",
        type=float,
        default=None,
        help="share of under-5s in the most deprived areas (the standards' most_deprived_deciles; "
        "default the 30%% most deprived) that must be in reach",
    )
    p.add_argument(
        "--load-bands",
        action="store_true",
        help="keep each site's under-5s within the standards' load band",
    )
    p.add_argument(
        "--weight",
        choices=["need_weighted", "under5", "under5_income_deprived"],
        default="need_weighted",
        help="demand weight (default: need_weighted)",
    )
    p.add_argument(
        "--service",
        default=None,
        metavar="NAME",
        help="instead: choose --p sites at which to add this service (e.g. 'infant feeding') so "
        "the most children in the standards' age range come within reach of it; candidates are "
        "the council's sites without it, plus --candidates",
    )
    p.add_argument("--out", type=Path, required=True, help="output folder")
    _network_option(p)
    _force_option(p)
    p.set_defaults(func=_optimise)


def _add_sufficiency_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``planning sufficiency``."""
    p = sub.add_parser("sufficiency", help="assess sufficiency and write tables")
    _common_options(p)
    _neighbour_options(p)
    _draws_options(p)
    p.add_argument("--out", type=Path, required=True, help="output folder")
    _network_option(p)
    _force_option(p)
    p.set_defaults(func=_sufficiency)


def _draws_options(p: argparse.ArgumentParser) -> None:
    """``--draws``, ``--uncertainty`` and ``--seed`` (README: "How sure are we?")."""
    p.add_argument(
        "--draws",
        type=_positive_int,
        default=None,
        help="how sure are we: draw N plausible sets of inputs from the uncertainty model and "
        "write uncertainty.csv (the probability of each verdict; 1000 is a good N)",
    )
    p.add_argument(
        "--uncertainty",
        type=Path,
        default=None,
        help="uncertainty model YAML for --draws (default: the packaged uncertainty.yaml)",
    )
    p.add_argument(
        "--seed", type=int, default=None, help="random seed for --draws (default: fixed)"
    )


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


def _add_centres_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``planning centres`` and its one sub-command, ``import`` (from a GIAS extract)."""
    p = sub.add_parser("centres", help="work with centres files")
    centres_sub = p.add_subparsers(dest="centres_command", required=True)
    p = centres_sub.add_parser(
        "import",
        help="make a centres file from a DfE GIAS all-establishments extract",
        description="Keep the children's centres and linked sites of one authority from a "
        "'Get Information about Schools' extract (CSV, Windows-1252 or UTF-8) and write them "
        "as a centres file. Prints how many rows were kept and dropped, and why.",
    )
    p.add_argument(
        "--gias",
        type=Path,
        required=True,
        help="GIAS all-establishments CSV, e.g. edubasealldata20250117.csv",
    )
    p.add_argument(
        "--authority",
        required=True,
        help="ONS code or name (matched on 'LA (name)'), or the DfE three-digit LA "
        "number in 'LA (code)', e.g. E06000015, Derby or 831",
    )
    p.add_argument("--out", type=Path, required=True, help="centres CSV to write")
    p.add_argument(
        "--status",
        action="append",
        default=None,
        metavar="STATUS",
        help="establishment status to keep, repeatable (name or GIAS code); default "
        "'Open' and 'Open, but proposed to close' (flagged in source)",
    )
    p.add_argument(
        "--extract-date",
        type=_iso_date,
        default=None,
        help="date of the extract YYYY-MM-DD (default: from the file name)",
    )
    p.add_argument(
        "--force", action="store_true", help="replace --out if it exists (never the extract itself)"
    )
    p.set_defaults(func=_centres_import)


def _add_dashboard_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``planning dashboard``: the Voila server options."""
    p = sub.add_parser("dashboard", help="serve the councillors' dashboard with Voila")
    p.add_argument("--port", type=_positive_int, default=8866, help="port (default 8866)")
    p.add_argument(
        "--network",
        type=Path,
        default=None,
        help="street network (OpenStreetMap .osm.pbf or GraphML) to walk distances along "
        "(default: none, straight lines x the standards' circuity)",
    )
    p.add_argument(
        "--ip",
        default="127.0.0.1",
        help="address to listen on (default 127.0.0.1; put a reverse proxy in front)",
    )
    p.add_argument(
        "--base-url",
        default="/",
        help="path prefix the reverse proxy serves it under, e.g. /dashboard/ (default /)",
    )
    p.add_argument(
        "--preheat",
        type=int,
        default=1,
        help="kernels kept ready with the dashboard built (default 1; 0 for none)",
    )
    p.add_argument(
        "--max-kernels",
        type=_positive_int,
        default=10,
        help="pages served at once, each with its own kernel of about 235 MB; beyond "
        "it a 'busy, try again in a minute' page (default 10)",
    )
    p.add_argument(
        "--cull-idle-timeout",
        type=_positive_int,
        default=120,
        help="seconds before an idle kernel with no page connected is shut down (default 120)",
    )
    p.add_argument(
        "--cull-connected-timeout",
        type=int,
        default=3600,
        help="seconds before an idle kernel is shut down even with its page open "
        "(default 3600; 0 for never)",
    )
    p.set_defaults(func=_dashboard)


def _add_standards_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``planning standards``."""
    p = sub.add_parser(
        "standards",
        help="print the default standards file, or write a copy to edit (--write FILE)",
        description="The default standards (reach distance, load range, verdict thresholds, "
        "need index), commented with their sources. Write a copy, edit it and pass it to any "
        "command as --standards FILE; keys left out keep their default.",
    )
    p.add_argument(
        "--write",
        type=Path,
        default=None,
        metavar="FILE",
        help="write the standards to FILE instead of printing them",
    )
    p.add_argument("--force", action="store_true", help="replace FILE if it exists")
    from planning.standards import EXAMPLE_STANDARDS

    p.add_argument(
        "--example",
        choices=sorted(EXAMPLE_STANDARDS),
        default=None,
        help="a shipped example instead of the defaults: "
        + "; ".join(f"{k}: {v}" for k, v in EXAMPLE_STANDARDS.items()),
    )
    p.set_defaults(func=_standards)


def _add_schema_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``planning schema``."""
    p = sub.add_parser(
        "schema",
        help="print the JSON Schema of a YAML file format, for editors",
        description="Print the JSON Schema of the standards, scenario or schedule YAML format, "
        "so that an editor can check a file as it is typed: save it with --out and start the "
        "YAML file with '# yaml-language-server: $schema=<that file>' (VS Code's YAML extension).",
    )
    p.add_argument(
        "format",
        choices=["standards", "scenario", "schedule", "uncertainty"],
        help="which file format",
    )
    p.add_argument(
        "--out",
        type=Path,
        default=None,
        help="write the schema to this file instead of printing it",
    )
    p.add_argument("--force", action="store_true", help="replace --out if it exists")
    p.set_defaults(func=_schema)


class _Parser(argparse.ArgumentParser):
    """argparse with the workbench's one error style: ``error: ...`` and the fix, exit 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"error: {self.prog}: {message}; `{self.prog} --help` lists the options\n")


def build_parser() -> argparse.ArgumentParser:
    """Build the ``planning`` argument parser, one helper per sub-command.

    The helpers are called in the order the sub-commands are listed in ``planning --help``.
    """
    parser = _Parser(
        prog="planning", description="Children's centre sufficiency planning workbench"
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress")
    # sub-commands are _Parser too (the one error style); typed as the plain class they extend
    sub = cast(
        "argparse._SubParsersAction[argparse.ArgumentParser]",
        parser.add_subparsers(dest="command", required=True),
    )
    for add in (
        _add_authorities_parser,
        _add_scenario_parser,
        _add_optimise_parser,
        _add_sufficiency_parser,
        _add_report_parser,
        _add_reach_parser,
        _add_target_parser,
        _add_synthetic_registrations_parser,
        _add_centres_parser,
        _add_dashboard_parser,
        _add_standards_parser,
        _add_schema_parser,
    ):
        add(sub)
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
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError, PermissionError) as exc:
        # A path the library did not check itself: one line naming it, never a traceback.
        where = f"{exc.filename}: " if exc.filename else ""
        what = (
            "is a folder, not a file; give the path of the file itself"
            if isinstance(exc, IsADirectoryError)
            else f"{exc.strerror or exc}; check the path"
        )
        print(f"error: {where}{what}", file=sys.stderr)
        return 2
    except UnicodeError as exc:
        print(
            f"error: a file could not be read as text ({exc}); save it as UTF-8",
            file=sys.stderr,
        )
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
