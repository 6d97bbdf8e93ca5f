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

This module holds ``main`` (the one error style: ``error: ...``, exit 2) and the top-level
parser. Each sub-command's parser and handler are in a module by command group:
``cli_assess`` (sufficiency, scenario, optimise), ``cli_report`` (report), ``cli_reach`` (reach,
target, synthetic-registrations) and ``cli_tools`` (authorities, centres import, dashboard,
standards, schema); the options and checks they share are in ``cli_common``.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from typing import NoReturn, cast

from planning._errors import PlanningError
from planning.apps.cli_assess import (
    _add_optimise_parser,
    _add_scenario_parser,
    _add_sufficiency_parser,
)
from planning.apps.cli_reach import (
    _add_reach_parser,
    _add_synthetic_registrations_parser,
    _add_target_parser,
)
from planning.apps.cli_report import _add_report_parser
from planning.apps.cli_tools import (
    _add_authorities_parser,
    _add_centres_parser,
    _add_dashboard_parser,
    _add_schema_parser,
    _add_standards_parser,
)

__all__ = ["build_parser", "main"]


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
