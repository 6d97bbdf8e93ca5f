"""Checks on input frames, collected so that every problem is reported at once."""

from __future__ import annotations

import codecs
import logging
import math
import os
import re
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from planning._errors import CRSError, ValidationError

logger = logging.getLogger(__name__)


class Problems:
    """Collect problems about one input, then raise a single :class:`ValidationError`.

    Parameters
    ----------
    source : str
        What the input is called in messages, e.g. ``"centres.csv"`` or ``"areas"``.
    """

    def __init__(self, source: str) -> None:
        self.source = source
        self.messages: list[str] = []

    def add(self, message: str) -> None:
        self.messages.append(message)

    def __bool__(self) -> bool:
        return bool(self.messages)

    def raise_if_any(self, error: type[ValidationError] = ValidationError) -> None:
        if not self.messages:
            return
        if len(self.messages) == 1:
            raise error(f"{self.source}: {self.messages[0]}")
        lines = "\n".join(f"  - {m}" for m in self.messages)
        raise error(f"{self.source}: {len(self.messages)} problems:\n{lines}")


def rows_label(index: Iterable[object], limit: int = 5) -> str:
    """'rows 3, 7 and 9' style label for messages (1-based file rows are the caller's job)."""
    items = [str(i) for i in index]
    shown = items[:limit]
    more = f" and {len(items) - limit} more" if len(items) > limit else ""
    if len(shown) == 1:
        return shown[0] + more
    return ", ".join(shown[:-1]) + (f", {shown[-1]}" if more else f" and {shown[-1]}") + more


def require_columns(
    frame: pd.DataFrame, columns: Sequence[str], problems: Problems, *, hint: str = ""
) -> bool:
    """Add a problem for each missing column, suggesting a near match; True when all present."""
    import difflib

    missing = [c for c in columns if c not in frame.columns]
    for column in missing:
        close = difflib.get_close_matches(column, [str(c) for c in frame.columns], n=1)
        found = f" (found '{close[0]}': rename it to '{column}')" if close else ""
        problems.add(f"missing column '{column}'{found}{hint}")
    return not missing


def check_counts(frame: pd.DataFrame, columns: Sequence[str], problems: Problems) -> None:
    """Counts must be numeric, finite and non-negative."""
    for column in columns:
        if column not in frame.columns:
            continue
        values = pd.to_numeric(frame[column], errors="coerce")
        bad_type = values.isna() & frame[column].notna()
        if bad_type.any():
            problems.add(
                f"column '{column}' has non-numeric values in rows "
                f"{rows_label(frame.index[bad_type])}; give a number"
            )
        missing = frame[column].isna()
        if missing.any():
            problems.add(
                f"column '{column}' is empty in rows {rows_label(frame.index[missing])}; "
                "fill it (use 0 only if the true count is zero)"
            )
        negative = values < 0
        if negative.any():
            problems.add(
                f"column '{column}' has negative values in rows "
                f"{rows_label(frame.index[negative])}; counts cannot be negative"
            )
        infinite = np.isinf(values.to_numpy(dtype=float, na_value=np.nan))
        if infinite.any():
            problems.add(
                f"column '{column}' has infinite values in rows {rows_label(frame.index[infinite])}"
            )


def require_projected(frame: object, source: str) -> None:
    """Raise :class:`CRSError` unless the frame is in a projected CRS with metre units."""
    crs = getattr(frame, "crs", None)
    if crs is None:
        raise CRSError(
            f"{source}: no coordinate reference system is set; set it with "
            "`.set_crs(...)` and project to EPSG:27700 with `.to_crs('EPSG:27700')`"
        )
    if crs.is_geographic:
        raise CRSError(
            f"{source}: CRS {crs.to_string()} is geographic (degrees), so distances would be "
            "wrong; project it first with `.to_crs('EPSG:27700')`"
        )
    unit = crs.axis_info[0].unit_name if crs.axis_info else "metre"
    if unit not in ("metre", "meter"):
        raise CRSError(f"{source}: CRS {crs.to_string()} is in {unit}; use metres (EPSG:27700)")


