"""The embedded real data (English LSOAs with deprivation and population) and the toy town.

Real data come from ``data/`` (built by ``scripts/build_data.py`` from ONS and MHCLG open data;
see ``planning/data/README.md`` for provenance and the Open Government Licence attribution).
"""

from __future__ import annotations

import difflib
import re
from functools import lru_cache
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from planning import settings
from planning._errors import ValidationError
from planning._validate import require_projected, require_same_crs

#: Attribution that every output built on the embedded data must carry.
ATTRIBUTION = (
    "Contains public sector information licensed under the Open Government Licence v3.0. "
    "Contains OS data © Crown copyright and database right 2021-2025. Source: Office for "
    "National Statistics; Ministry of Housing, Communities and Local Government."
)

#: What each embedded table is and when it was published; written into every summary.
DATA_VINTAGES: dict[str, str] = {
    "geography": "LSOA 2021 (ONS, December 2021 generalised boundaries)",
    "deprivation": "English Indices of Deprivation 2025 (MHCLG), IMD and domains on LSOA 2021",
    "idaci_children": (
        "IoD2025 underlying indicators: IDACI numerator (children 0-15 in income-deprived "
        "families); suppressed cells (<10) estimated and flagged"
    ),
    "under5_population": (
        "ONS mid-2020 small area population estimates, single years 0-4, LSOA 2011, carried "
        "to LSOA 2021 by the ONS best-fit lookup (split areas apportioned by Census 2021 "
        "households, merged areas summed; totals conserved exactly)"
    ),
    "wards": "ONS LSOA 2021 to ward 2024 to district 2024 lookup",
    "authorities": "ONS district to upper-tier authority lookup 2023",
    "rural_urban": "ONS 2021 rural-urban classification of LSOAs",
}

VINTAGE_FILES = {2021: "lsoa21_england.parquet", 2011: "lsoa11_england.parquet"}


def _data_path(name: str) -> Path:
    path = settings.DATA_DIR / name
    if not path.exists():
        raise ValidationError(
            f"embedded data file {path} is missing; run from a full clone of the repository "
            "or set PLANNING_DATA_DIR to the folder holding it"
        )
    return path


@lru_cache(maxsize=1)
def list_authorities() -> pd.DataFrame:
    """The English upper-tier authorities (counties and unitaries) that can be loaded.

    Returns
    -------
    pandas.DataFrame
        Columns ``code``, ``name``, ``districts``, ``lsoa_count``, ``under5``; one row per
        authority (153), sorted by code.
    """
    return pd.read_csv(_data_path("authorities.csv")).sort_values("code").reset_index(drop=True)


#: Short names people type for authorities whose official name is longer or inverted, beyond
#: what :func:`_name_key` strips ("City of", "Council" ...). Only unambiguous ones: "Kingston"
#: (Hull or upon Thames) and "Newcastle" (upon Tyne, or under-Lyme, a Staffordshire district)
#: are left to the suggestions.
AUTHORITY_ALIASES: dict[str, str] = {
    "hull": "E06000010",  # Kingston upon Hull, City of
    "durham": "E06000047",  # County Durham
    "brighton": "E06000043",  # Brighton and Hove
    "southend": "E06000033",  # Southend-on-Sea
    "stoke": "E06000021",  # Stoke-on-Trent
    "bournemouth": "E06000058",  # Bournemouth, Christchurch and Poole
    "bcp": "E06000058",
    "telford": "E06000020",  # Telford and Wrekin
    "windsor": "E06000040",  # Windsor and Maidenhead
    "bath": "E06000022",  # Bath and North East Somerset
    "redcar": "E06000003",  # Redcar and Cleveland
    "stockton": "E06000004",  # Stockton-on-Tees
    "blackburn": "E06000008",  # Blackburn with Darwen
}

# Council words around a place name, longest first: "Derby City Council" -> "derby".
_PREFIXES = ("london borough of ", "royal borough of ", "city and county of ", "city of ",
             "county of ", "borough of ")  # fmt: skip
_SUFFIXES = ("metropolitan borough council", "city council", "county council",
             "borough council", "district council", "unitary authority", "council", "city",
             "county", "borough", "district")  # fmt: skip


