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
from planning.analysis.scenarios import Evaluation, Headline, Scenario, ScenarioEngine, compare
from planning.inputs.locations import far_from_authority
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
    """One headline figure: ``key`` names the card (its page class is ``css_class``);
    ``scope`` says what it covers ("Whole authority: Derby" or "Locality: East")."""

    key: str
    label: str
    value: str
    detail: str = ""
    scope: str = ""

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
    #: Set when the site is where an open centre or another added site already is.
    warning: str = ""


#: A site this close (metres) to an open centre or another added site is "the same place".
DUPLICATE_SITE_M = 100.0


def default_centres(authority_code: str) -> Path:
    """The centres file the dashboard opens an authority with: its illustrative sites, by the
    command line's rule (:func:`planning.inputs.illustrative.resolve_centres`: the shipped file
    for Derby and Thurrock, sites placed now for any other authority)."""
    from planning.inputs.illustrative import resolve_centres

    return resolve_centres(authority_code)


def _street_distances(
    network: str | Path | None, areas: gpd.GeoDataFrame, standards: Standards, name: str
) -> tuple[Any, str | None]:
    """Street-network distances for the dashboard, and the sentence that says which are used.

    A network that does not cover the authority (the page can switch authority) gives the
    straight line instead, and says so; a file that cannot be read is an error as on the
    command line."""
    if network is None:
        return None, None
    from planning._errors import ValidationError
    from planning.analysis.distance import area_points
    from planning.analysis.network_distance import NetworkDistances, largest_reach_metres
    from planning.inputs.network import read_network

    label = Path(network).name
    distances = NetworkDistances(read_network(network), max_metres=largest_reach_metres(standards))
    try:
        distances.check_covers(area_points(areas))
    except ValidationError as problem:
        return None, (
            f"Distances are straight lines x {standards.walk_circuity:g}: the street network "
            f"{label} does not cover {name} ({problem})."
        )
    return distances, f"Distances are walked along the streets of {label}, not straight lines."


def _standards(standards: str | Path | Standards | None) -> Standards:
    return standards if isinstance(standards, Standards) else load_standards(standards)


