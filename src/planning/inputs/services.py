"""The service vocabulary and the parser for a centres file's ``services`` text.

The vocabulary (``planning/services.yaml``, schema :class:`VocabularyFile`) lists the services a
children's centre or family hub may offer, each with a label, a short definition, its source,
whether it is universal or targeted, and synonyms. A centres file's ``services`` cell is parsed
against it forgivingly ("Child health clinic; infant-feeding, SEND" parses); an unknown term is
an error naming the centre and suggesting the nearest name, unless the standards file declares it
(``services.declared``).
"""

from __future__ import annotations

import copy
import functools
import re
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
import yaml
from pydantic import BaseModel, ConfigDict, Field
from pydantic import ValidationError as SchemaError

from planning._errors import ValidationError
from planning._validate import Place, Problems, did_you_mean, dotted, json_schema, schema_problems
from planning.standards import Standards

DEFAULT_VOCABULARY_FILE = "services.yaml"
#: Where a site's services came from, in the ``services_source`` column.
SOURCE_FILE, SOURCE_ILLUSTRATIVE, SOURCE_UNKNOWN = "file", "illustrative default", "not known"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ServiceEntry(_Strict):
    """One service in the vocabulary."""

    label: str = Field(min_length=1, description="the name used in every output")
    definition: str = Field(min_length=1, description="a short definition")
    source: str = Field(min_length=1, description="the guidance or procedure it comes from")
    group: Literal["core_purpose", "start_for_life", "family_hub", "declared"] = "family_hub"
    offer: Literal["universal", "targeted"] = Field(
        description="universal: for every family in a locality; targeted: for those who need it"
    )
    synonyms: list[str] = Field(default_factory=list, description="other words for it")


class IllustrativeDefaults(_Strict):
    """Services assumed at a site whose ``services`` cell is blank (illustrative only)."""

    hub: Literal["all"] | list[str] = "all"
    branch: list[str] = Field(default_factory=list)


class VocabularyFile(_Strict):
    """A service vocabulary file (``planning/services.yaml``)."""

    services: dict[str, ServiceEntry] = Field(min_length=1)
    bundles: dict[str, Literal["all"] | list[str]] = Field(default_factory=dict)
    illustrative_defaults: IllustrativeDefaults = Field(default_factory=IllustrativeDefaults)


def vocabulary_json_schema() -> dict[str, object]:
    """The JSON Schema of a service vocabulary file, for editors."""
    return json_schema(
        VocabularyFile.model_json_schema(),
        title="Children's centre and family hub service vocabulary",
        description="Services a centres file may name (planning/services.yaml).",
    )


def term_key(text: str) -> str:
    """A term as matched: lower case, punctuation as spaces, '&' as 'and', plural 's' dropped.

    Examples
    --------
    >>> term_key("Child-Health  Clinics.")
    'child health clinic'
    >>> term_key("SEND")
    'send'
    """
    text = text.lower().replace("&", " and ")
    words = re.sub(r"[^a-z0-9]+", " ", text).split()
    return " ".join(
        w[:-1] if len(w) > 4 and w.endswith("s") and not w.endswith("ss") else w for w in words
    )


