"""``planning authorities``, ``centres import``, ``dashboard``, ``standards`` and ``schema``: the
tools around the analysis (list, import, serve, print or write a file), with their parsers and
handlers and ``_write_text_file``, which writes the one file ``standards``/``schema`` are given.

The shared argument types are in ``cli_common``; ``main`` is in ``cli``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from planning.apps.cli_common import _iso_date, _positive_int


def _authorities(args: argparse.Namespace) -> int:
    from planning.inputs.areas import list_authorities

    table = list_authorities()
    print(f"{'code':<10} {'under-5s':>9} {'LSOAs':>6}  name")
    for row in table.itertuples():
        print(f"{row.code:<10} {row.under5:>9,} {row.lsoa_count:>6}  {row.name}")
    print(f"{len(table)} English upper-tier authorities (counties and unitaries).")
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


def _add_authorities_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``planning authorities``."""
    p = sub.add_parser("authorities", help="list the authorities that can be loaded")
    p.set_defaults(func=_authorities)


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
