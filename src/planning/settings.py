"""Package-wide defaults: the working CRS, where the embedded data live, the random seed.

Analysis choices (distance standards, need weights) are not here: they live in the commented
standards YAML (:mod:`planning.standards`) so that every report can say which it applied.
"""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path

#: British National Grid: every distance is computed in metres in this CRS.
WORKING_CRS = "EPSG:27700"
#: WGS84, used only to draw maps.
MAP_CRS = "EPSG:4326"
#: Seed for everything random (k-means sites, synthetic data) so runs repeat exactly.
RANDOM_SEED = 20_061_205  # the Childcare Act 2006 received Royal Assent in 2006


def package_path(*parts: str) -> Path:
    """A file or folder shipped inside the package, as a path on disk.

    Data, notebooks, templates and static assets are package resources (``[tool.setuptools.
    package-data]`` puts them in the wheel), found with :mod:`importlib.resources` so the
    same code works from a source checkout and from any installed copy; nothing walks up
    parent folders. pip installs wheels unpacked, so the resource is a real path; one that is
    missing (a zipped install, which Papermill, Voila and pandas could not read from, or a build
    without its package data) is refused.

    >>> package_path("data", "authorities.csv").name
    'authorities.csv'
    """
    path = Path(str(resources.files("planning").joinpath(*parts))).resolve()
    if not path.exists():
        raise FileNotFoundError(
            f"{'/'.join(('planning', *parts))} is not in the installed package ({path}); "
            "reinstall planning with pip from its wheel or repository"
        )
    return path


#: The installed package's folder (templates, static assets, data, notebooks, standards).
PACKAGE_DIR = package_path()
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


#: Folder of the embedded data, shipped in the package (``planning/data``, see its README.md);
#: override with the PLANNING_DATA_DIR environment variable.
DATA_DIR = Path(os.environ.get("PLANNING_DATA_DIR") or package_path("data"))
#: The authority every command uses when none is given: Derby City.
DEFAULT_AUTHORITY = "E06000015"
#: The default centres file: illustrative sites for Derby (see planning/data/centres/README.md).
DEFAULT_CENTRES = DATA_DIR / "centres" / "derby_illustrative.csv"