@dataclass(frozen=True)
class Vocabulary:
    """The services a centres file may name, in vocabulary order.

    Attributes
    ----------
    services : dict
        key -> :class:`ServiceEntry` (declared terms from the standards included, group
        ``declared``).
    bundles : dict
        term -> service keys it stands for.
    hub_default, branch_default : tuple of str
        Illustrative services of a hub or branch whose ``services`` cell is blank.
    source : str
        The file it was read from.
    """

    services: dict[str, ServiceEntry]
    bundles: dict[str, tuple[str, ...]] = field(default_factory=dict)
    hub_default: tuple[str, ...] = ()
    branch_default: tuple[str, ...] = ()
    source: str = "planning/services.yaml"

    @property
    def keys(self) -> list[str]:
        return list(self.services)

    @property
    def universal(self) -> list[str]:
        return [k for k, s in self.services.items() if s.offer == "universal"]

    def label(self, key: str) -> str:
        return self.services[key].label

    def terms(self) -> dict[str, tuple[str, ...]]:
        """Matched term -> the service keys it names (keys, labels, synonyms, bundles)."""
        return dict(self._terms)

    @functools.cached_property
    def _terms(self) -> dict[str, tuple[str, ...]]:
        # Built once per vocabulary: every centre's services cell is matched against it, and
        # the dashboard matches them again for each change tried.
        out: dict[str, tuple[str, ...]] = {}
        for key, entry in self.services.items():
            for term in [key, entry.label, *entry.synonyms]:
                out.setdefault(term_key(term), (key,))
        for term, keys in self.bundles.items():
            out.setdefault(term_key(term), keys)
        return out

    def to_frame(self) -> pd.DataFrame:
        """One row per service: label, offer, group, definition, source, synonyms."""
        return pd.DataFrame(
            [
                {
                    "service": key,
                    "label": s.label,
                    "offer": s.offer,
                    "group": s.group,
                    "definition": s.definition,
                    "source": s.source,
                    "synonyms": "; ".join(s.synonyms),
                }
                for key, s in self.services.items()
            ]
        ).set_index("service")


def load_vocabulary(
    path: str | Path | None = None, *, standards: Standards | None = None
) -> Vocabulary:
    """Read a service vocabulary (``None``: the packaged ``services.yaml``, or the file the
    standards name in ``services.vocabulary``), adding the standards' declared terms.

    Raises
    ------
    ValidationError
        Unreadable YAML, keys the schema refuses, or a bundle or default naming an unknown
        service; every problem at once, naming the file and the key.
    """
    if path is None and standards is not None and standards.services_vocabulary:
        path = standards.services_vocabulary
        base = Path(standards.source).parent if Path(standards.source).exists() else Path()
        if not Path(path).is_absolute() and (base / path).exists():
            path = base / path
    if path is None:
        raw, name = copy.deepcopy(_packaged_vocabulary()), "planning/services.yaml"
    else:
        path = Path(path)
        if not path.is_file():
            raise ValidationError(f"service vocabulary {path} does not exist; check the path")
        text, name = path.read_text("utf-8"), str(path)
        try:
            raw = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise ValidationError(f"{name}: is not valid YAML ({exc}); fix the syntax") from exc
    problems = Problems(name)
    try:
        parsed = VocabularyFile.model_validate(raw)
    except SchemaError as exc:
        schema_problems(exc, vocabulary_json_schema(), problems, lambda loc: Place("", dotted(loc)))
        problems.raise_if_any()
        raise  # pragma: no cover
    services = dict(parsed.services)
    for term, declared in (standards.services_declared if standards else {}).items():
        key = term_key(term).replace(" ", "_")
        if key not in services:
            services[key] = ServiceEntry(
                label=term,
                definition=str(declared.get("definition", "declared in the standards file")),
                source=f"declared in {standards.source if standards else 'the standards'}",
                group="declared",
                offer=declared.get("offer", "targeted"),  # type: ignore[arg-type]
            )

    def expand(value: str | list[str], where: str) -> tuple[str, ...]:
        if value == "all":
            return tuple(parsed.services)
        for key in value:
            if key not in services:
                problems.add(
                    f"'{where}' names '{key}', not a service key{did_you_mean(key, services)}"
                )
        return tuple(k for k in value if k in services)

    bundles = {term: expand(value, f"bundles.{term}") for term, value in parsed.bundles.items()}
    defaults = parsed.illustrative_defaults
    hub = expand(defaults.hub, "illustrative_defaults.hub")
    branch = expand(defaults.branch, "illustrative_defaults.branch")
    problems.raise_if_any()
    return Vocabulary(services, bundles, hub, branch, source=name)


