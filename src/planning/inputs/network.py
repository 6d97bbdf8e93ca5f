"""Street networks: a walking (or driving) graph from an OpenStreetMap extract or a GraphML file.

The council supplies the file (nothing is downloaded): an OpenStreetMap extract for its county
(``.osm.pbf``, as the public OSM mirrors such as Geofabrik publish them), read with pyosmium, or
a GraphML file (for example one saved by osmnx), read with networkx. Ways are kept by the tag
filter below, node coordinates are projected once to British National Grid (EPSG:27700), and
each edge is weighted by its length in metres. Only the largest connected part of the graph is
kept, so that every snapped point can reach every other.

Tag filter (``walk``; see :data:`WALK_EXCLUDED`)
    Every ``highway=*`` way except motorways and their slip roads, roads under construction or
    proposed, abandoned ways, platforms, raceways and bus guideways; not ``area=yes``, not
    ``foot=no``/``foot=private``, not ``access=no``/``access=private`` unless ``foot`` allows
    it. Footways, paths, steps, pedestrian streets, cycleways (shared use in England unless
    ``foot=no``), tracks, residential, service and classified roads are walked both ways.

Tag filter (``drive``; see :data:`DRIVE_HIGHWAYS`)
    Motorways to residential and service roads and their links; not ``access``/``motor_vehicle``
    ``no`` or ``private``; one-way streets (``oneway=yes``/``1``/``-1``, roundabouts, motorways)
    are followed in their direction only.

The built graph is cached next to the input as ``<file>.<mode>-<hash>.network.npz``, keyed by
the file's SHA-256 and the filter version, and re-used while the file is unchanged. When the
input's folder cannot be written, the cache goes to the user cache folder
(``~/.cache/planning/networks`` on Linux); :attr:`StreetNetwork.cache_path` says where.
"""

from __future__ import annotations

import ast
import json
import logging
import os
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
from scipy import sparse
from scipy.sparse.csgraph import connected_components

from planning._errors import CRSError, ValidationError
from planning._files import file_sha256

__all__ = [
    "DRIVE_HIGHWAYS",
    "MODES",
    "WALK_EXCLUDED",
    "StreetNetwork",
    "cache_folder",
    "is_drivable",
    "is_walkable",
    "read_network",
]

logger = logging.getLogger(__name__)

#: The graphs that can be built from a network file.
MODES = ("walk", "drive")

#: ``highway`` values never walked.
WALK_EXCLUDED = frozenset(
    {
        "motorway",
        "motorway_link",
        "construction",
        "proposed",
        "planned",
        "abandoned",
        "disused",
        "razed",
        "platform",
        "raceway",
        "bus_guideway",
        "escape",
        "elevator",
    }
)

#: ``highway`` values driven.
DRIVE_HIGHWAYS = frozenset(
    {
        "motorway",
        "motorway_link",
        "trunk",
        "trunk_link",
        "primary",
        "primary_link",
        "secondary",
        "secondary_link",
        "tertiary",
        "tertiary_link",
        "unclassified",
        "residential",
        "living_street",
        "service",
        "road",
    }
)

#: Bumped whenever the filter or the cache layout changes, so that old caches are not re-used.
FILTER_VERSION = 1

#: Great Britain in EPSG:27700 (metres), with a margin: projected nodes must fall inside.
_GB_BOUNDS = (-100_000.0, -100_000.0, 800_000.0, 1_300_000.0)

_NO = {"no", "private"}


def is_walkable(tags: dict[str, str]) -> bool:
    """Whether a way with these OSM tags is walked (the ``walk`` filter in the module notes).

    Examples
    --------
    >>> is_walkable({"highway": "footway"}), is_walkable({"highway": "motorway"})
    (True, False)
    >>> is_walkable({"highway": "residential", "access": "private", "foot": "yes"})
    True
    """
    highway = tags.get("highway")
    if not highway or highway in WALK_EXCLUDED:
        return False
    if tags.get("area") == "yes" or tags.get("foot") in _NO:
        return False
    return not (tags.get("access") in _NO and tags.get("foot") not in {"yes", "designated"})