def _name_key(name: str) -> str:
    """A name reduced to the place: case, punctuation, '&' and the council words around it
    ignored, and ONS's inverted forms turned round ("Bristol, City of" -> "bristol").

    Examples
    --------
    >>> _name_key("Derby City Council"), _name_key("City of Derby"), _name_key("St. Helens")
    ('derby', 'derby', 'st helens')
    >>> _name_key("Herefordshire, County of"), _name_key("Kingston upon Hull, City of")
    ('herefordshire', 'kingston upon hull')
    """
    text = str(name).casefold().replace("&", " and ")
    text = re.sub(r",\s*(city|county) of\s*$", "", text)  # ONS: "Bristol, City of"
    text = " ".join(re.sub(r"[^a-z0-9]+", " ", text).split())
    for prefix in _PREFIXES:
        if text.startswith(prefix) and len(text) > len(prefix):
            text = text[len(prefix) :]
            break
    for suffix in _SUFFIXES:
        if text.endswith(" " + suffix):
            text = text[: -len(suffix) - 1]
            break
    return text


@lru_cache(maxsize=1)
def _districts() -> pd.DataFrame:
    """Lower-tier districts that are not themselves upper-tier (a county's districts), from the
    embedded LSOA table's ONS district-to-upper-tier lookup: ``code``, ``name``, ``utla_code``,
    ``utla_name``."""
    import pyarrow.parquet as pq

    columns = ["ltla_code", "ltla_name", "utla_code", "utla_name"]
    table = pq.read_table(_data_path(VINTAGE_FILES[2021]), columns=columns).to_pandas()
    table = table.drop_duplicates().rename(columns={"ltla_code": "code", "ltla_name": "name"})
    return table[table["code"] != table["utla_code"]].reset_index(drop=True)


def resolve_authority(authority: str) -> tuple[str, str]:
    """Return ``(code, name)`` for an authority given by ONS code or name.

    Names are matched as people type them: case, punctuation and council words are ignored
    ("Derby City Council", "City of Derby" and "derby" are all Derby; "Bristol" is "Bristol,
    City of"), and a few short names are known (:data:`AUTHORITY_ALIASES`: "Hull").

    Raises
    ------
    ValidationError
        If no authority matches. A district (code or name) is pointed to its county, since
        children's centres are an upper-tier duty; otherwise the closest names are suggested.
    """
    table = list_authorities()
    wanted = str(authority).strip()
    by_code = table[table["code"].str.upper() == wanted.upper()]
    if len(by_code) == 1:
        return str(by_code.iloc[0]["code"]), str(by_code.iloc[0]["name"])
    by_name = table[table["name"].str.casefold() == wanted.casefold()]
    if len(by_name) == 1:
        return str(by_name.iloc[0]["code"]), str(by_name.iloc[0]["name"])
    key = _name_key(wanted)
    keys = table["name"].map(_name_key)
    by_key = table[keys == key]
    if len(by_key) == 1:
        return str(by_key.iloc[0]["code"]), str(by_key.iloc[0]["name"])
    if key in AUTHORITY_ALIASES:
        row = table[table["code"] == AUTHORITY_ALIASES[key]].iloc[0]
        return str(row["code"]), str(row["name"])
    districts = _districts()
    district = districts[
        (districts["code"].str.upper() == wanted.upper())
        | (districts["name"].map(_name_key) == key)
    ]
    if len(district):
        d = district.iloc[0]
        raise ValidationError(
            f"{d['name']} is a district in {d['utla_name']}; children's centres are the "
            f"county's duty: use {d['utla_name']} ({d['utla_code']})"
        )
    # Names with a word starting as typed ("Kingston", "Derbys") first; else only the best
    # near-spellings, so "Herefordshir" offers Herefordshire, not Hertfordshire too.
    pattern = re.compile(rf"\b{re.escape(key)}") if key else None
    close = [n for n, k in zip(table["name"], keys, strict=True) if pattern and pattern.search(k)]
    if not close:
        scores = {
            name: difflib.SequenceMatcher(None, key, k).ratio()
            for name, k in zip(table["name"], keys, strict=True)
        }
        best = max(scores.values())
        close = [
            n for n, r in sorted(scores.items(), key=lambda i: -i[1]) if r >= max(0.6, best - 0.05)
        ]
    hint = f" Did you mean {', '.join(repr(c) for c in close[:3])}?" if close else ""
    raise ValidationError(
        f"unknown authority '{authority}': give an English upper-tier authority code "
        f"(e.g. E06000015) or name (e.g. Derby).{hint} Run `planning authorities` for the list."
    )


