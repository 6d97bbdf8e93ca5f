"""What the ``planning`` sub-commands share: the authority, centres and standards options,
``--force``, argument types (dates, whole numbers), the checks of ``--centres`` and ``--out``
made before any work, and the sufficiency run the analysis commands start from.

The sub-commands themselves are in ``cli_assess``, ``cli_reach`` and ``cli_tools``;
``main`` and the top-level parser are in ``cli``.
"""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path
from typing import Any

from planning import settings


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


def _iso_date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a date such as 2026-04-01") from None


def _positive_int(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"'{text}' is not a whole number of at least 1")
    return int(text)


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