def is_drivable(tags: dict[str, str]) -> bool:
    """Whether a way with these OSM tags is driven (the ``drive`` filter in the module notes)."""
    if tags.get("highway") not in DRIVE_HIGHWAYS or tags.get("area") == "yes":
        return False
    return tags.get("access") not in _NO and tags.get("motor_vehicle") not in _NO


def _oneway(tags: dict[str, str]) -> int:
    """1 forward only, -1 backward only, 0 both ways (driving)."""
    value = tags.get("oneway", "")
    if value in {"yes", "1", "true"}:
        return 1
    if value == "-1":
        return -1
    if value == "no":
        return 0
    return 1 if tags.get("junction") == "roundabout" or tags.get("highway") == "motorway" else 0


@dataclass(frozen=True)
class StreetNetwork:
    """A street graph in EPSG:27700 metres.

    Attributes
    ----------
    node_xy : ndarray
        ``(N, 2)`` easting and northing of every node.
    graph : scipy.sparse.csr_matrix
        ``(N, N)`` edge lengths in metres; for a walking graph each edge is stored once and
        walked both ways (``directed`` False).
    directed : bool
        Whether edges are followed only from row to column (driving, one-way streets).
    mode : str
        ``walk`` or ``drive``.
    source : str
        The input file's name.
    sha256 : str
        The input file's SHA-256.
    cache_path : Path or None
        Where the built graph is cached.
    from_cache : bool
        Whether this graph was read from the cache.
    dropped_nodes : int
        Nodes left out because they are not connected to the largest part of the network.
    """

    node_xy: np.ndarray
    graph: sparse.csr_matrix
    directed: bool
    mode: str
    source: str
    sha256: str
    cache_path: Path | None = None
    from_cache: bool = False
    dropped_nodes: int = 0

    @property
    def n_nodes(self) -> int:
        """Number of nodes."""
        return len(self.node_xy)

    @property
    def n_edges(self) -> int:
        """Number of stored edges."""
        return int(self.graph.nnz)

    def describe(self) -> str:
        """One line for notes and logs."""
        graph = "walking" if self.mode == "walk" else "driving"
        return (
            f"the {graph} graph of {self.source} ({self.n_nodes:,} nodes, {self.n_edges:,} edges)"
        )


def cache_folder() -> Path:
    """The user cache folder for networks whose input folder cannot be written."""
    import platformdirs

    return Path(platformdirs.user_cache_dir("planning")) / "networks"


def _cache_name(path: Path, mode: str, sha256: str) -> str:
    return f"{path.name}.{mode}-{sha256[:16]}-v{FILTER_VERSION}.network.npz"


def _writable(folder: Path) -> bool:
    return folder.is_dir() and os.access(folder, os.W_OK | os.X_OK)