def load_areas(authority: str | None = None, *, vintage: int = 2021) -> gpd.GeoDataFrame:
    """Load the small areas (LSOAs) of one authority, or of all England, in EPSG:27700.

    Parameters
    ----------
    authority : str, optional
        Upper-tier authority code or name; ``None`` loads every English LSOA.
    vintage : {2021, 2011}
        2021: LSOA 2021 with IoD2025 (default). 2011: LSOA 2011 with IoD2019 (IMD score
        rebuilt from File 9 with the published domain weights) and mid-2020 population.

    Returns
    -------
    geopandas.GeoDataFrame
        Indexed by ``area_code``. Counts: ``under5``, ``age_0`` .. ``age_4``,
        ``children_0_15``, ``idaci_children`` (2021; estimated where suppressed, see
        ``idaci_estimated``). Rates and ranks: ``imd_score``, ``imd_rank``, ``imd_decile`` and
        the domains. ``point_easting``/``point_northing``: a point inside each polygon.
    """
    if vintage not in VINTAGE_FILES:
        raise ValidationError(f"vintage must be one of {sorted(VINTAGE_FILES)}, not {vintage!r}")
    path = _data_path(VINTAGE_FILES[vintage])
    filters = None
    if authority is not None:
        code, _ = resolve_authority(authority)
        filters = [("utla_code", "==", code)]
    areas = gpd.read_parquet(path, filters=filters)
    areas.index.name = "area_code"
    return areas


def toy_town(
    *,
    rows: int = 3,
    columns: int = 3,
    cell_metres: float = 1_000.0,
    under5: float | np.ndarray = 100.0,
    imd_decile: int | np.ndarray = 5,
    idaci_share: float = 0.2,
    origin: tuple[float, float] = (430_000.0, 335_000.0),
) -> gpd.GeoDataFrame:
    """A grid of square small areas whose answers are easy to compute by hand.

    Cell ``(r, c)`` is the square ``[x0 + c*s, x0 + (c+1)*s] x [y0 + r*s, y0 + (r+1)*s]`` and
    its point is the square's centre. Codes are ``T{r}{c}`` (row-major). Counts are exact.

    Parameters
    ----------
    under5, imd_decile : scalar or array of length ``rows * columns`` in row-major order.
    idaci_share : float
        ``idaci_children = round(idaci_share * children_0_15)`` with
        ``children_0_15 = 3 * under5``.
    """
    n = rows * columns
    x0, y0 = origin
    codes, polys, east, north = [], [], [], []
    for r in range(rows):
        for c in range(columns):
            codes.append(f"T{r}{c}")
            polys.append(
                shapely.box(
                    x0 + c * cell_metres,
                    y0 + r * cell_metres,
                    x0 + (c + 1) * cell_metres,
                    y0 + (r + 1) * cell_metres,
                )
            )
            east.append(x0 + (c + 0.5) * cell_metres)
            north.append(y0 + (r + 0.5) * cell_metres)
    u5 = np.broadcast_to(np.asarray(under5, dtype=float), (n,)).copy()
    decile = np.broadcast_to(np.asarray(imd_decile, dtype=int), (n,)).copy()
    children = 3 * u5
    frame = pd.DataFrame(
        {
            "area_name": [f"Toy {code}" for code in codes],
            "utla_code": "T00000001",
            "utla_name": "Toy Town",
            "ward_code": [f"W{r}" for r in range(rows) for _ in range(columns)],
            "ward_name": [f"Ward {r}" for r in range(rows) for _ in range(columns)],
            "imd_decile": decile,
            # A score that falls as the decile rises, so ranks and scores agree.
            "imd_score": 60.0 - 5.0 * decile,
            "imd_rank": decile * 3_000,
            "income_score": 0.3 - 0.02 * decile,
            "under5": u5,
            "children_0_15": children,
            "idaci_children": np.round(idaci_share * children),
            "idaci_estimated": False,
            "rural": False,
            "point_easting": east,
            "point_northing": north,
        },
        index=pd.Index(codes, name="area_code"),
    )
    return gpd.GeoDataFrame(frame, geometry=polys, crs=settings.WORKING_CRS)


