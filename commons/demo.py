"""Demo content: a few French pages of each kind, linked together."""

from __future__ import annotations

import secrets
from pathlib import Path

from sqlalchemy import func, select

from . import auth, page_queries, pages
from .extensions import db
from .models import Page, Role
from .slugs import slugify

DEMO_DIR = Path(__file__).resolve().parent / "demo"
DEMO_AUTHOR = "Équipe commons"

#: (title, kind, tags, file stem, attribution parties)
DEMO_PAGES = [
    ("Bienvenue", "page", ["accueil"], "bienvenue", []),
    (
        "Outils d'animation de la coopération",
        "tool",
        ["animation", "coopération", "gouvernance"],
        "outils-d-animation-de-la-cooperation",
        ["Réseau de la coopération"],
    ),
    (
        "Épicerie solidaire en circuits courts",
        "experiment",
        ["alimentation", "circuits courts", "scic"],
        "epicerie-solidaire-en-circuits-courts",
        [],
    ),
    (
        "Synthèse de l'atelier : financer les tiers-lieux",
        "synthesis",
        ["tiers-lieux", "financement"],
        "synthese-de-l-atelier-financer-les-tiers-lieux",
        [],
    ),
    (
        "Grille d'auto-évaluation de la gouvernance partagée",
        "tool",
        ["gouvernance", "coopération", "scic", "évaluation"],
        "grille-d-auto-evaluation-de-la-gouvernance-partagee",
        ["Réseau de la coopération"],
    ),
    (
        "Tableur de suivi d'une monnaie locale",
        "tool",
        ["monnaie locale", "finances", "tableur"],
        "tableur-de-suivi-d-une-monnaie-locale",
        [],
    ),
    (
        "Cantine associative dans un tiers-lieu rural",
        "experiment",
        ["alimentation", "tiers-lieux", "ruralité", "circuits courts"],
        "cantine-associative-dans-un-tiers-lieu-rural",
        [],
    ),
    (
        "Système d'échange local entre deux villages",
        "experiment",
        ["monnaie locale", "ruralité", "coopération"],
        "systeme-d-echange-local-entre-deux-villages",
        [],
    ),
    (
        "Synthèse de l'atelier : coopérer entre SCIC et collectivités",
        "synthesis",
        ["scic", "collectivités", "gouvernance", "coopération"],
        "synthese-de-l-atelier-cooperer-entre-scic-et-collectivites",
        [],
    ),
]


def is_empty() -> bool:
    """True when the wiki has no page at all."""
    return not db.session.scalar(select(func.count(Page.id)))


def load() -> int:
    """Create the demo pages (skipping existing ones); returns how many were created."""
    author = auth.find_user(DEMO_AUTHOR)
    if author is None:
        author = auth.create_user(DEMO_AUTHOR, secrets.token_urlsafe(24), role=Role.MEMBER)
    created = 0
    for title, kind, tags, stem, parties in DEMO_PAGES:
        if page_queries.find(slugify(title), include_deleted=True) is not None:
            continue
        body = (DEMO_DIR / f"{stem}.md").read_text(encoding="utf-8")
        pages.save(
            None,
            title=title,
            body=body,
            kind=kind,
            tags=tags,
            author=author,
            summary="Contenu de démonstration",
            attribution_parties=parties,
        )
        created += 1
    return created