def read_network(path: str | Path, *, mode: str = "walk", cache: bool = True) -> StreetNetwork:
    """Read a street network file and build its walking or driving graph.

    Parameters
    ----------
    path : path
        An OpenStreetMap extract (``.osm.pbf``, ``.osm``, ``.osm.bz2``) or a GraphML file
        (``.graphml``, with node ``x``/``y`` and a graph-level ``crs``; edge ``length`` in
        metres is used when present).
    mode : {"walk", "drive"}
        Which graph (the module notes give the tag filters).
    cache : bool
        Re-use, or write, the built graph cached next to the input (or in
        :func:`cache_folder` when that folder is read-only).

    Raises
    ------
    ValidationError
        An empty or unreadable file, a file with no way the filter keeps, or a GraphML file
        whose coordinates do not match its CRS (:class:`planning.CRSError`).
    """
    path = Path(path)
    if mode not in MODES:
        raise ValidationError(f"network mode '{mode}' is not known; valid: {', '.join(MODES)}")
    if not path.is_file():
        raise ValidationError(f"{path}: network file not found; give an OSM extract or GraphML")
    if path.stat().st_size == 0:
        raise ValidationError(
            f"{path}: the network file is empty; download the county's OpenStreetMap extract "
            "(.osm.pbf) again, or give a GraphML file"
        )
    sha256 = file_sha256(path)
    name = _cache_name(path, mode, sha256)
    places = [path.parent / name, cache_folder() / name]
    if cache:
        for place in places:
            if place.is_file():
                try:
                    network = _read_cache(place, path, mode, sha256)
                except (OSError, ValueError, KeyError) as error:
                    logger.warning("ignoring unreadable network cache %s: %s", place, error)
                    continue
                logger.info("street network read from the cache %s", place)
                return network
    suffixes = "".join(path.suffixes).lower()
    if suffixes.endswith(".graphml") or suffixes.endswith(".graphml.gz"):
        xy, u, v, metres, oneway = _from_graphml(path, mode)
    else:
        xy, u, v, metres, oneway = _from_osm(path, mode)
    network = _build(xy, u, v, metres, oneway, mode=mode, source=path.name, sha256=sha256)
    if cache:
        target = None
        for place in places if _writable(path.parent) else places[1:]:
            if place.exists():
                # Only a file that is not a readable cache of this network gets here: it may
                # not be ours, so it is never replaced.
                logger.warning("not replacing %s, which is not this network's cache", place)
                continue
            try:
                _write_cache(network, place)
            except OSError as error:
                logger.warning("cannot cache the street network in %s: %s", place.parent, error)
                continue
            target = place
            break
        if target is not None and target != places[0]:
            logger.warning(
                "%s is read-only: the street network is cached in %s", path.parent, target.parent
            )
        network = replace(network, cache_path=target)
    return network


def _build(
    xy: np.ndarray,
    u: np.ndarray,
    v: np.ndarray,
    metres: np.ndarray,
    oneway: np.ndarray,
    *,
    mode: str,
    source: str,
    sha256: str,
) -> StreetNetwork:
    """The graph of the largest connected part, as a CSR matrix of metres."""
    if len(u) == 0:
        kind = "walkable" if mode == "walk" else "drivable"
        raise ValidationError(
            f"{source}: no {kind} ways (highway=* passing the {mode} tag filter) in the network "
            "file; check that it is a street extract for the authority, not an empty or "
            "boundary-only file"
        )
    directed = mode == "drive"
    keep = u != v
    u, v, metres, oneway = u[keep], v[keep], metres[keep], oneway[keep]
    # Backward one-way edges are stored reversed; two-way driving edges both ways.
    if directed:
        back = oneway < 0
        u, v = np.where(back, v, u), np.where(back, u, v)
        both = oneway == 0
        u, v = np.concatenate([u, v[both]]), np.concatenate([v, u[both]])
        metres = np.concatenate([metres, metres[both]])
    n = len(xy)
    # Parallel edges keep their shortest length (coo -> csr would add them).
    order = np.lexsort((metres, v, u))
    u, v, metres = u[order], v[order], metres[order]
    first = np.ones(len(u), dtype=bool)
    first[1:] = (u[1:] != u[:-1]) | (v[1:] != v[:-1])
    u, v, metres = u[first], v[first], metres[first]
    # A zero-length edge would vanish from a sparse matrix: keep it at a millimetre.
    metres = np.maximum(metres, 1e-3)
    graph = sparse.csr_matrix((metres, (u, v)), shape=(n, n))
    _, labels = connected_components(graph, directed=directed, connection="weak")
    # Nodes on no kept way are their own components; the largest component is the network.
    largest = np.bincount(labels).argmax()
    inside = labels == largest
    used = np.zeros(n, dtype=bool)
    used[u] = True
    used[v] = True
    dropped = int((used & ~inside).sum())
    renumber = np.full(n, -1, dtype=np.int64)
    renumber[inside] = np.arange(int(inside.sum()))
    graph = graph[inside][:, inside].tocsr()
    return StreetNetwork(
        node_xy=np.ascontiguousarray(xy[inside], dtype=float),
        graph=graph,
        directed=directed,
        mode=mode,
        source=source,
        sha256=sha256,
        dropped_nodes=dropped,
    )