def area_points(areas: pd.DataFrame, *, source: str = "areas") -> np.ndarray:
    """``(n, 2)`` array of each area's point in metres.

    Uses ``point_easting``/``point_northing`` when present (the embedded data store a point inside
    each LSOA: its centroid when that falls inside, else a point on its surface). ONS
    population-weighted centroids are not shipped; where a frame has no point columns, the
    polygon's representative point is used.
    """
    require_projected(areas, source)
    if {"point_easting", "point_northing"} <= set(areas.columns):
        xy = areas[["point_easting", "point_northing"]].to_numpy(dtype=float)
        _require_points_match(areas, xy, source)
    else:
        points = areas.geometry.representative_point()
        xy = np.column_stack([points.x.to_numpy(), points.y.to_numpy()])
    if not np.isfinite(xy).all():
        bad = areas.index[~np.isfinite(xy).all(axis=1)]
        raise ValidationError(f"{source}: area {bad[0]} has no usable point (empty geometry?)")
    return xy


def centre_points(centres: pd.DataFrame, *, source: str = "centres") -> np.ndarray:
    """``(m, 2)`` array of centre coordinates in metres (from the geometry).

    A frame that also carries ``easting``/``northing`` columns must agree with its geometry
    (within :data:`POINT_TOLERANCE_METRES`): after a ``to_crs`` they would not, and which of
    the two is meant cannot be guessed.
    """
    require_projected(centres, source)
    geometry = centres.geometry
    xy = np.column_stack([geometry.x.to_numpy(), geometry.y.to_numpy()])
    if {"easting", "northing"} <= set(centres.columns):
        stored = centres[["easting", "northing"]].to_numpy(dtype=float)
        known = np.isfinite(stored).all(axis=1)
        off = known & (np.hypot(*(stored - xy).T) > POINT_TOLERANCE_METRES)
        if off.any():
            first = centres.index[off][0]
            raise ValidationError(
                f"{source}: the easting/northing columns no longer match the geometry for "
                f"{int(off.sum())} centre(s), e.g. {first} ({stored[off][0][0]:.0f}, "
                f"{stored[off][0][1]:.0f}) vs ({xy[off][0][0]:.0f}, {xy[off][0][1]:.0f}) in "
                f"{centres.crs.to_string()} (was the frame reprojected with `to_crs`?); drop the "
                "easting/northing columns or recompute them from the geometry"
            )
    return xy


#: How far (metres) stored point columns may sit from their geometry: coordinates are stored to
#: 0.1 m at best, and a reprojection moves them by kilometres.
POINT_TOLERANCE_METRES = 1.0


def _require_points_match(areas: pd.DataFrame, xy: np.ndarray, source: str) -> None:
    """Raise unless each stored area point lies in (or within a metre of) its polygon."""
    geometry = np.asarray(areas.geometry.to_numpy())
    finite = np.isfinite(xy).all(axis=1)
    present = finite & ~shapely.is_missing(geometry) & ~shapely.is_empty(geometry)
    points = shapely.points(np.where(finite[:, None], xy, 0.0))
    off = present & ~shapely.dwithin(geometry, points, POINT_TOLERANCE_METRES)
    if off.any():
        first = areas.index[off][0]
        raise ValidationError(
            f"{source}: point_easting/point_northing no longer lie in their area's polygon for "
            f"{int(off.sum())} area(s), e.g. {first} (CRS {areas.crs.to_string()}; was the frame "
            "reprojected with `to_crs`?); drop the point_easting/point_northing columns or "
            "recompute them in the new CRS (e.g. from `geometry.representative_point()`)"
        )


def authority_boundary(areas: gpd.GeoDataFrame) -> shapely.Geometry:
    """The union of the areas' polygons, prepared for :func:`within_authority`."""
    boundary = shapely.union_all(np.asarray(areas.geometry.to_numpy()))
    shapely.prepare(boundary)
    return boundary


