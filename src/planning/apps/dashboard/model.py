"""The councillors' dashboard: is the area well served, and what if a centre closes or opens?

Two layers, so that the logic is tested without a browser:

* :class:`Dashboard` holds a :class:`~planning.analysis.scenarios.ScenarioEngine` and the change being
  tried (centres switched off, sites added, the distance standard). Every input is treated as
  untrusted (it comes from a web page): centre ids are checked against the known list, sites are
  located with :func:`planning.inputs.centres.locate_point` and must lie near the authority, the distance is
  bounded. Rejections raise :class:`~planning.ValidationError` with a message to show as it is.
  It turns the current evaluation into headline cards, a locality table, a CSV file and plain
  English.
* :func:`build_dashboard` returns the ipywidgets app served by Voila
  (``dashboards/sufficiency.ipynb``); the widgets live in :mod:`planning.apps.dashboard.view`.

Examples
--------
>>> from planning.inputs.areas import toy_town
>>> from planning.inputs.centres import read_centres
>>> import geopandas as gpd, shapely
>>> areas = toy_town(rows=1, columns=5, under5=[100, 200, 300, 400, 500])
>>> centres = gpd.GeoDataFrame(
...     {"name": ["A", "B"], "locality": ["West", "East"]},
...     index=pd.Index(["A", "B"], name="centre_id"),
...     geometry=[shapely.Point(430_500, 335_500), shapely.Point(434_500, 335_500)],
...     crs="EPSG:27700",
... )
>>> board = Dashboard(areas, centres)
>>> board.set_open("B", False)

Under-5s, the estimated under-5s in income-deprived families (IDACI rate 0.2 x 1,500) and the
share within reach:

>>> [card.value for card in board.cards()][:3]
['1,500', '300', '40.0%']
"""

from __future__ import annotations

import base64
import csv
import io
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from planning import _format, settings
from planning._errors import ValidationError
from planning.analysis.need import UNDER5_INCOME_DEPRIVED_LABEL, income_deprived_note
from planning.analysis.scenarios import Evaluation, Scenario, ScenarioEngine, compare
from planning.inputs.centres import far_from_authority
from planning.standards import Standards, load_standards

__all__ = [
    "MAX_ADDED_SITES",
    "REACH_KM_RANGE",
    "WHOLE_AUTHORITY",
    "Card",
    "Dashboard",
    "default_centres",
    "format_count",
    "format_share",
]

#: The distance standard a viewer may choose with the slider, in km (inclusive).
REACH_KM_RANGE = (0.5, 5.0)
#: At most this many sites may be added in one session (keeps the page and the kernel small).
MAX_ADDED_SITES = 20
#: The locality choice that means the whole authority.
WHOLE_AUTHORITY = "Whole authority"
#: Longest postcode text accepted before looking it up (the longest valid one is 8 characters).
_MAX_POSTCODE_CHARS = 16

ILLUSTRATIVE_TEXT = (
    "These centres are illustrative sites, not the council's real centres: they were placed by "
    "a model over real small-area demand. Supply the council's own centres file before relying "
    "on any figure."
)


#: A count as shown on the page (``15,795``) and a share with one decimal (``93.9%``): the
#: house formats of :mod:`planning._format`, kept under these names for existing callers.
format_count = _format.count
format_share = _format.share
_km = _format.standard_km


@dataclass(frozen=True)
class Card:
    """One headline figure: ``key`` names the card (its page class is ``css_class``)."""

    key: str
    label: str
    value: str
    detail: str = ""

    @property
    def css_class(self) -> str:
        return "planning-card-" + self.key.replace("_", "-")


@dataclass(frozen=True)
class Site:
    """A site added in the dashboard, in EPSG:27700 metres."""

    site_id: str
    name: str
    easting: float
    northing: float