def require_same_crs(areas: object, centres: object) -> None:
    """Raise :class:`CRSError` unless areas and centres share one coordinate reference system.

    Distances and the point-in-polygon test compare raw coordinates, so two frames in different
    systems would give silently wrong answers; the message names both and the fix.
    """
    area_crs = getattr(areas, "crs", None)
    centre_crs = getattr(centres, "crs", None)
    if area_crs is None or centre_crs is None:
        return  # require_projected reports a missing CRS with its own fix
    if not area_crs.equals(centre_crs):
        raise CRSError(
            f"areas are in {area_crs.to_string()} but centres are in {centre_crs.to_string()}; "
            "put both in one projected CRS first, e.g. `areas.to_crs('EPSG:27700')` and "
            "`centres.to_crs('EPSG:27700')`"
        )


def require_unique_index(frame: pd.DataFrame, what: str, problems: Problems) -> None:
    duplicated = frame.index[frame.index.duplicated()].unique()
    if len(duplicated):
        problems.add(f"duplicate {what} {rows_label(duplicated)}; each must appear once")


def require_non_empty(frame: pd.DataFrame, source: str, what: str) -> None:
    if len(frame) == 0:
        raise ValidationError(f"{source}: is empty; it must hold at least one {what}")


def header_key(column: object) -> str:
    """A column header as matched against known names: stripped, lower case, spaces and
    hyphens as underscores (so 'Centre ID' and 'centre-id' both match 'centre_id')."""
    import re

    return re.sub(r"[\s\-]+", "_", str(column).strip().lower())


def match_headers(
    headers: Sequence[object], aliases: Mapping[str, Sequence[str]]
) -> dict[str, str]:
    """Map each canonical column name to the file's header that matches one of its aliases.

    ``aliases`` maps a canonical name to accepted spellings (already in :func:`header_key`
    form), in order of preference; canonical names with no matching header are left out.
    """
    keys = {header_key(h): str(h) for h in headers}
    found: dict[str, str] = {}
    for canonical, spellings in aliases.items():
        for spelling in spellings:
            if spelling in keys:
                found[canonical] = keys[spelling]
                break
    return found


# --------------------------------------------------------------------------------------------
# Input files: one check that a path is a file, one way to find a text file's encoding

#: Byte-order marks and the codec that reads past them; UTF-32 before UTF-16 (same first bytes).
_BOMS: tuple[tuple[bytes, str, str], ...] = (
    (codecs.BOM_UTF32_LE, "utf-32", "UTF-32"),
    (codecs.BOM_UTF32_BE, "utf-32", "UTF-32"),
    (codecs.BOM_UTF8, "utf-8-sig", "UTF-8 with a byte-order mark"),
    (codecs.BOM_UTF16_LE, "utf-16", "UTF-16"),
    (codecs.BOM_UTF16_BE, "utf-16", "UTF-16"),
)
#: The first bytes of files that are not text at all, with what they are.
_BINARY_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"PK\x03\x04", "a ZIP archive (an Excel .xlsx or OpenDocument workbook?)"),
    (b"\xd0\xcf\x11\xe0", "an old Excel .xls workbook"),
    (b"SQLite format 3\x00", "a GeoPackage/SQLite database"),
    (b"%PDF", "a PDF"),
)
_SAVE_AS_UTF8 = (
    "save it as UTF-8 (a text editor: Save As with encoding UTF-8; Excel: Save As "
    "'CSV UTF-8 (Comma delimited)')"
)


