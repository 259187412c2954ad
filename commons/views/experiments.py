"""Experiments across territories: the map, the spreadsheet export, the thesaurus and
the completion of place names."""

from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    jsonify,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_babel import format_date
from flask_babel import lazy_gettext as _l

from .. import credits, experiments, licenses, territories, themes
from ..models import utcnow

bp = Blueprint("experiments", __name__)

MAX_COMPLETIONS = 20
#: The overseas départements, drawn as a row of cells beside the metropolitan map.
OVERSEAS = ("971", "972", "973", "974", "976")


@bp.get("/map")
def map_view() -> str:
    filters = experiments.clean_filters(request.args)
    counts = experiments.counts_by_departement(filters)
    loaded = territories.territories()
    departements = sorted(
        (place for (kind, _code), place in loaded.places.items() if kind == "departement"),
        key=lambda place: place.code,
    )
    return render_template(
        "map.html",
        outlines=territories.outlines(),
        overseas=[loaded.find(code, "departement") for code in OVERSEAS],
        departements=departements,
        departements_by_code={place.code: place for place in departements},
        counts=counts,
        most=max(counts.values(), default=0),
        total=sum(counts.values()),
        filters=filters,
        statuses=experiments.sheets.STATUS_LABELS,
        themes=themes.all_themes(),
        theme_label=lambda theme: themes.label(theme.key),
        regions=sorted(
            (place for (kind, _code), place in loaded.places.items() if kind == "region"),
            key=lambda place: place.name,
        ),
    )


@bp.get("/api/v1/themes")
def list_themes() -> Response:
    return jsonify(
        {
            "themes": [
                {"key": theme.key, "label": themes.label(theme.key)}
                for theme in themes.all_themes()
            ]
        }
    )


@bp.get("/api/v1/territories")
def complete_territories() -> Response:
    """Places whose name starts with ``q``: what the territory field completes."""
    loaded = territories.territories()
    limit = min(max(request.args.get("limit", 10, type=int) or 10, 1), MAX_COMPLETIONS)
    found = loaded.complete(request.args.get("q", ""), limit=limit)
    return jsonify(
        {"places": [dict(place.as_dict(), label=place.describe(loaded)) for place in found]}
    )


@bp.get("/api/v1/experiments.csv")
def experiments_csv() -> Response:
    filters = experiments.clean_filters(request.args)
    license_ = licenses.get(licenses.DEFAULT_LICENSE)
    header = [
        str(
            _l("Experiments of %(site)s, %(date)s.", site=request.host, date=format_date(utcnow()))
        ),
        str(
            _l(
                "Each experiment is under its licence (column license), %(name)s unless said "
                "otherwise: %(url)s. Credit its authors (column authors) and link to its page.",
                name=license_.name,
                url=license_.url,
            )
        ),
    ]
    lines = experiments.experiments_csv(
        filters,
        page_url=lambda page: url_for("wiki.view", slug=page.slug, _external=True),
        authors=lambda page: [person.name for person in credits.contributors(page)],
        header=header,
    )
    response = Response(stream_with_context(lines), mimetype="text/csv")
    response.headers["Content-Disposition"] = 'attachment; filename="experiments.csv"'
    return response
