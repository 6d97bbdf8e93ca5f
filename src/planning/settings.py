"""Package-wide defaults: the working CRS, where the embedded data live, the random seed.

Analysis choices (distance standards, need weights) are not here: they live in the commented
standards YAML (:mod:`planning.standards`) so that every report can say which it applied.
"""

from __future__ import annotations

import os
from pathlib import Path

#: British National Grid: every distance is computed in metres in this CRS.
WORKING_CRS = "EPSG:27700"
#: WGS84, used only to draw maps.
MAP_CRS = "EPSG:4326"
#: Seed for everything random (k-means sites, synthetic data) so runs repeat exactly.
RANDOM_SEED = 20_061_205  # the Childcare Act 2006 received Royal Assent in 2006


#: The installed package's folder (templates, static assets and the standards live in it).
PACKAGE_DIR = Path(__file__).resolve().parent
#: The source checkout the package runs from (src layout), or None when installed from a wheel.
REPOSITORY_DIR: Path | None = (
    PACKAGE_DIR.parents[1]
    if (PACKAGE_DIR.parents[1] / "pyproject.toml").is_file()
    and (PACKAGE_DIR.parents[1] / "src" / "planning").is_dir()
    else None
)


def _version() -> str:
    from importlib import metadata

    try:
        return metadata.version("planning")
    except metadata.PackageNotFoundError:  # running from a source tree that is not installed
        return "0.1.0"


#: The package version, written into every summary and manifest.
VERSION = _version()


def _default_data_dir() -> Path:
    here = Path(__file__).resolve()
    # A source checkout (src layout) keeps data/ at the repository root.
    for parent in here.parents:
        if (parent / "data" / "lsoa21_england.parquet").exists():
            return parent / "data"
    return here.parent / "data"


#: Folder of the embedded data; override with the PLANNING_DATA_DIR environment variable.
DATA_DIR = Path(os.environ.get("PLANNING_DATA_DIR", _default_data_dir()))
#: The authority every command uses when none is given: Derby City.
DEFAULT_AUTHORITY = "E06000015"
#: The default centres file: illustrative sites for Derby (see data/centres/README.md).
DEFAULT_CENTRES = DATA_DIR / "centres" / "derby_illustrative.csv"
