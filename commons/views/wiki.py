"""Reading and editing pages: view, edit, history, diff, revert, rename, delete."""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _

from .. import (
    agreements,
    charts,
    credits,
    diff_rows,
    diffs,
    experiments,
    licenses,
    moderation,
    page_moves,
    page_queries,
    page_templates,
    pages,
    permissions,
    printing,
    rendered,
    serialize,
    sheets,
    themes,
)
from ..errors import CommonsError, EditConflict, Forbidden, NotFound
from ..i18n import select_locale
from ..login import acting_user
from ..models import Kind, Page, Revision
from ..page_cache import visitor_etag
from ..slugs import slugify
from ._helpers import Pagination, page_number, send_pdf
from .forms import (
    EditForm,
    HideRevisionForm,
    NewPageForm,
    PreviewForm,
    ProtectForm,
    RenameForm,
    SheetFields,
    SummaryForm,
)

bp = Blueprint("wiki", __name__)

#: The home page's tag cloud shows the most used tags; /tags lists them all.
HOME_TAGS = 30


def _load(slug: str, *, include_deleted: bool = False) -> Page:
    """The page at ``slug``; follows a rename's redirect; 404 otherwise."""
    page, redirected = page_queries.resolve(slug)
    if page is None:
        abort(404)
    if redirected:
        abort(
            redirect(
                url_for(
                    request.endpoint or "wiki.view",
                    **{**(request.view_args or {}), "slug": page.slug},
                    **request.args,
                ),
                301,
            )
        )
    if not include_deleted:
        _refuse_deleted(page)
    return page


def _refuse_deleted(page: Page) -> None:
    """A deleted page, its text and its history are for editors and admins: 404 for others."""
    if page.deleted and not permissions.can_see_deleted(acting_user()):
        abort(404)


@bp.get("/")
def home() -> str:
    return render_template(
        "home.html",
        recent=page_queries.recent_changes(limit=10),
        kinds=page_queries.kind_counts(),
        tags=page_queries.tag_counts(most_used=HOME_TAGS),
    )


@bp.get("/wiki/<slug>")
def view(slug: str) -> Any:
    number = request.args.get("rev", type=int)
    etag = _visitor_etag(slug) if number is None else None
    if etag is not None:
        if etag in request.if_none_match:
            unchanged = Response(status=304)
            unchanged.set_etag(etag)
            return unchanged
        cached = current_app.extensions["commons_page_cache"].get(etag)
        if cached is not None:
            return _visitor_response(cached, etag)
    page = _load(slug)
    revision = page.current_revision
    if number is not None:
        try:
            revision = page_queries.get_revision(page, number)
        except NotFound:
            abort(404)
    assert revision is not None
    user = acting_user()
    hidden = not permissions.can_read(user, revision)
    attribution = credits.attribution(page, revision)
    permalink = _permalink(page, revision)
    html = render_template(
        "page.html",
        page=page,
        revision=revision,
        is_current=revision.id == page.current_revision_id,
        body=None if hidden else rendered.revision_view(revision),
        hidden=hidden,
        backlinks=page_queries.backlinks(page),
        attribution=attribution,
        permalink=permalink,
        reuse=credits.reuse_texts(attribution, permalink, revision.created_at),
        can_edit=permissions.can_edit(user, page),
        shared_page=etag is not None,
        original=serialize.original(page),
        replications=[serialize.replication(each) for each in experiments.replications(page)],
    )
    if etag is None:
        return html
    current_app.extensions["commons_page_cache"].put(etag, html)
    return _visitor_response(html, etag)


def _visitor_response(html: str, etag: str) -> Response:
    response = make_response(html)
    response.set_etag(etag)
    response.headers["Cache-Control"] = "no-cache"
    return response


def _visitor_etag(slug: str) -> str | None:
    """A validator for what a visitor sees of a page's current revision, from one query.

    The page is shared: it carries no CSRF token (``shared_page`` in the template).
    Logged-in users and pending messages get no validator: their page is personal;
    nor do redirects and deleted pages, which take the full path.
    """
    if acting_user() is not None or session.get("_flashes"):
        return None
    stamp = page_queries.visitor_stamp(slug)
    if stamp is None:
        return None
    # The selector's answer, not Flask-Babel's parsed locale: a cached view needs no more.
    return visitor_etag(stamp, select_locale(), request)


def _permalink(page: Page, revision: Revision) -> str:
    return url_for("wiki.view", slug=page.slug, rev=revision.number, _external=True)


@bp.get("/wiki/<slug>.pdf")
def pdf(slug: str) -> Response:
    """The page printed: A4, its TASL line and its full credits."""
    document, file_name = printing.page_pdf(_load(slug), acting_user())
    return send_pdf(document, file_name)


