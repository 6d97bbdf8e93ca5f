"""Synthetic registration extracts for demonstrations and tests (no real family in them).

Every extract made here carries a ``synthetic`` column set to true, and
:func:`write_synthetic_registrations` refuses a file name without the word "synthetic", so a
made-up extract cannot pass for a council's.

The planted signal
------------------
Each small area ``a`` gets a registration probability

``logit(p_a) = logit(base_reach) + distance_effect * (d_a - mean d) / 1 km
+ deprivation_effect * z(IDACI rate)_a + e_a``, with ``e_a ~ Normal(0, area_noise)``,

where ``d_a`` is the distance to the nearest centre and ``z`` a standardised score across the
authority: reach falls with distance (``distance_effect < 0``) and rises with deprivation
(``deprivation_effect > 0``, as Phase 1-2 centres targeted deprived areas). Registered children
per area ~ Binomial(round(under5_a), p_a); ages follow the area's single-year population; contacts
~ Poisson(mean) with a mean that rises with deprivation; each target-group flag is Bernoulli with
a rate that rises with the area's IDACI rate (workless households, lone parents) or is flat.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd

from planning import settings
from planning._errors import ValidationError

__all__ = ["synthetic_registrations", "write_synthetic_registrations"]

# Target-group rates among registered children: (rate at mean deprivation, change per SD of
# the IDACI rate on the logit scale). Illustrative, not sourced.
_GROUP_RATES: dict[str, tuple[float, float]] = {
    "lone_parent": (0.22, 0.5),
    "teenage_parent": (0.04, 0.5),
    "workless_household": (0.15, 0.8),
    "minority_ethnic": (0.25, 0.3),
    "disability": (0.08, 0.2),
    "father_engaged": (0.20, -0.2),
    "child_in_need": (0.04, 0.6),
    "domestic_abuse": (0.03, 0.5),
    "traveller": (0.005, 0.3),
}


def _logit(p: float) -> float:
    return float(np.log(p / (1 - p)))


def _expit(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _zscore(values: pd.Series) -> np.ndarray:
    v = values.to_numpy(dtype=float)
    sd = v.std()
    return np.zeros_like(v) if sd == 0 else (v - v.mean()) / sd


def synthetic_registrations(
    areas: pd.DataFrame,
    *,
    seed: int = settings.RANDOM_SEED,
    base_reach: float = 0.65,
    distance_effect: float = -0.6,
    deprivation_effect: float = 0.4,
    area_noise: float = 0.2,
    mean_contacts: float = 3.0,
    as_of: dt.date | str = "2025-03-31",
    age_format: str = "mixed",
) -> pd.DataFrame:
    """A synthetic registration extract for the areas given, with a planted signal.

    Parameters
    ----------
    areas : DataFrame
        Small areas indexed by LSOA code with ``under5``, ``idaci_children``,
        ``children_0_15`` and, for the distance effect, ``distance_m`` (a sufficiency result's
        areas have it); optional ``age_0``..``age_4``.
    seed : int
        Random seed (default :data:`planning.settings.RANDOM_SEED`): the same seed gives the same
        extract.
    base_reach : float
        Registration probability of an average area (0-1).
    distance_effect, deprivation_effect : float
        Change in the log-odds of registration per km further from a centre, and per standard
        deviation of the IDACI rate. Set to 0 for no signal.
    area_noise : float
        Standard deviation of an area's own log-odds effect.
    mean_contacts : float
        Mean contacts in the last 12 months at average deprivation (rises 30% per SD).
    as_of : date
        The extract date; registration dates fall in the five years before it.
    age_format : {'mixed', 'year', 'band'}
        Ages as single years, as bands '0-1'/'2-4', or a mix (as council systems differ).

    Returns
    -------
    DataFrame
        One row per registered child: ``lsoa_code``, ``age``, ``registration_date``,
        ``contacts_12m``, one 0/1 column per target group, ``synthetic`` (always 1).

    Examples
    --------
    >>> from planning import toy_town
    >>> town = toy_town(rows=2, columns=2, under5=100)
    >>> extract = synthetic_registrations(town, distance_effect=0.0, seed=1)
    >>> bool(extract["synthetic"].all()), int(extract["lsoa_code"].nunique())
    (True, 4)
    """
    if age_format not in ("mixed", "year", "band"):
        raise ValidationError(f"age_format must be 'mixed', 'year' or 'band', not {age_format!r}")
    if not 0 < base_reach < 1:
        raise ValidationError(f"base_reach must be between 0 and 1, not {base_reach}")
    if distance_effect and "distance_m" not in areas:
        raise ValidationError(
            "a distance effect needs the areas' distance to the nearest centre: pass a sufficiency "
            "result's areas (run_sufficiency(...).result.areas), or set distance_effect=0"
        )
    rng = np.random.default_rng(seed)
    u5 = areas["under5"].to_numpy(dtype=float)
    children = areas["children_0_15"].to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = np.where(children > 0, areas["idaci_children"].to_numpy(dtype=float) / children, 0)
    deprivation = _zscore(pd.Series(rate))
    km = (
        areas["distance_m"].to_numpy(dtype=float) / 1000.0
        if "distance_m" in areas
        else np.zeros(len(areas))
    )
    logit = (
        _logit(base_reach)
        + distance_effect * (km - km.mean())
        + deprivation_effect * deprivation
        + rng.normal(0.0, area_noise, len(areas))
    )
    p = _expit(logit)
    registered = rng.binomial(np.round(u5).astype(int), p)
    n = int(registered.sum())
    area_of = np.repeat(np.arange(len(areas)), registered)
    if all(f"age_{a}" in areas for a in range(5)):
        weights = areas[[f"age_{a}" for a in range(5)]].to_numpy(dtype=float) + 1e-9
        weights = weights / weights.sum(axis=1, keepdims=True)
    else:
        weights = np.full((len(areas), 5), 0.2)
    cumulative = weights.cumsum(axis=1)[area_of]
    ages = (rng.random(n)[:, None] > cumulative).sum(axis=1).clip(0, 4)
    if age_format == "year":
        age_text = ages.astype(str)
    else:
        band = np.where(ages <= 1, "0-1", "2-4")
        if age_format == "band":
            age_text = band
        else:
            age_text = np.where(rng.random(n) < 0.5, ages.astype(str), band)
    end = pd.Timestamp(as_of)
    # Registered some time after birth and before the extract date.
    days_since_birth = (ages * 365 + rng.integers(0, 365, n)).astype(int)
    registered_after = (days_since_birth * rng.random(n)).astype(int)
    dates = end - pd.to_timedelta(days_since_birth - registered_after, unit="D")
    contacts = rng.poisson(mean_contacts * np.exp(0.3 * deprivation[area_of]))
    frame = pd.DataFrame(
        {
            "lsoa_code": areas.index.to_numpy()[area_of],
            "age": age_text,
            "registration_date": dates.strftime("%Y-%m-%d"),
            "contacts_12m": contacts,
        }
    )
    for group, (base, slope) in _GROUP_RATES.items():
        prob = _expit(_logit(base) + slope * deprivation[area_of])
        frame[group] = (rng.random(n) < prob).astype(int)
    frame["synthetic"] = 1
    # Shuffle so the file is not sorted by area, as a real extract would not be.
    return frame.iloc[rng.permutation(n)].reset_index(drop=True)


def write_synthetic_registrations(frame: pd.DataFrame, path: str | Path) -> Path:
    """Write a synthetic extract as CSV; the file name must contain 'synthetic'.

    Raises
    ------
    ValidationError
        If the name lacks the word or the frame is not marked synthetic.
    """
    path = Path(path)
    if "synthetic" not in path.name.lower():
        raise ValidationError(
            f"{path.name}: a synthetic extract's file name must contain 'synthetic' so it cannot "
            f"be mistaken for a real one, e.g. {path.stem}_synthetic{path.suffix or '.csv'}"
        )
    if "synthetic" not in frame or not frame["synthetic"].astype(bool).all():
        raise ValidationError("the frame is not marked synthetic (column 'synthetic' all 1)")
    if path.is_dir():
        raise ValidationError(
            f"{path}: is a folder; give a file name such as extract_synthetic.csv"
        )
    if path.exists() and not _is_synthetic_extract(path):
        raise ValidationError(
            f"{path}: already exists and is not a synthetic extract written by this tool; it is "
            "never overwritten. Give another file name"
        )
    from planning.inputs.safe_csv import write_csv

    path.parent.mkdir(parents=True, exist_ok=True)
    staging = path.with_name(f".{path.name}.partial")
    try:
        write_csv(frame, staging, index=False)
        staging.replace(path)  # one rename: a reader never sees half a file
    finally:
        staging.unlink(missing_ok=True)
    return path


def _is_synthetic_extract(path: Path) -> bool:
    """Whether an existing file is a synthetic extract (header has the ``synthetic`` marker)."""
    try:
        with open(path, encoding="utf-8") as fh:
            header = fh.readline()
    except (OSError, UnicodeDecodeError):
        return False
    return "synthetic" in [name.strip() for name in header.split(",")]
