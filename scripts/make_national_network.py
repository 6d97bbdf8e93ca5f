"""Write src/planning/data/centres/england_illustrative.csv: the illustrative national network.

One file of illustrative centre sites for all 153 English upper-tier authorities, so that any
authority's assessment sees its neighbours' sites across the boundary (issue 11, "No authority is
an island"). Each authority's sites are the ones the workbench already uses for it by default
(:func:`planning.inputs.illustrative.resolve_centres` with no centres file): the shipped
``derby_illustrative.csv`` and ``thurrock_illustrative.csv``, and for every other authority
:func:`planning.inputs.illustrative.illustrative_centres` (one site per 1,580 under-5s,
under-5-weighted k-means snapped to small-area points, seed ``settings.RANDOM_SEED``).

Ids are ``<authority code>-<site id>`` (e.g. ``E06000015-CC01``) so that they are unique in
England. Deterministic: running it again writes the same file (checked by the tests for a sample
of authorities). Run once by developers; the CSV is committed::

    .venv/bin/python scripts/make_national_network.py
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from planning.inputs.areas import list_authorities, load_areas
from planning.inputs.centres import read_centres
from planning.inputs.illustrative import illustrative_centres, illustrative_centres_path
from planning.inputs.neighbours import NATIONAL_NETWORK_COLUMNS, national_network_path


def authority_sites(code: str, name: str) -> pd.DataFrame:
    """One authority's illustrative sites as rows of the national file."""
    shipped = illustrative_centres_path(code)
    sites = read_centres(shipped) if shipped.is_file() else illustrative_centres(load_areas(code))
    table = pd.DataFrame(sites.drop(columns=sites.geometry.name))
    table["easting"] = sites.geometry.x.round(1)
    table["northing"] = sites.geometry.y.round(1)
    table["authority_code"] = code
    table["authority_name"] = name
    table.index = pd.Index([f"{code}-{i}" for i in sites.index], name="centre_id")
    return table.reset_index()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=None, help="where to write the CSV")
    args = parser.parse_args(argv)
    authorities = list_authorities()
    parts = [
        authority_sites(row.code, row.name)
        for row in authorities.itertuples(index=False)
    ]
    table = pd.concat(parts, ignore_index=True)
    table["capacity"] = ""
    out = args.out or national_network_path()
    table[list(NATIONAL_NETWORK_COLUMNS)].to_csv(out, index=False, lineterminator="\n")
    print(f"wrote {len(table)} sites for {len(parts)} authorities to {out}")


if __name__ == "__main__":
    main()
