"""Children's Centre and Family Hub planning workbench.

The public API, by layer (the package reads top to bottom as the data flows; README "Layout"):

- inputs: :func:`load_areas`, :func:`list_authorities`, :func:`resolve_authority`,
  :func:`toy_town`, :func:`read_centres`, :func:`write_centres`, :func:`lookup_postcodes`,
  :func:`import_gias`; standards: :class:`Standards`, :func:`load_standards`
- analysis: :func:`assess_need`, :func:`need_index`, :func:`assess_sufficiency`,
  :class:`SufficiencyResult`, :class:`Scenario`, :class:`ScenarioEngine`,
  :func:`load_scenario`, :func:`optimise`
- runs: :func:`run_sufficiency`, :func:`write_sufficiency_outputs`, :func:`run_reach`,
  :func:`publish_reach`, :func:`run_targeting`
- outputs: :func:`need_map`, :func:`sufficiency_map`, :func:`run_report`, :func:`load_schedule`,
  :func:`run_schedule`

Names are imported on first use (PEP 562), so ``import planning`` stays light and a lower layer
importing ``planning.settings`` never pulls in the layers above it.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from planning import settings
from planning._errors import CRSError, InfeasibleError, PlanningError, ValidationError

__version__ = settings.VERSION

#: Public name -> the module that defines it.
_EXPORTS = {
    "load_areas": "planning.inputs.areas",
    "list_authorities": "planning.inputs.areas",
    "resolve_authority": "planning.inputs.areas",
    "toy_town": "planning.inputs.areas",
    "read_centres": "planning.inputs.centres",
    "write_centres": "planning.inputs.centres",
    "lookup_postcodes": "planning.inputs.locations",
    "import_gias": "planning.inputs.gias",
    "Standards": "planning.standards",
    "load_standards": "planning.standards",
    "assess_need": "planning.analysis.need",
    "need_index": "planning.analysis.need",
    "assess_sufficiency": "planning.analysis.sufficiency",
    "SufficiencyResult": "planning.analysis.sufficiency",
    "Scenario": "planning.analysis.scenarios",
    "ScenarioEngine": "planning.analysis.scenarios",
    "load_scenario": "planning.analysis.scenarios",
    "optimise": "planning.analysis.allocation",
    "run_sufficiency": "planning.runs.sufficiency",
    "national_run": "planning.runs.national",
    "write_sufficiency_outputs": "planning.runs.sufficiency",
    "run_reach": "planning.runs.reach",
    "publish_reach": "planning.runs.reach",
    "run_targeting": "planning.runs.targeting",
    "need_map": "planning.outputs.maps",
    "sufficiency_map": "planning.outputs.maps",
    "run_report": "planning.outputs.scheduled_report",
    "load_schedule": "planning.outputs.schedule_file",
    "run_schedule": "planning.outputs.schedule",
}

# Written out (not built from _EXPORTS) so that linters and type checkers can read it.
__all__ = [
    "CRSError",
    "InfeasibleError",
    "PlanningError",
    "Scenario",
    "ScenarioEngine",
    "Standards",
    "SufficiencyResult",
    "ValidationError",
    "assess_need",
    "assess_sufficiency",
    "import_gias",
    "list_authorities",
    "load_areas",
    "load_scenario",
    "load_schedule",
    "load_standards",
    "lookup_postcodes",
    "national_run",
    "need_index",
    "need_map",
    "optimise",
    "publish_reach",
    "read_centres",
    "resolve_authority",
    "run_reach",
    "run_report",
    "run_schedule",
    "run_sufficiency",
    "run_targeting",
    "sufficiency_map",
    "toy_town",
    "write_centres",
    "write_sufficiency_outputs",
]


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        value = getattr(import_module(_EXPORTS[name]), name)
        globals()[name] = value  # later look-ups skip this function
        return value
    raise AttributeError(f"module 'planning' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))


if TYPE_CHECKING:  # for type checkers and editors: the same names, imported eagerly
    from planning.analysis.allocation import optimise
    from planning.analysis.need import assess_need, need_index
    from planning.analysis.scenarios import Scenario, ScenarioEngine, load_scenario
    from planning.analysis.sufficiency import SufficiencyResult, assess_sufficiency
    from planning.inputs.areas import list_authorities, load_areas, resolve_authority, toy_town
    from planning.inputs.centres import read_centres, write_centres
    from planning.inputs.gias import import_gias
    from planning.inputs.locations import lookup_postcodes
    from planning.outputs.maps import need_map, sufficiency_map
    from planning.outputs.schedule import run_schedule
    from planning.outputs.schedule_file import load_schedule
    from planning.outputs.scheduled_report import run_report
    from planning.runs.national import national_run
    from planning.runs.reach import publish_reach, run_reach
    from planning.runs.sufficiency import run_sufficiency, write_sufficiency_outputs
    from planning.runs.targeting import run_targeting
    from planning.standards import Standards, load_standards
