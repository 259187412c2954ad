"""The Atom feed of recent changes."""

from __future__ import annotations

from flask import Blueprint, Response, render_template

from .. import licenses, page_queries
from ..text import xml_safe

bp = Blueprint("feeds", __name__)


@bp.get("/recent.atom")
def recent_atom() -> Response:
    revisions = page_queries.recent_changes(limit=50)
    xml = render_template("recent.atom", revisions=revisions, licenses=licenses)
    # Older revisions, imports and names may hold control characters XML cannot carry.
    return Response(xml_safe(xml), mimetype="application/atom+xml")
