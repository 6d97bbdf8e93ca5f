"""Exceptions raised by the workbench.

Every message says what was wrong, where (file, row, column), what was expected and how to fix it.
"""

from __future__ import annotations


class PlanningError(Exception):
    """Base class for every error the workbench raises on purpose."""


class ValidationError(PlanningError, ValueError):
    """Input data or settings that cannot be used as given."""


class CRSError(ValidationError):
    """Coordinates in a reference system that cannot be used for distances."""


class InfeasibleError(PlanningError):
    """An optimisation request whose constraints cannot all be met."""
