"""The columns of a registration extract: which are read, under which names, which are refused.

This module holds the extract's column vocabulary for :mod:`planning.inputs.registrations`
(whose docstring gives the format): :data:`TARGET_GROUPS`, the names each column may go by, the
columns that are required, the headers that identify a person (:func:`identifying`, refused
before any row is read) or look like a number of children per row, and the reading and
matching of the header row (:func:`_read_header`, :func:`_resolve_columns`).
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

import pandas as pd

from planning._errors import ValidationError
from planning._validate import header_key, match_headers

logger = logging.getLogger(__name__)

__all__ = ["TARGET_GROUPS", "identifying", "normalised_header"]

#: Target groups (Ofsted 2013-15 reports, DOMAIN.md): column name -> plain-English label.
TARGET_GROUPS: dict[str, str] = {
    "lone_parent": "lone parents",
    "teenage_parent": "teenage parents",
    "workless_household": "workless households",
    "minority_ethnic": "minority ethnic families",
    "disability": "disabled children or parents",
    "father_engaged": "fathers engaged",
    "child_in_need": "children in need, on a protection plan or looked after",
    "domestic_abuse": "families affected by domestic abuse",
    "traveller": "Traveller families",
}
# An aggregated extract: each row stands for `count` children (read as a weight, never ignored).
_COUNT_ALIASES = (
    "count",
    "n",
    "children",
    "number_of_children",
    "num_children",
    "no_of_children",
    "child_count",
    "children_count",
    "number",
    "frequency",
    "freq",
    "registrations",
    "total",
)
_ALIASES: dict[str, tuple[str, ...]] = {
    "lsoa_code": ("lsoa_code", "lsoa", "lsoa21cd", "lsoa21_code", "lsoa_2021", "area_code"),
    "postcode": ("postcode", "post_code", "home_postcode"),
    "age": ("age", "age_band", "age_years", "age_group"),
    "registration_date": (
        "registration_date",
        "registered_on",
        "date_registered",
        "date_of_registration",
    ),
    "contacts_12m": ("contacts_12m", "contacts", "contacts_last_12_months", "contacts_12_months"),
    "synthetic": ("synthetic",),
    "count": _COUNT_ALIASES,
    **{g: (g,) for g in TARGET_GROUPS},
}
_REQUIRED = ("age", "registration_date", "contacts_12m")
# Headers are compared after normalising: lower case, everything but letters and digits removed
# ('D.O.B.' -> 'dob', 'Address Line 1' -> 'addressline1', 'E-mail' -> 'email').
_IDENTIFYING_PARTS = (
    "dateofbirth",
    "birthdate",
    "birthday",
    "birth",
    "dob",
    "forename",
    "firstname",
    "givenname",
    "middlename",
    "surname",
    "lastname",
    "familyname",
    "fullname",
    "nhsnumber",
    "nhsno",
    "address",
    "telephone",
    "phone",
    "mobile",
    "email",
    "uprn",
    "nationalinsurance",
    "ninumber",
    "streetname",
    "housenumber",
    "houseno",
    "housename",
)
_IDENTIFYING_WHOLE = re.compile(
    r"^(name|names|tel|telno|telnum|telnumber|nhs\w*|addr\w*|street|"
    r"house|upn|uln|nino|ni)\d*$"
)
# Names of places and services, not of people.
_PLACE_NAMES = {
    f"{stem}name"
    for stem in (
        "centre",
        "center",
        "ward",
        "lsoa",
        "lsoa21",
        "lsoa11",
        "msoa",
        "area",
        "locality",
        "hub",
        "site",
        "setting",
        "service",
        "group",
        "targetgroup",
        "authority",
        "la",
        "ltla",
        "utla",
        "district",
        "county",
    )
}
_COUNT_LIKE = re.compile(r"count|total|freq|^num|^number|^no(of)?children")
_FORMAT_HINT = (
    "a registration extract needs lsoa_code (or postcode), age, registration_date and "
    "contacts_12m (format: README 'Reach and targeting', module planning.inputs.registrations)"
)


def normalised_header(header: object) -> str:
    """A header as compared with identifying names: lower case, letters and digits only."""
    return re.sub(r"[^a-z0-9]", "", str(header).lower())


def identifying(header: object) -> bool:
    """Whether a column header names something that identifies a person.

    Examples
    --------
    >>> [identifying(h) for h in ("D.O.B.", "ChildName", "Address1", "Tel", "centre_name")]
    [True, True, True, True, False]
    """
    key = normalised_header(header)
    if not key or key in _PLACE_NAMES:
        return False
    if _IDENTIFYING_WHOLE.match(key) or any(part in key for part in _IDENTIFYING_PARTS):
        return True
    return "name" in key


def _resolve_columns(header: list[str], label: str) -> dict[str, str]:
    """Map canonical names to the file's headers; refuse identifying and missing columns."""
    import difflib

    refused = [h for h in header if identifying(h)]
    if refused:
        names = ", ".join(repr(h) for h in refused)
        raise ValidationError(
            f"{label}: column{'s' if len(refused) > 1 else ''} {names} "
            f"identif{'y' if len(refused) > 1 else 'ies'} a person; a registration extract "
            "must not hold names, dates of birth, NHS numbers, addresses, UPRNs or contact "
            "details. Export the extract again without "
            f"{'them' if len(refused) > 1 else 'it'} (give age as 0-4 or a band '0-1'/'2-4' "
            "instead of a date of birth). No row was read."
        )
    counts = [h for h in header if header_key(h) in _COUNT_ALIASES]
    count_like = [
        h
        for h in header
        if h not in counts
        and _COUNT_LIKE.search(normalised_header(h))
        and header_key(h) not in {a for names in _ALIASES.values() for a in names}
    ]
    if len(counts) > 1 or count_like:
        names = ", ".join(repr(h) for h in counts + count_like)
        raise ValidationError(
            f"{label}: column{'s' if len(counts + count_like) > 1 else ''} {names} look"
            f"{'' if len(counts + count_like) > 1 else 's'} like a number of children per row, "
            "which would otherwise be ignored; keep one such column and name it 'count' (each "
            "row is then read as that many children), or remove it if every row is one child. "
            "No row was read."
        )
    found = match_headers(header, _ALIASES)
    missing = [c for c in _REQUIRED if c not in found]
    if "lsoa_code" not in found and "postcode" not in found:
        missing.insert(0, "lsoa_code' or 'postcode")
    if missing:
        spare = [h for h in header if h not in found.values()]
        parts = []
        for column in missing:
            by_key = {header_key(s): s for s in spare}
            close = difflib.get_close_matches(header_key(column), list(by_key), n=1)
            hint = f" (found '{by_key[close[0]]}': rename it to '{column}')" if close else ""
            parts.append(f"'{column}'{hint}")
        raise ValidationError(
            f"{label}: missing column{'s' if len(missing) > 1 else ''} {', '.join(parts)}; "
            f"{_FORMAT_HINT}. Columns found: {', '.join(header) or 'none'}"
        )
    ignored = [h for h in header if h not in found.values()]
    if ignored:
        logger.info("%s: columns not used (never read): %s", label, ", ".join(ignored))
    return found


def _read_header(path: Path, encoding: str, label: str) -> list[str]:
    """The file's column headers as text, read before any row; an empty file is refused."""
    try:
        header = pd.read_csv(path, nrows=0, encoding=encoding).columns.tolist()
    except pd.errors.EmptyDataError as error:
        raise ValidationError(f"{label}: is empty; {_FORMAT_HINT}") from error
    return [str(h) for h in header]
