"""The search page."""

from __future__ import annotations

from flask import Blueprint, render_template, request

from .. import experiments
from .. import search as search_service
from ._helpers import page_number

bp = Blueprint("search", __name__)

PER_PAGE = 20


@bp.get("/search")
def search() -> str:
    query = request.args.get("q", "")
    kind = request.args.get("kind") or None
    tag = request.args.get("tag") or None
    sort = request.args.get("sort", "relevance")
    filters = experiments.clean_filters(request.args)
    results = search_service.search(
        query,
        kind=kind,
        tag=tag,
        page=page_number(),
        per_page=PER_PAGE,
        sort=sort,
        filters=filters,
    )
    return render_template(
        "search.html",
        results=results,
        query=query,
        kind=kind,
        tag=tag,
        sort=sort,
        filters=filters,
        facet_label=experiments.facet_label,
        facet_titles=experiments.FILTER_TITLES,
    )