def _write_cache(network: StreetNetwork, target: Path) -> None:
    """Write the cache atomically (a reader never sees half a file)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    meta = {
        "mode": network.mode,
        "sha256": network.sha256,
        "filter_version": FILTER_VERSION,
        "directed": network.directed,
        "dropped_nodes": network.dropped_nodes,
    }
    partial = target.with_name(f".{target.name}.{os.getpid()}.partial")
    graph = network.graph
    with partial.open("wb") as handle:
        np.savez(
            handle,
            node_xy=network.node_xy,
            indptr=graph.indptr,
            indices=graph.indices,
            data=graph.data,
            meta=np.array(json.dumps(meta)),
        )
    partial.replace(target)
    logger.info("street network cached in %s", target)


def _read_cache(place: Path, path: Path, mode: str, sha256: str) -> StreetNetwork:
    with np.load(place, allow_pickle=False) as stored:
        meta = json.loads(str(stored["meta"]))
        if (
            meta["sha256"] != sha256
            or meta["mode"] != mode
            or meta["filter_version"] != FILTER_VERSION
        ):
            raise ValueError("the cache is for another file or filter")
        xy = stored["node_xy"]
        n = len(xy)
        graph = sparse.csr_matrix(
            (stored["data"], stored["indices"], stored["indptr"]), shape=(n, n)
        )
    return StreetNetwork(
        node_xy=xy,
        graph=graph,
        directed=bool(meta["directed"]),
        mode=mode,
        source=path.name,
        sha256=sha256,
        cache_path=place,
        from_cache=True,
        dropped_nodes=int(meta["dropped_nodes"]),
    )


# -- OpenStreetMap (pyosmium) -----------------------------------------------------------------


def _from_osm(
    path: Path, mode: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Nodes and edges of the ways an OSM file's filter keeps, projected to EPSG:27700."""
    import osmium

    keep = is_walkable if mode == "walk" else is_drivable
    ids: dict[int, int] = {}
    lon: list[float] = []
    lat: list[float] = []
    u: list[int] = []
    v: list[int] = []
    oneway: list[int] = []
    try:
        processor = (
            osmium.FileProcessor(str(path))
            .with_locations()
            .with_filter(osmium.filter.KeyFilter("highway"))
        )
        for obj in processor:
            if not isinstance(obj, osmium.osm.Way):
                continue
            tags = dict(obj.tags)
            if not keep(tags):
                continue
            direction = _oneway(tags) if mode == "drive" else 0
            previous = -1
            for node in obj.nodes:
                if not node.location.valid():
                    previous = -1
                    continue
                position = ids.get(node.ref)
                if position is None:
                    position = ids[node.ref] = len(lon)
                    lon.append(node.location.lon)
                    lat.append(node.location.lat)
                if previous >= 0:
                    u.append(previous)
                    v.append(position)
                    oneway.append(direction)
                previous = position
    except RuntimeError as error:
        raise ValidationError(
            f"{path}: not a readable OpenStreetMap file ({error}); give an .osm.pbf extract "
            "as the OSM mirrors publish it, or a GraphML file"
        ) from error
    xy = _project(np.array(lon, dtype=float), np.array(lat, dtype=float), "EPSG:4326")
    u_array = np.array(u, dtype=np.int64)
    v_array = np.array(v, dtype=np.int64)
    metres = np.hypot(*(xy[u_array] - xy[v_array]).T) if len(u) else np.array([], dtype=float)
    return xy, u_array, v_array, metres, np.array(oneway, dtype=np.int8)


def _project(x: np.ndarray, y: np.ndarray, crs: Any) -> np.ndarray:
    from pyproj import Transformer

    if len(x) == 0:
        return np.empty((0, 2))
    transformer = Transformer.from_crs(crs, "EPSG:27700", always_xy=True)
    easting, northing = transformer.transform(x, y)
    return np.column_stack([easting, northing])


# -- GraphML (networkx) -----------------------------------------------------------------------


def _tag_value(value: Any) -> str:
    """osmnx writes merged tags as a list's repr ("['residential', 'footway']"): the first."""
    text = str(value)
    if text.startswith("["):
        try:
            items = ast.literal_eval(text)
        except (ValueError, SyntaxError):
            return text
        return str(items[0]) if items else ""
    return text