@bp.get("/credits")
def all_credits() -> str:
    """Everyone who contributed to the wiki, with their number of edits."""
    per_page = current_app.config["PAGE_SIZE"]
    number = page_number()
    people, total = credits.all_contributors(offset=(number - 1) * per_page, limit=per_page)
    return render_template(
        "all_credits.html", people=people, pagination=Pagination(number, per_page, total)
    )


@bp.get("/wiki/<slug>/credits")
def credits_page(slug: str) -> str:
    """Everyone who contributed, the declared sources, and how to credit the page."""
    page = _load(slug)
    revision = page.current_revision
    assert revision is not None
    contributors = credits.contributors(page)
    attribution = credits.attribution(page, revision, contributors)
    permalink = _permalink(page, revision)
    return render_template(
        "credits.html",
        page=page,
        revision=revision,
        attribution=attribution,
        contributors=contributors,
        shares=charts.shares((c.name, c.edits) for c in contributors),
        media_credits=serialize.media_credits(page),
        permalink=permalink,
        reuse=credits.reuse_texts(attribution, permalink, revision.created_at),
        lineage=charts.lineage_tree(experiments.lineage(page))
        if page.kind == Kind.EXPERIMENT.value
        else None,
    )


def _license_agreed(fields: dict[str, Any], page: Page | None) -> bool:
    """Whether the acting user already agreed to the licence the form would save under."""
    try:
        chosen = licenses.normalize(fields.get("license")) if fields.get("license") else None
    except CommonsError:
        return False
    return agreements.has_agreed(
        acting_user(), chosen or (page.license if page else licenses.DEFAULT_LICENSE)
    )


def _editor(page: Page | None, slug: str, fields: dict[str, Any], **extra: Any) -> str:
    return render_template(
        "edit.html",
        page=page,
        slug=slug,
        fields=fields,
        license_agreed=_license_agreed(fields, page),
        kinds=[k.value for k in Kind],
        licenses=licenses.all_licenses(),
        themes=themes.all_themes(),
        statuses=sheets.STATUS_LABELS,
        **extra,
    )


@bp.route("/wiki/<slug>/edit", methods=["GET", "POST"])
def edit(slug: str) -> Any:
    user = acting_user()
    page, redirected = page_queries.resolve(slug)
    if redirected and page is not None:
        return redirect(url_for("wiki.edit", slug=page.slug))
    if page is not None:
        _refuse_deleted(page)
    if not permissions.can_edit(user, page):
        if user is None:
            flash(_("Please log in to edit pages."), "info")
            return redirect(url_for("auth.login", next=request.full_path))
        raise Forbidden(_("You may not edit this page."))
    if request.method == "GET":
        return _editor(page, slug, _initial_fields(page, slug))

    form = EditForm()
    fields = form.values()
    try:
        form.validated()
        if form.preview.data:
            return _editor(page, slug, fields, preview=rendered.preview(form.body.data))
        result = pages.save(
            slug,
            title=form.title.data,
            body=form.body.data,
            kind=form.kind.data,
            tags=form.tags.data,
            license=form.license.data,
            summary=form.summary.data,
            base_revision=form.base_revision.data,
            minor=form.minor.data,
            coauthors=form.coauthors.data,
            attribution_parties=form.attribution_parties.data,
            source=form.source(),
            license_accepted=form.accept_license.data or _license_agreed(fields, page),
            expect_new=form.new_page.data,
            author=user,
            fields=form.sheet(pages.clean_kind(form.kind.data)),
            replicates=experiments.resolve_original(form.replicates.data, base_url=request.url_root)
            if form.replicates.data
            else None,
        )
    except EditConflict as conflict:
        fields["base_revision"] = conflict.details["current_revision"]
        return _editor(
            page, slug, fields, conflict=conflict, current_body=conflict.details["current_body"]
        ), 409
    except CommonsError as error:
        return _editor(page, slug, fields, error=error.message), error.status
    if "accept_license" in request.form:
        agreements.agree(user, result.page.license)
    if result.noop:
        flash(_("No change: the page is as it was."), "info")
    elif result.merged:
        flash(_("Someone saved meanwhile; your changes were merged with theirs."), "warning")
    else:
        flash(_("Your changes have been saved."), "success")
    return redirect(url_for("wiki.view", slug=result.page.slug))