def default_centres(authority_code: str) -> Path | None:
    """The packaged centres file for an authority, if there is one (only Derby's illustrative)."""
    return settings.DEFAULT_CENTRES if authority_code == settings.DEFAULT_AUTHORITY else None


def _standards(standards: str | Path | Standards | None) -> Standards:
    return standards if isinstance(standards, Standards) else load_standards(standards)


class Dashboard:
    """The state behind the dashboard: the network, the change being tried, and its figures.

    Parameters
    ----------
    areas : GeoDataFrame
        The authority's small areas (EPSG:27700), as from :func:`planning.load_areas`.
    centres : GeoDataFrame
        The current network, as from :func:`planning.inputs.centres.read_centres`.
    standards : Standards, optional
        Defaults to the packaged ``standards.yaml``.
    authority_code, authority_name : str
        For titles and file names.
    """

    def __init__(
        self,
        areas: gpd.GeoDataFrame,
        centres: gpd.GeoDataFrame,
        *,
        standards: Standards | None = None,
        authority_code: str = "",
        authority_name: str = "",
    ) -> None:
        self.engine = ScenarioEngine(areas, centres, standards=standards)
        self.areas = areas
        self.authority_code = authority_code or str(areas.get("utla_code", pd.Series([""])).iloc[0])
        self.authority_name = authority_name or str(
            areas.get("utla_name", pd.Series(["the authority"])).iloc[0]
        )
        self.standards = self.engine.standards
        self.current = self.engine.current
        self._closed: set[str] = set()
        self._added: dict[str, Site] = {}
        self._site_number = 0
        self._reach_km = float(self.standards.reach_km)
        self._cache: tuple[Any, Evaluation] | None = None
        self._derived: dict[str, Any] = {}
        sources = self.current["source"].astype(str).str.lower()
        self.illustrative = bool((sources == "illustrative").any())
        self.localities: list[str] = sorted(map(str, self.engine.baseline.localities.index))

    @classmethod
    def for_authority(
        cls,
        authority: str = settings.DEFAULT_AUTHORITY,
        *,
        centres: str | Path | gpd.GeoDataFrame | None = None,
        standards: str | Path | Standards | None = None,
    ) -> Dashboard:
        """Load an authority's areas and centres (a file or frame; Derby has a default)."""
        from planning.inputs.areas import load_areas, resolve_authority
        from planning.inputs.centres import read_centres

        code, name = resolve_authority(authority)
        areas = load_areas(code)
        if centres is None:
            centres = default_centres(code)
            if centres is None:
                raise ValidationError(
                    f"no centres file for {name} ({code}): the workbench ships centres only for "
                    "Derby; supply the council's centres file (CSV, GeoJSON or GeoPackage)"
                )
        if not isinstance(centres, gpd.GeoDataFrame):
            centres = read_centres(centres, areas=areas)
        return cls(
            areas,
            centres,
            standards=_standards(standards),
            authority_code=code,
            authority_name=name,
        )

    # ------------------------------------------------------------------ the change being tried

    @property
    def centre_ids(self) -> list[str]:
        """Every centre and added site that can be switched, current network first."""
        return [*self.current.index, *self._added]

    def centre_name(self, centre_id: str) -> str:
        if centre_id in self._added:
            return self._added[centre_id].name
        return str(self.current.loc[centre_id, "name"])

    def is_open(self, centre_id: str) -> bool:
        return self._known(centre_id) not in self._closed

    @property
    def added_sites(self) -> list[Site]:
        return list(self._added.values())

    @property
    def reach_km(self) -> float:
        return self._reach_km

    @property
    def changed(self) -> bool:
        return bool(self._closed or self._added or self._reach_km != self.standards.reach_km)

    def _known(self, centre_id: Any) -> str:
        text = str(centre_id) if isinstance(centre_id, (str, int)) else None
        if text is None or (text not in self.current.index and text not in self._added):
            listed = ", ".join(self.centre_ids[:15])
            shown = repr(centre_id)[:40]
            raise ValidationError(f"unknown centre {shown}; the centres are {listed}")
        return text

    def set_open(self, centre_id: str, is_open: bool) -> None:
        """Switch a centre of the current network on or off; switching an added site off
        removes it.

        Raises
        ------
        ValidationError
            An unknown centre id (the known ones are listed), a value that is not true/false, or
            switching off the last open centre.
        """
        centre_id = self._known(centre_id)
        if not isinstance(is_open, (bool, np.bool_)):
            raise ValidationError(f"centre {centre_id}: on/off must be true or false")
        if is_open:
            self._closed.discard(centre_id)
            return
        open_after = [c for c in self.centre_ids if c != centre_id and c not in self._closed]
        if not open_after:
            raise ValidationError(
                f"{self.centre_name(centre_id)} is the last open centre; at least one must stay open"
            )
        if centre_id in self._added:
            del self._added[centre_id]
        else:
            self._closed.add(centre_id)

    def add_site(
        self,
        *,
        postcode: Any = None,
        latitude: Any = None,
        longitude: Any = None,
        easting: Any = None,
        northing: Any = None,
    ) -> Site:
        """Add a site at a postcode, a clicked point (latitude/longitude) or a grid reference.

        Raises
        ------
        ValidationError
            An unknown or malformed postcode, a point outside England or more than 10 km from
            the authority, or more than :data:`MAX_ADDED_SITES` sites.
        """
        if len(self._added) >= MAX_ADDED_SITES:
            raise ValidationError(
                f"at most {MAX_ADDED_SITES} sites can be added; press Reset to start again"
            )
        label = "the map"
        if postcode is not None:
            if not isinstance(postcode, str):
                raise ValidationError("the postcode must be text, e.g. DE1 2FS")
            postcode = postcode.strip().upper()
            if not postcode:
                raise ValidationError("type a postcode first, e.g. DE1 2FS")
            if len(postcode) > _MAX_POSTCODE_CHARS:
                raise ValidationError(
                    f"'{postcode[:_MAX_POSTCODE_CHARS]}...' is not a postcode; "
                    "a postcode looks like DE1 2FS"
                )
            label = postcode
        from planning.inputs.centres import locate_point

        x, y = locate_point(
            postcode=postcode,
            latitude=latitude,
            longitude=longitude,
            easting=easting,
            northing=northing,
            what="new site",
        )
        far = far_from_authority(self.engine.areas, [x], [y], authority=self.authority_name)[0]
        if far is not None:
            raise ValidationError(f"new site: {label} {far}")
        self._site_number += 1
        site_id = f"NEW{self._site_number}"
        while site_id in self.current.index:
            self._site_number += 1
            site_id = f"NEW{self._site_number}"
        where = f"at {label}" if postcode is not None else "placed on the map"
        site = Site(site_id, f"New site {self._site_number} ({where})", float(x), float(y))
        self._added[site_id] = site
        return site

    def set_reach_km(self, value: Any) -> None:
        """Set the distance standard ("within reach"), in km, within :data:`REACH_KM_RANGE`."""
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise ValidationError(
                f"the distance must be a number of km, not {value!r:.40}"
            ) from None
        low, high = REACH_KM_RANGE
        if not math.isfinite(number) or not low <= number <= high:
            raise ValidationError(f"the distance must be between {low:g} and {high:g} km")
        self._reach_km = round(number, 2)

    def reset(self) -> None:
        """Back to the current network and the standard distance."""
        self._closed.clear()
        self._added.clear()
        self._site_number = 0
        self._reach_km = float(self.standards.reach_km)

    @property
    def scenario(self) -> Scenario:
        """The change being tried, as a :class:`~planning.analysis.scenarios.Scenario`."""
        scenario = Scenario("dashboard")
        for centre_id in self.current.index:
            if centre_id in self._closed:
                scenario = scenario.close(centre_id)
        for site in self._added.values():
            scenario = scenario.open(
                site.site_id, name=site.name, easting=site.easting, northing=site.northing
            )
        if self._reach_km != self.standards.reach_km:
            scenario = scenario.set_standard(reach_km=self._reach_km)
        return scenario

    def _key(self) -> tuple[Any, ...]:
        return (tuple(sorted(self._closed)), tuple(self._added.values()), self._reach_km)

    def evaluate(self) -> Evaluation:
        """The figures for the change being tried (cached until the change changes)."""
        key = self._key()
        if self._cache is None or self._cache[0] != key:
            self._cache = (key, self.engine.evaluate(self.scenario))
            self._derived = {}
        return self._cache[1]

    # ------------------------------------------------------------------ what the page shows

    def figures_for(self, locality: str | None = None) -> Mapping[str, Any] | None:
        """Figures of the authority (``None`` or :data:`WHOLE_AUTHORITY`) or one locality;
        ``None`` when the locality has no open centre in the change being tried."""
        evaluation = self.evaluate()
        if locality in (None, WHOLE_AUTHORITY):
            return evaluation.figures
        if locality not in self.localities:
            raise ValidationError(
                f"unknown locality {str(locality)[:40]!r}; choose one of "
                f"{', '.join(self.localities)} or {WHOLE_AUTHORITY}"
            )
        if locality not in evaluation.localities.index:
            return None
        return evaluation.localities.loc[locality].to_dict()

    def cards(self, locality: str | None = None) -> list[Card]:
        """The headline cards: under-5s, the estimated under-5s in income-deprived families (a
        subset of them; never the IDACI count of children aged 0-15), the shares within reach
        overall and in the most deprived areas (worded from the standards), and the verdict."""
        figures = self.figures_for(locality)
        standards = self.evaluate().standards
        reach = _km(standards.reach_km)
        deprived = f"Within {reach}: {standards.deprived_label} areas"
        income = UNDER5_INCOME_DEPRIVED_LABEL[:1].upper() + UNDER5_INCOME_DEPRIVED_LABEL[1:]
        if figures is None:
            missing = "no open centre in this locality"
            return [
                Card("under5", "Children under 5", "n/a", missing),
                Card("under5_income_deprived", income, "n/a", missing),
                Card("share_within_reach", f"Within {reach} of a centre", "n/a", missing),
                Card("share_deprived_within_reach", deprived, "n/a", missing),
                Card("verdict", "Verdict", "n/a", missing),
            ]
        reasons = list(figures["reasons"])
        worst = re.sub(r"^(Red|Amber|Green): ", "", reasons[0]) if reasons else ""
        return [
            Card("under5", "Children under 5", format_count(figures["under5"]), "ONS mid-2020"),
            Card(
                "under5_income_deprived",
                income,
                format_count(figures["under5_income_deprived"]),
                "under-5s x the area's IDACI rate (see the notes)",
            ),
            Card(
                "share_within_reach",
                f"Within {reach} of a centre",
                format_share(figures["share_within_reach"]),
                f"{format_count(figures['under5_within_reach'])} of "
                f"{format_count(figures['under5'])} under-5s",
            ),
            Card(
                "share_deprived_within_reach",
                deprived,
                format_share(figures["share_deprived_within_reach"]),
                f"{format_count(figures['deprived_under5_within_reach'])} of "
                f"{format_count(figures['deprived_under5'])} under-5s",
            ),
            Card("verdict", "Verdict", str(figures["rag"]), worst),
        ]

    def table(self) -> pd.DataFrame:
        """One row per locality (those with an open centre) and one for the whole authority:
        verdict, counts, shares within reach, centres, load and the reasons."""
        evaluation = self.evaluate()
        if "table" in self._derived:
            return self._derived["table"].copy()
        columns = [
            "rag", "under5", "idaci_children", "share_within_reach",
            "share_deprived_within_reach", "centres", "under5_per_centre", "reasons",
        ]  # fmt: skip
        rows = evaluation.localities[columns].copy()
        total = pd.DataFrame([{c: evaluation.figures[c] for c in columns}], index=[WHOLE_AUTHORITY])
        table = pd.concat([rows, total])
        table.index.name = "locality"
        table.insert(len(columns) - 1, "reach_km", evaluation.standards.reach_km)
        self._derived["table"] = table
        return table.copy()

    def csv(self) -> str:
        """The table as CSV text (reasons joined with '; '); text cells that a spreadsheet
        would read as a formula are prefixed with an apostrophe."""
        table = self.table()
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(["locality", *table.columns])
        for name, row in table.iterrows():
            cells = [name, *row.tolist()]
            writer.writerow([_csv_cell(cell) for cell in cells])
        return buffer.getvalue()

    def csv_data_uri(self) -> str:
        """``data:`` URI of :meth:`csv`, for a download link built on the server."""
        payload = base64.b64encode(self.csv().encode("utf-8")).decode("ascii")
        return f"data:text/csv;charset=utf-8;base64,{payload}"

    def csv_filename(self) -> str:
        slug = re.sub(r"[^a-z0-9]+", "-", self.authority_name.lower()).strip("-") or "authority"
        return f"sufficiency-{slug}-localities.csv"

    def changes(self) -> list[str]:
        """The change being tried, one plain line each."""
        lines = [
            f"Switched off: {self.centre_name(c)}" for c in self.current.index if c in self._closed
        ]
        lines += [f"Added: {site.name}" for site in self._added.values()]
        if self._reach_km != self.standards.reach_km:
            lines.append(
                f"Distance standard: {_km(self._reach_km)} instead of {_km(self.standards.reach_km)}"
            )
        return lines

    def summary(self) -> list[str]:
        """What the change means, in plain English, most important first."""
        if not self.changed:
            return [
                (
                    "This is the current network. Switch a centre off, add a site or move the "
                    "distance to see what would change."
                )
            ]
        return compare(self.engine.baseline, self.evaluate()).summary_lines()

    def notes(self) -> list[str]:
        """Caveats the page must carry."""
        notes = [ILLUSTRATIVE_TEXT] if self.illustrative else []
        # The cards headline the estimated under-5s in income-deprived families: say what rate
        # they rest on and how far the denominator's vintage could move them.
        notes.append(income_deprived_note(self.engine.areas))
        return notes

    def map_layers(self) -> dict[str, Any]:
        """What the map draws for the change being tried (EPSG:27700; the view reprojects):
        each centre's position, kind and whether open; the areas beyond reach; the distance."""
        evaluation = self.evaluate()
        open_ids = set(evaluation.centres.index)
        rows = []
        for centre_id in self.current.index:
            row = self.current.loc[centre_id]
            rows.append(
                (centre_id, str(row["name"]), str(row["kind"]), float(row["easting"]),
                 float(row["northing"]), centre_id in open_ids, False)
            )  # fmt: skip
        for site in self._added.values():
            rows.append((site.site_id, site.name, "new", site.easting, site.northing, True, True))
        centres = pd.DataFrame(
            rows, columns=["centre_id", "name", "kind", "easting", "northing", "open", "added"]
        ).set_index("centre_id")
        served_by = evaluation.areas["centre_id"]
        locality = served_by.map(evaluation.centres["locality"].astype(str))
        return {
            "centres": centres,
            "beyond_reach": evaluation.areas.index[~evaluation.areas["within_reach"].to_numpy()],
            "area_locality": locality,
            "reach_m": float(evaluation.standards.reach_m),
        }


def _csv_cell(value: Any) -> Any:
    if isinstance(value, list):
        value = "; ".join(map(str, value))
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    if isinstance(value, (float, np.floating)) and not np.isfinite(value):
        return ""
    return value
