"""The dashboard's "Show reach to" control: any centre, a hub, or one service.

Kept apart from the rest of the dashboard (:mod:`planning.apps.dashboard.view` adds its widget
and refreshes it) so the service view can change without touching the page layout. The figures
are :func:`planning.analysis.services.services_for_evaluation` of the change being tried, for
the age range in the standards.
"""

from __future__ import annotations

from typing import Any

import ipywidgets as w

from planning._errors import ValidationError
from planning._format import share
from planning._html import render
from planning.analysis.services import ANY_SITE, HUB, ServicesResult, services_for_evaluation
from planning.apps.dashboard.model import Dashboard
from planning.inputs.services import Vocabulary, load_vocabulary


class ServiceReachControl:
    """A dropdown "Show reach to: any centre / a hub (the full offer) / infant feeding support
    / …" and the figures for the choice: the share of the age group within reach overall, in
    the most deprived areas and in each locality, for the change being tried.

    Parameters
    ----------
    board : Dashboard
        The dashboard's state; its current evaluation gives the network and the standards.
    """

    def __init__(self, board: Dashboard) -> None:
        self.board = board
        self.error = ""
        self.vocabulary: Vocabulary | None = None
        try:
            self.vocabulary = load_vocabulary(standards=board.standards)
        except ValidationError as exc:
            self.error = str(exc)
        options = [("any centre", ANY_SITE), ("a hub (the full offer)", HUB)]
        if self.vocabulary is not None:
            options += [(entry.label, key) for key, entry in self.vocabulary.services.items()]
        self.dropdown = w.Dropdown(
            options=options,
            value=ANY_SITE,
            description="Show reach to",
            style={"description_width": "initial"},
            layout=w.Layout(width="auto"),
        ).add_class("planning-service-reach-choice")
        self.output = w.HTML().add_class("planning-service-reach")
        self.widget = w.VBox([self.dropdown, self.output])
        self._cache: tuple[Any, ServicesResult] | None = None
        self.dropdown.observe(lambda _: self.refresh(), names="value")

    def services(self) -> ServicesResult:
        """The service figures of the change being tried (cached until it changes)."""
        evaluation = self.board.evaluate()
        if self._cache is None or self._cache[0] is not evaluation:
            result = services_for_evaluation(
                evaluation, vocabulary=self.vocabulary, source="dashboard"
            )
            self._cache = (evaluation, result)
        return self._cache[1]

    def lines(self, target: str | None = None) -> list[str]:
        """What the page says for ``target`` (default: the dropdown's choice)."""
        services = self.services()
        key = target or str(self.dropdown.value)
        row = services.reach.loc[key]
        group = services.ages_label
        standards = self.board.evaluate().standards
        reach = f"{standards.reach_km:g} km"
        what = (
            "a centre"
            if key == ANY_SITE
            else "a hub"
            if key == HUB
            else (f"a site offering {row['label']}")
        )
        lines = [
            f"{share(row['share_within_reach'], 0)} of {group} live within {reach} of {what} "
            f"({row['sites']} of the council's sites)",
            f"{share(row['share_deprived_within_reach'], 0)} of {group} in the "
            f"{standards.deprived_label} areas",
        ]
        if len(services.locality_reach):
            lines += [
                f"{locality}: {share(value, 0)}"
                for locality, value in services.locality_reach[key].items()
            ]
        missing = (
            [str(loc) for loc, n in services.matrix[key].items() if n == 0]
            if key in services.matrix
            else []
        )
        if missing:
            lines.append(f"Offered at no site in: {', '.join(missing)}")
        return [*lines, *services.notes]

    def refresh(self) -> None:
        """Redraw the figures for the current choice and the change being tried."""
        if self.error:
            self.output.value = render(
                "dashboard_text.html.j2",
                tag="div",
                classes="planning-note",
                text=self.error,
                alert=True,
            )
            return
        try:
            items = self.lines()
        except ValidationError as exc:
            items = [str(exc)]
        self.output.value = render(
            "dashboard_text.html.j2",
            heading=f"Reach to {self.dropdown.label} ({self.services().ages_label})",
            changes=[],
            items=items,
        )