def require_file(path: str | os.PathLike[str], what: str, *, suffixes: Sequence[str] = ()) -> Path:
    """``path`` as a :class:`~pathlib.Path` when it is an existing file; else a clear error.

    Parameters
    ----------
    path : path-like
        What the user gave.
    what : str
        What the file is, for the message, e.g. ``"standards file"``.
    suffixes : sequence of str
        Suffixes of the expected file (``(".yaml", ".yml")``): a folder's files with one of
        them are suggested.

    Raises
    ------
    ValidationError
        A folder where a file was expected (naming up to three files of the right kind in it),
        or nothing at the path.
    """
    path = Path(path)
    if path.is_dir():
        inside = sorted(
            p.name for p in path.iterdir() if p.is_file() and p.suffix.lower() in suffixes
        )
        hint = f"; it holds {rows_label(inside, limit=3)}" if inside else ""
        raise ValidationError(
            f"{path}: is a folder, not a {what}; give the path of the file itself{hint}"
        )
    if not path.is_file():
        raise ValidationError(f"{path}: {what} not found; check the path and the file name")
    return path


def _not_text(path: Path, label: str, head: bytes) -> None:
    """Raise for files whose first bytes show they are not text."""
    for signature, kind in _BINARY_SIGNATURES:
        if head.startswith(signature):
            raise ValidationError(f"{label}: is {kind}, not a text file; {_SAVE_AS_UTF8}")


def _utf8_error(path: Path) -> tuple[int, int, bytes] | None:
    """None when the whole file is UTF-8; else (line, byte offset, bad bytes) of the first error.

    Decoded incrementally, 1 MiB at a time, so a large extract is never held in memory.
    """
    decoder = codecs.getincrementaldecoder("utf-8")()
    line, offset = 1, 0
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            try:
                decoder.decode(block)
            except UnicodeDecodeError as error:
                # error.start counts from any bytes the decoder held back from the last block
                held = len(error.object) - len(block)
                start = max(error.start - held, 0)
                line += block[:start].count(b"\n")
                return line, offset + start, bytes(error.object[error.start : error.start + 1])
            line += block.count(b"\n")
            offset += len(block)
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return line, offset, b""
    return None