def _initial_fields(page: Page | None, slug: str) -> dict[str, Any]:
    if page is None:
        asked = NewPageForm(formdata=request.args)
        kind = asked.kind.data
        if kind not in {k.value for k in Kind}:
            kind = Kind.PAGE.value
        title = asked.title.data or slug.replace("-", " ").capitalize()
        return {
            "title": title,
            "kind": kind,
            "body": page_templates.body_for(kind),
            "license": licenses.DEFAULT_LICENSE,
            "tags": asked.tags.data or "",
            "sheet_kind": kind,
        }
    current = page.current_revision
    assert current is not None
    source = page.source or {}
    return {
        "title": page.title,
        "kind": page.kind,
        # Over a hidden revision, the editor starts from the last visible text.
        "body": page_queries.visible_text(current),
        "tags": ", ".join(page.tag_names),
        "license": page.license,
        "base_revision": current.number,
        "attribution_parties": "\n".join(page.attribution_parties or []),
        "source_title": source.get("title", ""),
        "source_authors": ", ".join(source.get("authors") or []),
        "source_url": source.get("url", ""),
        "source_license": source.get("license") or "",
        **SheetFields.initial(page.kind, page_queries.visible_fields(current)),
    }


@bp.get("/wiki/<slug>/replicate")
def replicate(slug: str) -> Any:
    """Essaimer: a new experiment starting from this one's text and sheet (its territory
    left for the replication to say), declaring the original as its source."""
    original = _load(slug)
    user = acting_user()
    if original.kind != Kind.EXPERIMENT.value:
        abort(404)
    if not permissions.can_edit(user, None):
        if user is None:
            flash(_("Please log in to edit pages."), "info")
            return redirect(url_for("auth.login", next=request.full_path))
        raise Forbidden(_("You may not edit this page."))
    title = NewPageForm(formdata=request.args).title.data
    new_slug = slugify(title) if title else ""
    if not new_slug or page_queries.find(new_slug, include_deleted=True) is not None:
        if title:
            flash(
                _("A page with this title already exists.")
                if new_slug
                else _("The title needs at least one letter or digit."),
                "error",
            )
        return render_template("replicate.html", original=original, title=title)
    current = original.current_revision
    assert current is not None
    sheet = page_queries.visible_fields(current)
    sheet.pop("territory", None)
    people = [person.name for person in credits.contributors(original)]
    fields = {
        "title": title,
        "kind": Kind.EXPERIMENT.value,
        "body": page_queries.visible_text(current),
        "tags": ", ".join(original.tag_names),
        "license": original.license,
        "summary": _("Replication of “%(title)s”", title=original.title),
        "source_title": original.title,
        "source_authors": ", ".join(people),
        "source_url": url_for("wiki.view", slug=original.slug, _external=True),
        "source_license": original.license,
        "replicates": original.slug,
        **SheetFields.initial(Kind.EXPERIMENT.value, sheet),
    }
    return _editor(None, new_slug, fields)


@bp.route("/new", methods=["GET", "POST"])
def new() -> Any:
    """Choose a title and a kind, then open the editor on its template."""
    form = NewPageForm(formdata=request.values)
    title = form.title.data
    kind = form.kind.data or Kind.PAGE.value
    if title:
        slug = slugify(title)
        if slug:
            if page_queries.find(slug) is not None:
                flash(_("A page with this title already exists."), "info")
                return redirect(url_for("wiki.view", slug=slug))
            return redirect(
                url_for("wiki.edit", slug=slug, title=title, kind=kind, tags=form.tags.data or None)
            )
        flash(_("The title needs at least one letter or digit."), "error")
    return render_template("new.html", kinds=[k.value for k in Kind], kind=kind, title=title)


@bp.post("/preview")
def preview() -> str:
    """Live preview for the editor: the page pipeline's HTML, as a fragment."""
    body = PreviewForm().validated().body.data
    pages.clean_body(body)
    return render_template("_preview.html", preview=rendered.preview(body))


@bp.get("/wiki/<slug>/history")
def history(slug: str) -> str:
    page = _load(slug)
    per_page = current_app.config["PAGE_SIZE"]
    number = page_number()
    revisions = page_queries.history(page, offset=(number - 1) * per_page, limit=per_page)
    reveal_hidden = permissions.can_see_hidden(acting_user())
    return render_template(
        "history.html",
        page=page,
        revisions=revisions,
        reveal_hidden=reveal_hidden,
        parent_sizes=page_queries.previous_sizes(revisions, reveal_hidden=reveal_hidden),
        activity=charts.page_activity(page),
        pagination=Pagination(number, per_page, page.revision_count),
    )


@bp.get("/wiki/<slug>/diff")
def diff(slug: str) -> str:
    page = _load(slug)
    current = page.current_revision
    assert current is not None
    to_number = request.args.get("to", current.number, type=int)
    new_rev = _revision_or_404(page, to_number)
    from_number = request.args.get("from", type=int)
    if from_number is None:
        from_number = max(new_rev.number - 1, 1)
    old_rev = _revision_or_404(page, from_number)
    user = acting_user()
    hidden = not (permissions.can_read(user, old_rev) and permissions.can_read(user, new_rev))
    too_large = False
    try:
        lines = [] if hidden else diffs.line_diff(old_rev.body, new_rev.body)
    except diffs.DiffTooLarge:
        lines, too_large = [], True
    return render_template(
        "diff.html",
        page=page,
        old=old_rev,
        new=new_rev,
        lines=lines,
        rows=diff_rows.rows(lines),
        stats=diffs.stats(lines),
        hidden=hidden,
        too_large=too_large,
    )