def within_authority(
    boundary: shapely.Geometry, easting: np.ndarray, northing: np.ndarray
) -> np.ndarray:
    """The workbench's one point-in-polygon rule: inside the authority or on its boundary.

    A point is in the authority when the union of its areas *covers* it (interior or boundary:
    shapely ``intersects`` of a point), so a centre on the edge between two authorities counts
    for both. Used when reading centres, in the assessment and by the scenario engine.

    Examples
    --------
    >>> square = shapely.box(0, 0, 10, 10)
    >>> within_authority(square, np.array([5.0, 10.0, 11.0]), np.array([5.0, 5.0, 5.0])).tolist()
    [True, True, False]
    """
    return np.asarray(
        shapely.intersects_xy(
            boundary, np.asarray(easting, dtype=float), np.asarray(northing, dtype=float)
        ),
        dtype=bool,
    )


def in_authority(centres: gpd.GeoDataFrame, areas: gpd.GeoDataFrame) -> pd.Series:
    """``in_authority`` for each centre by :func:`within_authority` (nullable boolean).

    Refuses areas and centres in different CRSs (:class:`planning.CRSError`) rather than guess.
    """
    require_same_crs(areas, centres)
    xy = centre_points(centres)
    inside = within_authority(authority_boundary(areas), xy[:, 0], xy[:, 1])
    return pd.Series(pd.array(inside, dtype="boolean"), index=centres.index, name="in_authority")


#: Single years of age embedded for the age-range standards (``population.ages``).
AGES_FILE = "lsoa21_ages_0_19.parquet"
MAX_EMBEDDED_AGE = 19


def load_ages(codes: pd.Index | list[str] | None = None) -> pd.DataFrame:
    """The mid-2020 population by single year of age 0-19 on LSOA 2021 (``age_0`` .. ``age_19``).

    Same source and crosswalk as the under-5s in :func:`load_areas` (ONS mid-2020 small-area
    estimates on LSOA 2011, carried to LSOA 2021 by the best-fit lookup with split areas
    apportioned by Census 2021 households, largest remainder), so every total is conserved
    exactly and ``age_0`` .. ``age_4`` equal :func:`load_areas`'s.

    Parameters
    ----------
    codes : index or list of str, optional
        LSOA 2021 codes to return, in that order; ``None``: every English LSOA.
    """
    ages = pd.read_parquet(_data_path(AGES_FILE))
    ages.index.name = "area_code"
    if codes is None:
        return ages
    wanted = pd.Index(codes)
    missing = wanted.difference(ages.index)
    if len(missing):
        raise ValidationError(
            f"{AGES_FILE}: no single-year ages for {len(missing)} area(s), e.g. {missing[0]}; "
            "ages 0-19 are embedded for LSOA 2021 codes only"
        )
    return ages.reindex(wanted)


def population_in_ages(areas: pd.DataFrame, ages: tuple[int, int]) -> pd.Series:
    """Children aged ``ages[0]`` to ``ages[1]`` inclusive in each area.

    Sums the single-year columns ``age_a`` the frame carries; where it lacks some (the embedded
    areas carry 0-4), they are joined from :func:`load_ages`. Ages 0-4 on a frame without
    single years (the toy town) are its ``under5``.

    Raises
    ------
    ValidationError
        If the range lies outside the embedded 0-19 or the frame's areas have no embedded ages.
    """
    low, high = ages
    if not 0 <= low <= high <= MAX_EMBEDDED_AGE:
        raise ValidationError(
            f"population ages {low}-{high}: must satisfy 0 <= from <= to <= {MAX_EMBEDDED_AGE} "
            "(single years 0-19 are embedded)"
        )
    columns = [f"age_{a}" for a in range(low, high + 1)]
    if all(c in areas.columns for c in columns):
        return areas[columns].sum(axis=1).astype(float).rename("children")
    if (low, high) == (0, 4) and "under5" in areas.columns:
        return areas["under5"].astype(float).rename("children")
    embedded = load_ages(areas.index)
    return embedded[columns].sum(axis=1).astype(float).rename("children")