def _decodes_as(path: Path, encoding: str) -> bool:
    decoder = codecs.getincrementaldecoder(encoding)()
    try:
        with open(path, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                decoder.decode(block)
            decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def text_encoding(
    path: str | os.PathLike[str], *, label: str | None = None, windows_1252: bool = False
) -> str:
    """The codec to read a text file with: UTF-8, or what its byte-order mark says.

    Accepted: UTF-8 with or without a byte-order mark (BOM), UTF-16 and UTF-32 with a BOM (what
    Notepad calls "Unicode"), and, when ``windows_1252`` is true, Windows-1252 (what Excel's
    plain "CSV (Comma delimited)" and the DfE's GIAS extracts are written in), with a
    ``UserWarning`` saying so.

    Parameters
    ----------
    path : path-like
        An existing file (see :func:`require_file`).
    label : str, optional
        What to call the file in messages (default: its name).
    windows_1252 : bool
        Fall back to Windows-1252 when the file is not UTF-8 (CSV files).

    Returns
    -------
    str
        A Python codec name: ``"utf-8"``, ``"utf-8-sig"``, ``"utf-16"``, ``"utf-32"`` or
        ``"cp1252"``.

    Raises
    ------
    ValidationError
        Anything else (UTF-16 without a BOM, a spreadsheet or other binary file, text in another
        encoding), naming the file, the line and byte, and the fix: save it as UTF-8.
    """
    path = Path(path)
    label = label or path.name
    with open(path, "rb") as fh:
        head = fh.read(4096)
    for bom, codec, description in _BOMS:
        if head.startswith(bom):
            if not _decodes_as(path, codec):
                raise ValidationError(
                    f"{label}: starts with a byte-order mark ({description}) but is not valid "
                    f"text in that encoding; {_SAVE_AS_UTF8}"
                )
            if codec != "utf-8-sig":
                logger.info("%s: read as %s (byte-order mark)", label, description)
            return codec
    _not_text(path, label, head)
    problem = _utf8_error(path)
    if problem is None:
        return "utf-8"
    line, _offset, bad = problem
    if b"\x00" in head:
        raise ValidationError(
            f"{label}: looks like UTF-16 text without a byte-order mark (or is not a text file), "
            f"which cannot be read reliably; {_SAVE_AS_UTF8}"
        )
    if windows_1252 and _decodes_as(path, "cp1252"):
        # Excel's plain "CSV (Comma delimited)" writes Windows-1252, not UTF-8.
        warnings.warn(
            f"{label} is not UTF-8; read it as Windows-1252 (Excel's default). Save it as "
            "'CSV UTF-8' to be sure accented names are read correctly.",
            UserWarning,
            stacklevel=3,
        )
        return "cp1252"
    byte = f" (byte 0x{bad.hex().upper()})" if bad else ""
    accepted = "UTF-8 (or UTF-16 with a byte-order mark" + (
        ", or Windows-1252)" if windows_1252 else ")"
    )
    raise ValidationError(
        f"{label}: line {line} is not UTF-8{byte}; the file must be {accepted}: {_SAVE_AS_UTF8}"
    )


def read_text(
    path: str | os.PathLike[str],
    what: str,
    *,
    label: str | None = None,
    suffixes: Sequence[str] = (".yaml", ".yml"),
) -> str:
    """The text of a small input file (YAML, JSON), checked by :func:`require_file` and
    decoded with :func:`text_encoding` (Windows-1252 is refused: YAML is UTF-8 by definition).

    Raises
    ------
    ValidationError
        A folder or missing file, or text that is not UTF-8/UTF-16 with a BOM.
    """
    path = require_file(path, what, suffixes=suffixes)
    encoding = text_encoding(path, label=label or str(path))
    return path.read_text(encoding=encoding)


def csv_encoding(path: str | os.PathLike[str], *, label: str | None = None) -> str:
    """Encoding of a CSV file (:func:`text_encoding` with Windows-1252 allowed), after checking
    that its header row is comma-separated.

    A header row with semicolons (or tabs) and no comma is refused with a hint rather than read
    with another separator: spreadsheets that write semicolons also write decimal commas
    (``52,92``), which would be misread as numbers.

    Raises
    ------
    ValidationError
        As :func:`text_encoding`, or a semicolon- or tab-separated header row.
    """
    path = Path(path)
    label = label or path.name
    encoding = text_encoding(path, label=label, windows_1252=True)
    with open(path, encoding=encoding, newline="") as fh:
        header = fh.readline()
    if "," not in header:
        for separator, name in ((";", "semicolon"), ("\t", "tab")):
            if separator in header:
                raise ValidationError(
                    f"{label}: looks {name}-separated (the header row has '{separator}' but no "
                    "comma); save it as comma-separated CSV (Excel: 'CSV UTF-8 (Comma "
                    "delimited)', with a full stop as the decimal separator)"
                )
    return encoding


# --------------------------------------------------------------------------------------------
# Declared schemas (pydantic models of the YAML files) -> house-style messages


class Place(NamedTuple):
    """Where a schema error is, in the words of one file format.

    ``where`` prefixes the message (``"entry 2: "``, ``"action 1 (open): "`` or ``""``), ``key``
    names the key (``"reach.distance_km"``; ``""`` for the entry itself) and ``noun`` is what an
    unknown key is called there (``"key"``, ``"section"``, ``"action"``).
    """

    where: str
    key: str
    noun: str = "key"


def dotted(loc: Sequence[str | int]) -> str:
    """``('reach', 'distance_km')`` -> ``'reach.distance_km'``; list items count from 1."""
    parts: list[str] = []
    for part in loc:
        if isinstance(part, int):
            parts.append(f"item {part + 1}")
        else:
            parts.append(str(part))
    return ".".join(parts).replace(".item ", " item ")


def did_you_mean(word: object, choices: Iterable[str]) -> str:
    """``"; did you mean 'centres'?"`` for the closest choice (difflib), or ``""``."""
    import difflib

    close = difflib.get_close_matches(str(word), list(choices), n=1)
    return f"; did you mean '{close[0]}'?" if close else ""


def yaml_value(value: object) -> str:
    """How the user typed a value: ``.nan``/``.inf`` as YAML spells them, else ``repr``."""
    if isinstance(value, float) and math.isnan(value):
        return ".nan"
    if isinstance(value, float) and math.isinf(value):
        return ".inf" if value > 0 else "-.inf"
    return repr(value)


def _resolve(node: Any, root: dict[str, Any]) -> Any:
    """Follow ``$ref`` and pick the non-null branch of an ``anyOf`` (an optional value)."""
    for _ in range(20):
        if not isinstance(node, dict):
            return None
        if "$ref" in node:
            node = root.get("$defs", {}).get(str(node["$ref"]).rsplit("/", 1)[-1])
        elif "anyOf" in node:
            branches = [b for b in node["anyOf"] if b.get("type") != "null"]
            extra = {k: v for k, v in node.items() if k != "anyOf"}
            node = {**(branches[0] if branches else {}), **extra}
            node = {**(_resolve(node, root) or {}), **extra} if "$ref" in node else node
        else:
            return node
    return node


def schema_node(schema: dict[str, Any], loc: Sequence[str | int]) -> dict[str, Any] | None:
    """The part of a JSON Schema that describes the value at ``loc`` (a pydantic error location)."""
    node = _resolve(schema, schema)
    for part in loc:
        if node is None:
            return None
        if isinstance(part, int):
            node = _resolve(node.get("items"), schema)
        elif part == "[key]":
            node = _resolve(node.get("propertyNames"), schema)
        elif part in node.get("properties", {}):
            node = _resolve(node["properties"][part], schema)
        else:
            node = _resolve(node.get("additionalProperties"), schema)
    return node


def _example(node: dict[str, Any] | None, what: str = "a value") -> str:
    examples = (node or {}).get("examples") or []
    if not examples:
        return ""
    example = examples[0]
    shown = f"'{example}'" if isinstance(example, str) else str(example)
    return f"; give {what} such as {shown}"


def _choices(node: dict[str, Any] | None, ctx: dict[str, Any]) -> list[str]:
    node = node or {}
    if "enum" in node:
        return [str(v) for v in node["enum"]]
    if "const" in node:
        return [str(node["const"])]
    return [c.strip(" '") for c in re.split(r",| or ", str(ctx.get("expected", ""))) if c.strip()]


def schema_problem(
    error: Mapping[str, Any],
    schema: dict[str, Any],
    place: Callable[[tuple[str | int, ...]], Place],
) -> str:
    """One pydantic error (an item of ``ValidationError.errors()``) in the house style: where,
    which key, what was found, and the fix (valid keys, a "did you mean", an example value).

    The valid keys, choices and examples are read from the published JSON Schema, so the message
    and the schema an editor validates against cannot drift apart.
    """
    loc = tuple(error.get("loc", ()))
    kind = str(error.get("type", ""))
    ctx = dict(error.get("ctx") or {})
    value = error.get("input")
    if loc and loc[-1] == "[key]":
        # A key of a free mapping (e.g. an indicator name) that is not one of the allowed names.
        parent, name = loc[:-2], loc[-2]
        at = place((*parent, name))
        choices = _choices(schema_node(schema, loc), ctx)
        hint = did_you_mean(name, choices)
        return (
            f"{at.where}'{at.key}' is not a known {at.noun}{hint}{' Valid' if hint else '; valid'}"
            f": {', '.join(choices)}"
        )
    at = place(loc)
    head, item, tail = at.key.partition(" item ")
    subject = f"'{head}'{item}{tail} " if at.key else ""  # 'formats' item 2
    node = schema_node(schema, loc)
    found = yaml_value(value)
    if kind == "extra_forbidden":
        valid = list((schema_node(schema, loc[:-1]) or {}).get("properties", {}))
        hint = did_you_mean(loc[-1], valid)
        listed = f"{'Valid' if hint else '; valid'} {at.noun}s: {', '.join(valid)}"
        return f"{at.where}unknown {at.noun} '{at.key}'{hint + ' ' if hint else ''}{listed}"
    if kind == "missing":
        description = (node or {}).get("description")
        fix = f"; give {description}" if description else "; add it"
        return f"{at.where}{subject}is missing{fix}"
    if kind == "finite_number":
        return (
            f"{at.where}{subject}is {found}, which is not a finite number"
            f"{_example(node, 'a number') or '; give a number'}"
        )
    bounds = {
        "greater_than": ("must be greater than", "gt"),
        "greater_than_equal": ("must be at least", "ge"),
        "less_than": ("must be less than", "lt"),
        "less_than_equal": ("must be at most", "le"),
    }
    if kind in bounds:
        words, bound = bounds[kind]
        limit = ctx.get(bound)
        limit = f"{limit:g}" if isinstance(limit, float) else limit
        return f"{at.where}{subject}{words} {limit}, found {found}{_example(node, 'a number')}"
    if kind.startswith(("float_", "int_", "decimal_")) or kind in ("int_from_float",):
        number = "a whole number" if kind.startswith("int") else "a number"
        return f"{at.where}{subject}must be {number}, found {found}{_example(node, number)}"
    if kind.startswith("bool_"):
        return f"{at.where}{subject}must be true or false, found {found}"
    if kind.startswith("string_type"):
        return f"{at.where}{subject}must be text, found {found}{_example(node)}"
    if kind == "string_too_short" or (kind == "too_short" and isinstance(value, str)):
        return f"{at.where}{subject}must not be empty{_example(node)}"
    if kind in ("list_type", "tuple_type"):
        return f"{at.where}{subject}must be a list, found {found}{_example(node, 'a list')}"
    if kind == "too_short":
        return (
            f"{at.where}{subject}must have at least {ctx.get('min_length')} item(s), found "
            f"{found}{_example(node, 'a list')}"
        )
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        keys = ", ".join((node or {}).get("properties", {}))
        shape = f"a mapping with keys {keys}" if keys else "a mapping of keys to values"
        return f"{at.where}{subject}must be {shape}, found {found}"
    if kind in ("literal_error", "enum"):
        choices = _choices(node, ctx)
        hint = did_you_mean(value, choices)
        listed = f"{' Valid' if hint else '; valid'}: {', '.join(choices)}"
        return f"{at.where}{subject}is {found}{hint}{listed}"
    if kind in ("value_error", "assertion_error"):
        # Raised by a model's own check, whose message already names the key and the fix.
        return f"{at.where}{ctx.get('error', error.get('msg'))}"
    return f"{at.where}{subject}{error.get('msg', 'is not valid')}, found {found}"


def schema_problems(
    exc: Any,
    schema: dict[str, Any],
    problems: Problems,
    place: Callable[[tuple[str | int, ...]], Place] | None = None,
) -> list[tuple[str | int, ...]]:
    """Add every error of a pydantic ``ValidationError`` to ``problems``; return their locations.

    ``place`` says where each location is in the format's own words (default: the dotted key).
    """
    place = place or (lambda loc: Place("", dotted(loc)))
    locations = []
    for error in exc.errors():
        problems.add(schema_problem(error, schema, place))
        locations.append(tuple(error.get("loc", ())))
    return locations


def json_schema(schema: dict[str, Any], *, title: str, description: str) -> dict[str, Any]:
    """A pydantic model's JSON Schema, published with its dialect, title and description."""
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        **schema,
        "title": title,
        "description": description,
    }