def _revision_or_404(page: Page, number: int):  # noqa: ANN202
    try:
        return page_queries.get_revision(page, number)
    except NotFound:
        abort(404)


@bp.post("/wiki/<slug>/revert/<int:number>")
def revert(slug: str, number: int) -> Any:
    page = _load(slug)
    summary = SummaryForm().validated().summary.data
    page_moves.revert(page, number, author=acting_user(), summary=summary)
    flash(_("Revision %(number)s has been restored.", number=number), "success")
    return redirect(url_for("wiki.view", slug=page.slug))


@bp.route("/wiki/<slug>/rename", methods=["GET", "POST"])
def rename(slug: str) -> Any:
    page = _load(slug)
    user = acting_user()
    if not permissions.can_manage_pages(user):
        raise Forbidden(_("Only editors can rename pages."))
    if request.method == "POST":
        form = RenameForm()
        try:
            form.validated()
            page_moves.rename(page, form.title.data, author=user, summary=form.summary.data)
        except CommonsError as error:
            return render_template(
                "rename.html", page=page, error=error.message, title=form.title.data
            ), error.status
        flash(_("The page has been renamed; its old address redirects here."), "success")
        return redirect(url_for("wiki.view", slug=page.slug))
    return render_template("rename.html", page=page, title=page.title)


@bp.post("/wiki/<slug>/delete")
def delete(slug: str) -> Any:
    page = _load(slug)
    page_moves.delete(page, author=acting_user(), summary=SummaryForm().validated().summary.data)
    flash(_("The page has been deleted. It can be restored from its history."), "success")
    return redirect(url_for("wiki.view", slug=page.slug))


@bp.post("/wiki/<slug>/restore")
def restore(slug: str) -> Any:
    page = _load(slug, include_deleted=True)
    page_moves.restore(page, author=acting_user(), summary=SummaryForm().validated().summary.data)
    flash(_("The page has been restored."), "success")
    return redirect(url_for("wiki.view", slug=page.slug))


@bp.post("/wiki/<slug>/protect")
def protect(slug: str) -> Any:
    page = _load(slug)
    protected = ProtectForm().validated().protected.data
    moderation.set_protected(page, protected, author=acting_user())
    flash(
        _("The page is now protected.") if protected else _("The page is no longer protected."),
        "success",
    )
    return redirect(url_for("wiki.view", slug=page.slug))


@bp.post("/wiki/<slug>/hide/<int:number>")
def hide_revision(slug: str, number: int) -> Any:
    page = _load(slug, include_deleted=True)
    revision = _revision_or_404(page, number)
    hidden = HideRevisionForm().validated().hidden.data
    moderation.set_revision_hidden(revision, hidden, author=acting_user())
    flash(
        _("The revision's content is now hidden.")
        if hidden
        else _("The revision's content is visible again."),
        "success",
    )
    return redirect(url_for("wiki.history", slug=page.slug))


@bp.get("/pages")
def all_pages() -> str:
    return _listing(None, None)


@bp.get("/kind/<kind>")
def by_kind(kind: str) -> str:
    if kind not in {k.value for k in Kind}:
        abort(404)
    return _listing(kind, None)


@bp.get("/tags")
def tags() -> str:
    return render_template("tags.html", tags=page_queries.tag_counts())


@bp.get("/tag/<tag>")
def by_tag(tag: str) -> str:
    return _listing(None, tag)


def _listing(kind: str | None, tag: str | None) -> str:
    per_page = current_app.config["PAGE_SIZE"]
    number = page_number()
    found, total = page_queries.list_pages(
        kind=kind, tag=tag, offset=(number - 1) * per_page, limit=per_page
    )
    return render_template(
        "listing.html",
        pages=found,
        kind=kind,
        tag=tag,
        pagination=Pagination(number, per_page, total),
    )


@bp.get("/recent")
def recent() -> str:
    per_page = current_app.config["PAGE_SIZE"]
    number = page_number()
    revisions = page_queries.recent_changes(offset=(number - 1) * per_page, limit=per_page)
    reveal_hidden = permissions.can_see_hidden(acting_user())
    return render_template(
        "recent.html",
        revisions=revisions,
        reveal_hidden=reveal_hidden,
        parent_sizes=page_queries.previous_sizes(revisions, reveal_hidden=reveal_hidden),
        pagination=Pagination(number, per_page, page_queries.count_revisions()),
    )
