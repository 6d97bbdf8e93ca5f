"""``planning sufficiency``, ``scenario`` and ``optimise``: assess a network, and compare a
what-if or a chosen network with it.

Their parsers and handlers are here, with the options only they take (neighbours, ``--draws``);
the shared options and checks are in ``cli_common``, ``planning report`` in ``cli_report`` and
``main`` in ``cli``.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from planning._highs import quiet_banner
from planning.apps.cli_common import (
    _check_out,
    _common_options,
    _force_option,
    _network_option,
    _positive_int,
    _run,
)


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
    quiet_banner()
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
    quiet_banner()
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
