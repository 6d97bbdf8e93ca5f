"""Write src/planning/data/centres/<authority>_illustrative.csv: illustrative centre sites.

The rule is :func:`planning.inputs.illustrative.illustrative_centres` (one site per ~1,580 under-5s by
under-5-weighted k-means, snapped to small-area points; localities by k-means on the sites;
hubs where the most under-5s in the 30% most deprived areas live). Derby (the default) runs ten
children's centres (2024: six family hubs and four branch centres) on a locality basis, but no
machine-readable list of their sites was available, so its file mirrors those facts:

1. ten sites (k = 10), three localities, six hubs;
2. the one documented locality base, The Big Building, 17-19 Lower Dale Road, DE23 6WY
   (geocoded with the ONS Postcode Directory), replaces the illustrative site nearest to it.

Other authorities (``--authority``) get the generic rule with no known sites. Run once by
developers; the CSVs are committed (see src/planning/data/centres/README.md)::

    .venv/bin/python scripts/make_illustrative_centres.py
    .venv/bin/python scripts/make_illustrative_centres.py --authority Thurrock
"""

from __future__ import annotations

import argparse
from pathlib import Path

import geopandas as gpd

from planning import settings
from planning.inputs.areas import load_areas, resolve_authority
from planning.inputs.illustrative import illustrative_centres, illustrative_centres_path
from planning.inputs.centres import lookup_postcodes, write_centres

DERBY = "E06000015"
SITES = 10
HUBS = 6
LOCALITIES = 3
BASE_NAME = "The Big Building (locality base)"
BASE_POSTCODE = "DE23 6WY"


def derby_anchors() -> gpd.GeoDataFrame:
    """The Big Building, geocoded offline, as the one known Derby site."""
    base = lookup_postcodes([BASE_POSTCODE]).iloc[0]
    if base["status"] != "found":
        raise SystemExit(f"{BASE_POSTCODE} is not in the postcode lookup ({base['status']})")
    return gpd.GeoDataFrame(
        {"name": [BASE_NAME], "postcode": [base["postcode"]]},
        geometry=gpd.points_from_xy([base["easting"]], [base["northing"]]),
        crs=settings.WORKING_CRS,
    )


def build_sites(authority: str = DERBY) -> gpd.GeoDataFrame:
    """The illustrative sites of an authority as a centres frame (see the module docstring)."""
    code, _ = resolve_authority(authority)
    areas = load_areas(code)
    if code == DERBY:
        return illustrative_centres(
            areas, SITES, localities=LOCALITIES, hubs=HUBS, anchors=derby_anchors()
        )
    return illustrative_centres(areas)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--authority",
        default=DERBY,
        help="upper-tier authority code or name (default: Derby, %(default)s)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        help="where to write the CSV (default: src/planning/data/centres/<name>_illustrative.csv)",
    )
    args = parser.parse_args(argv)
    sites = build_sites(args.authority)
    out = args.out or illustrative_centres_path(args.authority)
    out.parent.mkdir(parents=True, exist_ok=True)
    write_centres(sites, out)
    print(f"wrote {len(sites)} illustrative sites to {out}")


if __name__ == "__main__":
    main()
