"""Time offline postcode geocoding (planning.inputs.centres.lookup_postcodes) on 100,000 postcodes.

Not a test: prints figures to quote. The postcodes are drawn (seeded) from the ONS Postcode
Directory for the letters of a registration extract in the East Midlands (DE, NG, S), written in
mixed case and spacing as people type them, with 1% unknown and 1% malformed codes mixed in.

The row-by-row look-up the workbench used before (one ``DataFrame.loc`` per postcode) is timed on
a subsample and scaled up, since running it on all 100,000 takes minutes; both give the same
answer on that subsample, which the script checks.

    .venv/bin/python benchmarks/bench_geocode.py [--rows 100000] [--old-rows 5000]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from planning import settings
from planning.inputs.centres import _normalise_postcode, _postcode_table, lookup_postcodes, read_centres

LETTERS = ("D", "N", "S")


def sample_postcodes(rows: int, seed: int = settings.RANDOM_SEED) -> list[str]:
    """``rows`` postcodes as users type them, 98% real, 1% unknown, 1% malformed."""
    rng = np.random.default_rng(seed)
    codes = pd.concat([_postcode_table(letter) for letter in LETTERS]).index.to_numpy(str)
    prefix = pd.Series(codes).str.extract(r"^([A-Z]+)", expand=False).to_numpy(str)
    codes = codes[np.isin(prefix, ["DE", "NG", "S"])]  # Derby, Nottingham, Sheffield
    chosen = rng.choice(codes, size=rows)
    typed = [
        (f"{c[:-3]} {c[-3:]}" if i % 3 else c.lower()) for i, c in enumerate(chosen)
    ]
    for i in rng.choice(rows, size=rows // 50, replace=False):
        typed[i] = "DE99 9ZZ" if i % 2 else "not a postcode"
    return typed


def old_lookup(postcodes: list[str]) -> pd.DataFrame:
    """The previous implementation: a Python loop with one ``.loc`` per postcode."""
    from planning.inputs.centres import _POSTCODE_PATTERN, _display_postcode

    given = [str(p) for p in postcodes]
    compact = [_normalise_postcode(p) for p in given]
    eastings = np.full(len(given), np.nan)
    northings = np.full(len(given), np.nan)
    status = np.full(len(given), "invalid", dtype=object)
    tables = {
        letter: _postcode_table(letter)
        for letter in sorted({c[0] for c in compact if _POSTCODE_PATTERN.match(c)})
    }
    for i, code in enumerate(compact):
        if not _POSTCODE_PATTERN.match(code):
            continue
        table = tables[code[0]]
        if code not in table.index:
            status[i] = "unknown"
            continue
        easting, northing = table.loc[code, ["oseast1m", "osnrth1m"]]
        if pd.isna(easting) or pd.isna(northing):
            status[i] = "no_grid_reference"
            continue
        eastings[i], northings[i], status[i] = float(easting), float(northing), "found"
    return pd.DataFrame(
        {
            "postcode": [_display_postcode(p) for p in given],
            "easting": eastings,
            "northing": northings,
            "status": pd.array(list(status), dtype=str),
        },
        index=pd.Index(given, name="given"),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--old-rows", type=int, default=5_000)
    args = parser.parse_args()

    start = time.perf_counter()
    postcodes = sample_postcodes(args.rows)
    load_s = time.perf_counter() - start
    print(f"directory letters {', '.join(LETTERS)} loaded and {args.rows:,} postcodes drawn "
          f"in {load_s:.1f} s (loading is cached; not part of the timings below)")

    start = time.perf_counter()
    new = lookup_postcodes(postcodes)
    new_s = time.perf_counter() - start
    counts = new["status"].value_counts().to_dict()
    print(f"vectorised look-up: {args.rows:,} postcodes in {new_s:.2f} s "
          f"({args.rows / new_s:,.0f} rows/s); statuses {counts}")

    subset = postcodes[: args.old_rows]
    start = time.perf_counter()
    old = old_lookup(subset)
    old_s = time.perf_counter() - start
    scaled = old_s * args.rows / len(subset)
    print(f"row-by-row look-up: {len(subset):,} postcodes in {old_s:.2f} s "
          f"({len(subset) / old_s:,.0f} rows/s), about {scaled:,.0f} s for {args.rows:,}")
    pd.testing.assert_frame_equal(
        new.iloc[: len(subset)].reset_index(), old.reset_index(), check_dtype=False
    )
    print(f"same result on the {len(subset):,} compared; speed-up about {scaled / new_s:,.0f}x")

    # End to end: a centres file of postcodes, as read_centres reads it (checks included).
    good = [p for p, s in zip(postcodes, new["status"]) if s == "found"]
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "postcodes.csv"
        lines = [f"C{i},Site {i},{p}" for i, p in enumerate(good)]
        path.write_text("centre_id,name,postcode\n" + "\n".join(lines) + "\n", encoding="utf-8")
        start = time.perf_counter()
        centres = read_centres(path)
        read_s = time.perf_counter() - start
    print(f"read_centres: {len(centres):,} rows located by postcode in {read_s:.2f} s "
          f"({len(centres) / read_s:,.0f} rows/s)")


if __name__ == "__main__":
    main()
