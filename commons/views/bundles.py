"""Bundle export and import: HTML forms and API endpoints (rules live in commons.bundles)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("bundles", __name__)
