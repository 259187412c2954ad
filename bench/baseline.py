"""The baseline: a minimal Flask app returning a 5 KB page through Jinja.

Served under the same gunicorn settings as the wiki, it shows what Flask itself costs on
this machine, so the wiki's figures can be read as ratios.
"""

from __future__ import annotations

from flask import Flask, render_template

PARAGRAPH = (
    "La coopération entre les structures de l'économie sociale et solidaire d'un territoire "
    "passe par des outils partagés, des expériences documentées et des temps d'atelier. "
)


def create_app() -> Flask:
    app = Flask(__name__, template_folder="baseline_templates")
    paragraphs = [PARAGRAPH * 2] * 13

    @app.get("/")
    def page() -> str:
        return render_template("page.html", title="Page de référence", paragraphs=paragraphs)

    @app.get("/licenses")
    def ready() -> str:
        return "ok"

    return app


app = create_app()
