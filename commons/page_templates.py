"""Starting text for a new page of each kind (the editor opens on it)."""

from __future__ import annotations

from flask_babel import gettext as _

from .models import Kind


def _sections(*headings: tuple[str, str]) -> str:
    return "\n\n".join(f"## {title}\n\n{hint}" for title, hint in headings) + "\n"


def body_for(kind: str) -> str:
    """The Markdown template of ``kind``, in the reader's language."""
    if kind == Kind.EXPERIMENT:
        return _sections(
            (_("Context"), _("Where and when did this happen? Who took part?")),
            (_("Goal"), _("What did you want to achieve?")),
            (_("Steps"), _("1. First step\n2. Second step\n3. ...")),
            (_("Resources"), _("People, time, money, tools and places it took.")),
            (_("Results"), _("What worked, what did not, with figures if you have them.")),
            (
                _("What to adapt elsewhere"),
                _("What another territory should change to replicate it."),
            ),
            (_("Contacts"), _("Who to ask (an organisation, a role; no private data).")),
        )
    if kind == Kind.TOOL:
        return _sections(
            (_("What it is for"), _("The problem this tool helps with, in two sentences.")),
            (_("How to use it"), _("1. Preparation\n2. Running it\n3. Afterwards")),
            (_("Duration and group size"), _("For example: 1 h 30, 6 to 20 people.")),
            (_("Material"), _("What to print or bring.")),
            (_("Tips"), _("What to watch out for.")),
            (_("Where it comes from"), _("Authors, origin, related tools: [[Another page]].")),
        )
    if kind == Kind.SYNTHESIS:
        return _sections(
            (_("The meeting"), _("Date, place, participants, who facilitated.")),
            (_("Questions we worked on"), _("- ...")),
            (_("What we learned"), _("- ...")),
            (_("Decisions and next steps"), _("- [ ] ...")),
            (_("Resources mentioned"), _("Links to tools and experiments: [[Page title]].")),
        )
    return _sections((_("Introduction"), _("Write here.")))
