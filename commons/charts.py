"""Geometry of the small charts drawn as inline SVG by the templates (no JavaScript).

Functions here only turn numbers into bars; the templates draw them and label them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select

from .extensions import db
from .models import Page, Revision

#: The activity chart shows at most this many months, the most recent ones.
ACTIVITY_MONTHS = 24


@dataclass(frozen=True)
class Bar:
    """One bar: its label, its value and its share of the largest value (0 to 1)."""

    label: str
    value: int
    ratio: float
    #: The first day of the bar's month, for activity charts.
    month: date | None = None


def _bars(items: Sequence[tuple[str, int, date | None]]) -> list[Bar]:
    top = max((value for _, value, _ in items), default=0)
    return [Bar(label, value, value / top if top else 0.0, month) for label, value, month in items]


def _months_between(first: date, last: date) -> list[date]:
    months = []
    year, month = first.year, first.month
    while (year, month) <= (last.year, last.month):
        months.append(date(year, month, 1))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def monthly_activity(moments: Iterable[datetime]) -> list[Bar]:
    """Edits per month, with empty months shown, over the most recent months."""
    counts = Counter(date(moment.year, moment.month, 1) for moment in moments)
    if not counts:
        return []
    months = _months_between(min(counts), max(counts))[-ACTIVITY_MONTHS:]
    return _bars([(month.isoformat()[:7], counts.get(month, 0), month) for month in months])


def page_activity(page: Page) -> list[Bar]:
    """Edits of a page per month, read from its revision dates only."""
    moments = db.session.scalars(select(Revision.created_at).where(Revision.page_id == page.id))
    return monthly_activity(moments)


def shares(named_values: Iterable[tuple[str, int]], limit: int = 10) -> list[Bar]:
    """The largest values as bars; the rest summed into one bar labelled ``"…"``."""
    ranked = sorted(named_values, key=lambda item: -item[1])
    shown = [(name, value, None) for name, value in ranked[:limit]]
    rest = sum(value for _, value in ranked[limit:])
    if rest:
        shown.append(("…", rest, None))
    return _bars(shown)


@dataclass(frozen=True)
class TreeNode:
    """A page of a replication tree, at column ``x`` and generation ``y`` (0 the original)."""

    slug: str
    title: str
    places: str
    x: float
    y: int


@dataclass(frozen=True)
class TreeDrawing:
    """Where to draw a replication tree: its pages, the lines from parent to child, and
    its size in columns and generations."""

    nodes: list[TreeNode]
    edges: list[tuple[TreeNode, TreeNode]]
    columns: int
    generations: int


def lineage_tree(root: Any) -> TreeDrawing:
    """Lay out a :class:`commons.experiments.Lineage` top-down: each replication below
    its original, leaves side by side, each original centred above its replications."""
    nodes: list[TreeNode] = []
    edges: list[tuple[TreeNode, TreeNode]] = []
    next_column = 0

    def place(branch: Any, depth: int) -> TreeNode:
        nonlocal next_column
        children = [place(child, depth + 1) for child in branch.children]
        if children:
            x = (children[0].x + children[-1].x) / 2
        else:
            x, next_column = float(next_column), next_column + 1
        fields = branch.page.current_revision.fields if branch.page.current_revision else {}
        names = ", ".join(item["name"] for item in fields.get("territory") or [])
        node = TreeNode(branch.page.slug, branch.page.title, names, x, depth)
        nodes.append(node)
        edges.extend((node, child) for child in children)
        return node

    place(root, 0)
    return TreeDrawing(nodes, edges, next_column, 1 + max(node.y for node in nodes))