class Dashboard:
    """The state behind the dashboard: the network, the change being tried, and its figures.

    Parameters
    ----------
    areas : GeoDataFrame
        The authority's small areas (EPSG:27700), as from :func:`planning.load_areas`.
    centres : GeoDataFrame
        The current network, as from :func:`planning.inputs.centres.read_centres`; other
        authorities' centres near the boundary may follow, flagged ``neighbour``.
    standards : Standards, optional
        Defaults to the packaged ``standards.yaml``.
    authority_code, authority_name : str
        For titles and file names.
    neighbours : GeoDataFrame, optional
        Other authorities' areas near the boundary (demand only), as
        :func:`planning.runs.sufficiency.cross_boundary_inputs` gives them.
    distances : NetworkDistances, optional
        Street-network distances (:class:`planning.analysis.network_distance.NetworkDistances`)
        instead of the straight line.
    distance_note : str, optional
        How distances are measured, shown with the page's notes.
    """

    def __init__(
        self,
        areas: gpd.GeoDataFrame,
        centres: gpd.GeoDataFrame,
        *,
        standards: Standards | None = None,
        authority_code: str = "",
        authority_name: str = "",
        neighbours: gpd.GeoDataFrame | None = None,
        distances: Any = None,
        distance_note: str | None = None,
    ) -> None:
        self.engine = ScenarioEngine(
            areas, centres, standards=standards, neighbours=neighbours, distances=distances
        )
        #: How distances are measured, said on the page (street network or straight line).
        self.distance_note = distance_note
        self.areas = areas
        self.authority_code = authority_code or str(areas.get("utla_code", pd.Series([""])).iloc[0])
        self.authority_name = authority_name or str(
            areas.get("utla_name", pd.Series(["the authority"])).iloc[0]
        )
        self.standards = self.engine.standards
        # The council's own centres are the ones a councillor can switch; other authorities'
        # (no authority is an island) serve border families but are not the council's to close.
        current = self.engine.current
        self.current = current[~current["neighbour"].astype(bool)]
        self._closed: set[str] = set()
        self._added: dict[str, Site] = {}
        self._site_number = 0
        self._reach_km = float(self.standards.reach_km)
        self._cache: tuple[Any, Evaluation] | None = None
        self._headline: tuple[Any, Headline] | None = None
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
        network: str | Path | None = None,
    ) -> Dashboard:
        """Load an authority's areas and centres: a file or frame, else the authority's
        illustrative sites (:func:`default_centres`, the command line's rule).

        With ``network`` (an OSM ``.pbf`` or GraphML file, as ``--network`` on the command line)
        distances are measured along its streets; a network that does not cover this authority
        (another authority chosen on the page) falls back to the straight line, and the page
        says so."""
        from planning.inputs.areas import load_areas, resolve_authority
        from planning.inputs.centres import read_centres

        code, name = resolve_authority(authority)
        areas = load_areas(code)
        if centres is None:
            centres = default_centres(code)
        if not isinstance(centres, gpd.GeoDataFrame):
            centres = read_centres(centres, areas=areas)
        from planning.runs.sufficiency import cross_boundary_inputs

        applied = _standards(standards)
        # Families near the boundary use the nearest centre whoever runs it, as on the command
        # line: the same neighbouring areas and centres.
        supply, neighbours, _ = cross_boundary_inputs(areas, centres, applied)
        distances, note = _street_distances(network, areas, applied, name)
        return cls(
            areas,
            supply,
            standards=applied,
            authority_code=code,
            authority_name=name,
            neighbours=neighbours,
            distances=distances,
            distance_note=note,
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
                f"You can add at most {MAX_ADDED_SITES} sites. Press Reset to start again."
            )
        if postcode is not None:
            label, x, y = self._locate_postcode(postcode)
        else:
            from planning.inputs.locations import locate_point

            label = "The point clicked"
            x, y = locate_point(
                latitude=latitude,
                longitude=longitude,
                easting=easting,
                northing=northing,
                what="new site",
            )
        far = far_from_authority(self.engine.areas, [x], [y], authority=self.authority_name)[0]
        if far is not None:
            raise ValidationError(f"{label} {far}.")
        self._site_number += 1
        site_id = f"NEW{self._site_number}"
        while site_id in self.current.index:
            self._site_number += 1
            site_id = f"NEW{self._site_number}"
        where = f"at {label}" if postcode is not None else "placed on the map"
        name = f"New site {self._site_number} ({where})"
        site = Site(site_id, name, float(x), float(y), self._duplicate_warning(name, x, y))
        self._added[site_id] = site
        return site

    def _locate_postcode(self, postcode: Any) -> tuple[str, float, float]:
        """The postcode in its standard form (``de12fs`` -> ``DE1 2FS``) and its grid point;
        every refusal is worded for the person typing."""
        from planning.inputs.locations import lookup_postcodes

        example = "Type a full postcode such as DE1 2FS, or click the map."
        if not isinstance(postcode, str):
            raise ValidationError(f"A postcode is text. {example}")
        typed = " ".join(postcode.split()).upper()
        if not typed:
            raise ValidationError("Type a postcode such as DE1 2FS, or click the map.")
        if len(typed) > _MAX_POSTCODE_CHARS:
            raise ValidationError(
                f"We couldn't find {typed[:_MAX_POSTCODE_CHARS]}...: that is too long for a "
                f"postcode. {example}"
            )
        found = lookup_postcodes([typed]).iloc[0]
        if found["status"] == "invalid":
            raise ValidationError(f"We couldn't find {typed}. {example}")
        shown = str(found["postcode"])
        if found["status"] != "found":
            raise ValidationError(
                f"We couldn't find {shown} in the ONS Postcode Directory (it may be new or "
                "no longer used). Check it, try a postcode nearby, or click the map."
            )
        return shown, float(found["easting"]), float(found["northing"])

    def _duplicate_warning(self, name: str, x: float, y: float) -> str:
        """A warning when the new site is where an open centre or an added site already is
        (within :data:`DUPLICATE_SITE_M`): two centres at one place add no reach."""
        places = [
            (self.centre_name(c), float(self.current.loc[c, "easting"]),
             float(self.current.loc[c, "northing"]))
            for c in self.current.index if c not in self._closed
        ]  # fmt: skip
        places += [(site.name, site.easting, site.northing) for site in self._added.values()]
        for other, east, north in places:
            if math.hypot(east - x, north - y) <= DUPLICATE_SITE_M:
                return (
                    f"{name} is at the same place as {other} (within {DUPLICATE_SITE_M:.0f} m): "
                    "it adds no reach. Switch it off if it was a mistake."
                )
        return ""

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

    def headline(self) -> Headline:
        """The headline figures of the change being tried, from the engine's array path
        (:meth:`ScenarioEngine.headline`, under a millisecond): what the cards show for the
        whole authority, so they follow every control at once (cached until the change
        changes)."""
        key = self._key()
        if self._headline is None or self._headline[0] != key:
            self._headline = (key, self.engine.headline(self.scenario))
        return self._headline[1]

    def evaluate(self) -> Evaluation:
        """Every table for the change being tried (:meth:`ScenarioEngine.evaluate`: localities,
        centres, areas), for the map, the table, the summary and a locality's cards; built at
        most once per change (cached until the change changes)."""
        key = self._key()
        if self._cache is None or self._cache[0] != key:
            self._cache = (key, self.engine.evaluate(self.scenario))
            self._derived = {}
        return self._cache[1]

    def uncertainty(self, *, draws: int = 1_000) -> Any:
        """The uncertainty draws of the change being tried
        (:func:`planning.analysis.uncertainty.assess_uncertainty`, packaged model, fixed seed),
        kept until the change changes."""
        from planning.analysis.uncertainty import assess_uncertainty
        from planning.inputs.splits import split_groups

        self.evaluate()  # resets the derived figures when the change has changed
        key = f"uncertainty-{draws}"
        if key not in self._derived:
            result = self.evaluate().to_result()
            self._derived[key] = assess_uncertainty(
                result, draws=draws, split_groups=split_groups()
            )
        return self._derived[key]

    def verdict_odds(self, *, draws: int = 1_000) -> list[str]:
        """How sure each verdict of the change being tried is: the authority's and every
        locality's verdict with its probability over ``draws`` plausible sets of inputs
        (:func:`planning.analysis.uncertainty.assess_uncertainty` with the packaged model; the
        same seed every time, so the same change gives the same answer), robust or fragile."""
        from planning.analysis.uncertainty import verdict_text

        table = self.uncertainty(draws=draws).table
        lines = []
        for _, row in table[table["level"].isin(["authority", "locality"])].iterrows():
            place = (
                f"Whole authority ({self.authority_name})"
                if row["level"] == "authority"
                else f"{row['name']}"
            )
            steady = "robust" if row["robust"] else "fragile: it could go either way"
            lines.append(f"{place}: {verdict_text(row)} ({steady})")
        return lines

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
        scope = self.scope(locality)
        if locality in (None, WHOLE_AUTHORITY):
            # The whole authority's cards from the array path: no table is built for them.
            headline = self.headline()
            standards = headline.standards
            figures: Mapping[str, Any] | None = {
                key: getattr(headline, key)
                for key in (
                    "under5",
                    "under5_income_deprived",
                    "share_within_reach",
                    "under5_within_reach",
                    "share_deprived_within_reach",
                    "deprived_under5_within_reach",
                    "deprived_under5",
                    "rag",
                    "reasons",
                )
            }
        else:
            figures = self.figures_for(locality)
            standards = self.evaluate().standards
        reach = _km(standards.reach_km)
        deprived = f"Within {reach}: {standards.deprived_label} areas"
        income = UNDER5_INCOME_DEPRIVED_LABEL[:1].upper() + UNDER5_INCOME_DEPRIVED_LABEL[1:]
        if figures is None:
            missing = "no open centre in this locality"
            return [
                Card("under5", "Children under 5", "n/a", missing, scope),
                Card("under5_income_deprived", income, "n/a", missing, scope),
                Card("share_within_reach", f"Within {reach} of a centre", "n/a", missing, scope),
                Card("share_deprived_within_reach", deprived, "n/a", missing, scope),
                Card("verdict", "Verdict", "n/a", missing, scope),
            ]
        reasons = list(figures["reasons"])
        worst = re.sub(r"^(Red|Amber|Green): ", "", reasons[0]) if reasons else ""
        cards = [
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
        return [Card(c.key, c.label, c.value, c.detail, scope) for c in cards]

    def scope(self, locality: str | None = None) -> str:
        """What the cards cover: "Whole authority: Derby" or "Locality: East"."""
        if locality in (None, WHOLE_AUTHORITY):
            return f"Whole authority: {self.authority_name}"
        return f"Locality: {locality}"

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
        """The table as CSV text, for a spreadsheet.

        Comment lines (``#``) first: the authority, the change being tried (or "the current
        network"), and the illustrative caveat when the centres are illustrative, so figures
        for a change are never taken for the current network. Figures are rounded: counts to
        whole children, shares to percentages with one decimal, loads to whole under-5s.
        Reasons are joined with '; '; text cells that a spreadsheet would read as a formula are
        prefixed with an apostrophe.
        """
        table = self.table()
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        changes = self.changes()
        header = [
            f"Children's centre sufficiency: {self.authority_name} ({self.authority_code})",
            "Change being tried: " + "; ".join(changes)
            if changes
            else "Change being tried: none (the current network)",
        ]
        if self.changed:
            header.append(
                "These figures are for the change being tried, not for the current network."
            )
        if self.illustrative:
            header.append(ILLUSTRATIVE_TEXT)
        for line in header:
            # Plain comment lines (pandas: ``read_csv(..., comment="#")``), never quoted.
            buffer.write("# " + " ".join(line.split()) + "\n")
        columns = [_CSV_COLUMNS.get(c, c) for c in table.columns]
        writer.writerow(["locality", *columns])
        for name, row in table.iterrows():
            cells = [name, *(_rounded(c, row[c]) for c in table.columns)]
            writer.writerow([_csv_cell(cell) for cell in cells])
        return buffer.getvalue()

    def csv_data_uri(self) -> str:
        """``data:`` URI of :meth:`csv`, for a download link built on the server."""
        payload = base64.b64encode(self.csv().encode("utf-8")).decode("ascii")
        return f"data:text/csv;charset=utf-8;base64,{payload}"

    def scenario_slug(self) -> str:
        """The change being tried in a file name: ``current``, ``close-CC03``,
        ``close-CC03_add-NEW1_reach-3km``."""
        parts = [f"close-{c}" for c in self.current.index if c in self._closed]
        parts += [f"add-{site_id}" for site_id in self._added]
        if self._reach_km != self.standards.reach_km:
            parts.append(f"reach-{self._reach_km:g}km".replace(".", "_"))
        text = "_".join(parts) or "current"
        return re.sub(r"[^A-Za-z0-9_-]+", "-", text)[:120]

    def csv_filename(self) -> str:
        """E.g. ``derby_sufficiency_current.csv`` or ``derby_sufficiency_close-CC03.csv``."""
        slug = re.sub(r"[^a-z0-9]+", "_", self.authority_name.lower()).strip("_") or "authority"
        return f"{slug}_sufficiency_{self.scenario_slug()}.csv"

    def locality_moves(self) -> list[str]:
        """Areas whose nearest centre moves to another locality under the change, one line per
        pair of localities, largest first: "West lost 1,360 under-5s to East: their nearest
        centre is now in East". Computed from each area's serving centre (the engine's
        assignment) in the current network and under the change."""
        if not self.changed:
            return []
        evaluation = self.evaluate()
        baseline = self.engine.baseline
        before = baseline.areas["centre_id"].map(baseline.centres["locality"].astype(str))
        after = evaluation.areas["centre_id"].map(evaluation.centres["locality"].astype(str))
        after = after.reindex(before.index)
        moved = before.notna() & after.notna() & (before != after)
        if not moved.any():
            return []
        under5 = self.areas["under5"].reindex(before.index)
        totals = (
            pd.DataFrame({"from": before[moved], "to": after[moved], "under5": under5[moved]})
            .groupby(["from", "to"], sort=False)["under5"]
            .sum()
            .sort_values(ascending=False, kind="stable")
        )
        return [
            f"{source} lost {format_count(count)} under-5s to {target}: their nearest centre "
            f"is now in {target}"
            for (source, target), count in totals.items()
        ]

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
        if self.distance_note:
            notes.append(self.distance_note)
        # The cards headline the estimated under-5s in income-deprived families: say what rate
        # they rest on and how far the denominator's vintage could move them.
        notes.append(income_deprived_note(self.engine.areas))
        return notes

    def centre_details(self, centre_id: str) -> dict[str, str]:
        """What a centre's popup says: name, locality, hub or branch, load and its status in
        the standards' range, whether it is open, and what a click on it does."""
        centre_id = self._known(centre_id)
        evaluation = self.evaluate()
        standards = evaluation.standards
        added = centre_id in self._added
        if added:
            kind = "New site"
        else:
            kind = str(self.current.loc[centre_id, "kind"]).strip().lower()
            kind = {"hub": "Family hub", "branch": "Branch"}.get(
                kind, kind.capitalize() or "Centre"
            )
        is_open = centre_id in evaluation.centres.index
        if is_open:
            row = evaluation.centres.loc[centre_id]
            locality = str(row["locality"]) if pd.notna(row["locality"]) else "none"
            # 'above range' -> 'above the 600-1,200 range'
            status = str(row["load_status"]).replace(
                " range", f" the {standards.load_range_label} range"
            )
            load = f"{format_count(row['under5'])} under-5s, {status}"
        else:
            locality = str(self.current.loc[centre_id, "locality"])
            load = "none while switched off"
        return {
            "name": self.centre_name(centre_id),
            "locality": locality,
            "kind": kind,
            "load": load,
            "state": "Open" if is_open else "Switched off",
            "action": (
                "Click the marker again to switch it back on."
                if not is_open
                else "Click the marker to remove this site."
                if added
                else "Click the marker to switch it off."
            ),
        }

    def area_details(self, area_code: Any) -> dict[str, str] | None:
        """What hovering an area shows: its name, under-5s, the distance to its nearest open
        centre and that centre (with its locality), under the change being tried; ``None``
        for a code that is not one of the authority's areas."""
        if not isinstance(area_code, str) or area_code not in self.areas.index:
            return None
        evaluation = self.evaluate()
        served = evaluation.areas.loc[area_code]
        centre_id = str(served["centre_id"])
        centre = (
            evaluation.centres.loc[centre_id] if centre_id in evaluation.centres.index else None
        )
        name = self.areas.loc[area_code, "area_name"] if "area_name" in self.areas else area_code
        reach = "within reach" if bool(served["within_reach"]) else "beyond reach"
        return {
            "name": f"{name} ({area_code})",
            "under5": format_count(self.areas.loc[area_code, "under5"]),
            "distance": f"{float(served['distance_m']) / 1000:.1f} km ({reach})",
            "centre": (
                f"{self.centre_name(centre_id)}, {centre['locality']} locality"
                if centre is not None
                else "none"
            ),
        }

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


#: CSV column names where the figure is shown as a percentage.
_CSV_COLUMNS = {
    "share_within_reach": "percent_within_reach",
    "share_deprived_within_reach": "percent_deprived_within_reach",
}


def _rounded(column: str, value: Any) -> Any:
    """A table figure as the CSV shows it: shares as percentages to one decimal, distances to
    two decimals, other numbers to whole children or under-5s per centre."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.number)):
        return value
    if not np.isfinite(value):
        return ""
    if column in _CSV_COLUMNS:
        return round(100 * float(value), 1)
    if column == "reach_km":
        return round(float(value), 2)
    return round(float(value))


def _csv_cell(value: Any) -> Any:
    if isinstance(value, list):
        value = "; ".join(map(str, value))
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    if isinstance(value, (float, np.floating)) and not np.isfinite(value):
        return ""
    return value
