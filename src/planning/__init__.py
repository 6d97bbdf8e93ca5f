"""Children's Centre and Family Hub planning workbench."""

from planning._errors import CRSError, InfeasibleError, PlanningError, ValidationError
from planning.datasets import list_authorities, load_areas, resolve_authority, toy_town

__version__ = "0.1.0"

__all__ = [
    "CRSError",
    "InfeasibleError",
    "PlanningError",
    "ValidationError",
    "list_authorities",
    "load_areas",
    "resolve_authority",
    "toy_town",
]
