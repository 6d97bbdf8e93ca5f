"""Which 2021 small areas had their under-5s apportioned from a split 2011 area.

The ONS estimates are on LSOA 2011; a 2011 area split into several 2021 areas (change code S or
X) had its count divided by Census 2021 households (``planning/data/README.md``). The
uncertainty model redraws those shares (``uncertainty.yaml``, ``apportionment``), so it needs to
know which areas came from one split: ``data/lsoa21_splits.csv``, built from the ONS lookup by
``scripts/build_splits.py``.
"""

from __future__ import annotations

from functools import lru_cache

import pandas as pd

from planning import settings
from planning._errors import ValidationError

SPLITS_FILE = "lsoa21_splits.csv"


@lru_cache(maxsize=1)
def split_groups() -> pd.Series:
    """Area code (LSOA 2021) -> split group (the first LSOA 2011 code of the split), for the
    1,848 English areas apportioned from a split 2011 area; others are not listed.

    Examples
    --------
    >>> groups = split_groups()
    >>> len(groups), int(groups.groupby(groups).size().min())
    (1848, 2)
    """
    path = settings.DATA_DIR / SPLITS_FILE
    if not path.exists():
        raise ValidationError(
            f"embedded data file {path} is missing; run scripts/build_splits.py or reinstall"
        )
    table = pd.read_csv(path, dtype=str)
    return table.set_index("area_code")["group"].rename("split_group")