@functools.cache
def _packaged_vocabulary() -> object:
    """The packaged ``services.yaml``, parsed once per process (it is part of the installed
    package; parsing it took most of the time of assessing services for one change)."""
    text = resources.files("planning").joinpath(DEFAULT_VOCABULARY_FILE).read_text("utf-8")
    return yaml.safe_load(text)


def parse_services_text(text: object, vocabulary: Vocabulary) -> tuple[list[str], list[str]]:
    """The service keys a ``services`` cell names, and the terms it could not match.

    Terms are separated by ``;``, ``,``, ``|``, ``/`` or new lines; each is matched ignoring
    case, punctuation and a plural "s" against the keys, labels, synonyms and bundles.

    Examples
    --------
    >>> v = load_vocabulary()
    >>> parse_services_text("Child health clinic; infant-feeding, SEND", v)
    (['infant_feeding_support', 'child_health_clinics', 'send_support'], [])
    """
    if text is None or (isinstance(text, float) and pd.isna(text)):
        return [], []
    terms = vocabulary.terms()
    found: set[str] = set()
    unknown: list[str] = []
    for part in re.split(r"[;,|/\n]+", str(text)):
        if not part.strip():
            continue
        keys = terms.get(term_key(part))
        if keys is None:
            unknown.append(part.strip())
        else:
            found.update(keys)
    return [k for k in vocabulary.keys if k in found], unknown


def centre_services(
    centres: pd.DataFrame, vocabulary: Vocabulary, *, source: str = "centres"
) -> tuple[pd.DataFrame, pd.Series]:
    """Which services each centre offers, from its ``services`` text.

    A centre whose cell is blank gets the vocabulary's illustrative defaults by ``kind`` (a hub
    the full list, a branch the documented subset); a blank cell with no kind offers no
    service known here (it still counts as a site for access to any centre).

    Returns
    -------
    offers : DataFrame
        Boolean, indexed like ``centres``, one column per service key (vocabulary order).
    origin : Series
        Per centre: ``file``, ``illustrative default`` or ``not known``.

    Raises
    ------
    ValidationError
        Every unknown term at once, each naming the centre and the nearest known name, and how
        to declare a term in the standards (``services.declared``).
    """
    problems = Problems(source)
    texts = centres["services"] if "services" in centres else pd.Series("", index=centres.index)
    kinds = centres["kind"] if "kind" in centres else pd.Series("", index=centres.index)
    names = centres["name"] if "name" in centres else centres.index.to_series()
    known = list(vocabulary.terms())
    labels = {term_key(s.label): s.label for s in vocabulary.services.values()}
    column = {key: j for j, key in enumerate(vocabulary.keys)}
    offered = np.zeros((len(centres), len(column)), dtype=bool)
    origin = pd.Series(SOURCE_FILE, index=centres.index, name="services_source")
    for row, (centre, text) in enumerate(texts.items()):
        keys, unknown = parse_services_text(text, vocabulary)
        for term in unknown:
            hint = did_you_mean(term_key(term), known)
            if hint:
                close = hint.split("'")[1]
                hint = f"; did you mean '{labels.get(close, close)}'?"
            problems.add(
                f"centre {centre} ({names[centre]}): service '{term}' is not in the service "
                f"vocabulary ({vocabulary.source}){hint} Use a listed name or synonym, or declare "
                "it in the standards file under services.declared"
            )
        if not str(text if isinstance(text, str) else "").strip():
            kind = str(kinds[centre] or "").lower()
            keys = list(
                vocabulary.hub_default
                if kind == "hub"
                else vocabulary.branch_default
                if kind == "branch"
                else ()
            )
            origin.iloc[row] = SOURCE_ILLUSTRATIVE if kind in ("hub", "branch") else SOURCE_UNKNOWN
        offered[row, [column[key] for key in keys]] = True
    problems.raise_if_any()
    offers = pd.DataFrame(offered, index=centres.index, columns=vocabulary.keys)
    return offers, origin