def _from_graphml(
    path: Path, mode: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Nodes and edges of a GraphML street graph (osmnx layout), projected to EPSG:27700."""
    import networkx as nx
    from pyproj import CRS
    from pyproj.exceptions import CRSError as ProjError

    try:
        graph = nx.read_graphml(path)
    except Exception as error:  # networkx raises lxml/ElementTree/its own errors alike
        raise ValidationError(
            f"{path}: not a readable GraphML file ({error}); save the graph with "
            "osmnx.save_graphml or networkx.write_graphml"
        ) from error
    if graph.number_of_nodes() == 0:
        raise ValidationError(f"{path}: the GraphML file has no nodes; the network is empty")
    crs_text = graph.graph.get("crs")
    if not crs_text:
        raise CRSError(
            f"{path}: the GraphML graph has no 'crs' attribute; osmnx writes one (for example "
            "'epsg:4326'); add it to the <graph> element"
        )
    try:
        crs = CRS.from_user_input(crs_text)
    except ProjError as error:
        raise CRSError(
            f"{path}: the GraphML crs '{crs_text}' is not a coordinate reference system "
            "pyproj knows; use an EPSG code such as 'epsg:4326' or 'epsg:27700'"
        ) from error
    ids: dict[Any, int] = {}
    x: list[float] = []
    y: list[float] = []
    for node, data in graph.nodes(data=True):
        try:
            x.append(float(data["x"]))
            y.append(float(data["y"]))
        except (KeyError, TypeError, ValueError) as error:
            raise ValidationError(
                f"{path}: node {node} has no numeric 'x' and 'y'; every node needs coordinates"
            ) from error
        ids[node] = len(ids)
    lon, lat = np.array(x), np.array(y)
    if crs.is_geographic and (np.abs(lon).max() > 180 or np.abs(lat).max() > 90):
        raise CRSError(
            f"{path}: the GraphML crs is {crs_text} (degrees) but node coordinates reach "
            f"{np.abs(lon).max():,.0f}, {np.abs(lat).max():,.0f}: they look projected; set the "
            "graph's crs to the system they are in (for example 'epsg:27700')"
        )
    xy = _project(lon, lat, crs)
    low_x, low_y, high_x, high_y = _GB_BOUNDS
    finite = np.isfinite(xy).all(axis=1)
    inside = finite & (xy[:, 0] >= low_x) & (xy[:, 0] <= high_x)
    inside &= (xy[:, 1] >= low_y) & (xy[:, 1] <= high_y)
    if inside.mean() < 0.5:
        raise CRSError(
            f"{path}: with the GraphML crs {crs_text}, {1 - inside.mean():.0%} of the nodes fall "
            "outside Great Britain; the crs attribute does not match the coordinates (osmnx "
            "writes 'epsg:4326' for longitude/latitude)"
        )
    keep = is_walkable if mode == "walk" else is_drivable
    u: list[int] = []
    v: list[int] = []
    metres: list[float] = []
    oneway: list[int] = []
    for a, b, data in _edges(graph):
        tags = {key: _tag_value(value) for key, value in data.items() if key != "geometry"}
        if "highway" in tags and not keep(tags):
            continue
        length = data.get("length")
        u.append(ids[a])
        v.append(ids[b])
        metres.append(float(length) if length not in (None, "") else np.nan)
        # osmnx stores one-way streets as directed edges already: follow the graph's direction.
        oneway.append(1 if mode == "drive" and graph.is_directed() else 0)
    u_array = np.array(u, dtype=np.int64)
    v_array = np.array(v, dtype=np.int64)
    length_m = np.array(metres, dtype=float)
    straight = np.hypot(*(xy[u_array] - xy[v_array]).T) if len(u) else length_m
    length_m = np.where(np.isfinite(length_m), length_m, straight)
    return xy, u_array, v_array, length_m, np.array(oneway, dtype=np.int8)


def _edges(graph: Any) -> Iterable[tuple[Any, Any, dict[str, Any]]]:
    if graph.is_multigraph():
        for a, b, _key, data in graph.edges(keys=True, data=True):
            yield a, b, data
    else:
        yield from graph.edges(data=True)
