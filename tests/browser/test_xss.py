"""No payload from the XSS corpus runs, on any view that shows stored content.

The browser context bypasses the Content-Security-Policy on purpose: the sanitiser and
the templates' escaping must hold on their own, the policy only backs them up (its header
is checked separately in tests/test_security.py). Two signals are watched: a dialog
opening (every payload calls ``alert`` or a sibling), and, after each load, any element
the page's DOM should never contain: event-handler attributes, script URLs, foreign
scripts, frames, objects, ``<base>`` or refresh ``<meta>`` tags.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from urllib.parse import urlencode

import pytest

from commons import auth, bundles, pages, transaction
from commons.extensions import db
from tests.xss_corpus import PAYLOADS

from .conftest import LiveServer, login

DOM_CHECK = """() => {
  const bad = [];
  for (const el of document.querySelectorAll('*')) {
    for (const attr of el.attributes) {
      const name = attr.name.toLowerCase();
      const value = attr.value.replace(/[\\s\\u0000-\\u001f]/g, '').toLowerCase();
      if (name.startsWith('on')) bad.push(el.tagName + ' ' + name);
      if (['href', 'src', 'action', 'formaction', 'xlink:href', 'data'].includes(name)
          && /^(javascript|vbscript|data):/.test(value)) bad.push(el.tagName + ' ' + name);
      if (name === 'style' && /expression|javascript|url\\(/.test(value)) {
        bad.push(el.tagName + ' style');
      }
    }
  }
  for (const s of document.scripts) {
    if (!s.src || new URL(s.src).origin !== location.origin) bad.push('foreign script');
  }
  for (const tag of ['iframe', 'object', 'embed', 'base', 'frame', 'frameset']) {
    if (document.getElementsByTagName(tag).length) bad.push(tag);
  }
  for (const meta of document.querySelectorAll('meta[http-equiv]')) {
    // The exported pages' own policy is welcome; a refresh or anything else is not.
    if (meta.httpEquiv.toLowerCase() !== 'content-security-policy') bad.push('meta http-equiv');
  }
  return bad;
}"""


def _store_payloads(server: LiveServer) -> list[str]:
    slugs = []
    with server.app.app_context():
        author = auth.find_user("marie")
        for number, payload in enumerate(PAYLOADS, start=1):
            title = f"XSS {number} {payload}"[:200]
            page = pages.save(
                None,
                title=title,
                body=f"{payload}\n\n[[{payload}|label]]\n",
                author=author,
                summary=payload[:500],
                tags=["xss", payload[:40]],
                coauthors=[payload[:200]],
            ).page
            pages.save(
                page.slug,
                title=title,
                body=f"{payload}\n\nsuite {payload}\n",
                author=author,
                summary=payload[:500],
                tags=["xss", payload[:40]],
                source={"title": payload[:300], "url": "https://example.org/", "authors": ""},
            )
            slugs.append(page.slug)
        transaction.commit()
        db.session.remove()
    return slugs


@pytest.fixture(scope="module")
def stored(live_server: LiveServer) -> list[str]:
    return _store_payloads(live_server)


@pytest.fixture(scope="module")
def watched(browser, live_server: LiveServer):
    context = browser.new_context(bypass_csp=True, base_url=live_server.url)
    context.set_default_timeout(10_000)
    tab = context.new_page()
    dialogs: list[str] = []

    def dismiss(dialog) -> None:
        dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    tab.on("dialog", dismiss)
    yield tab, dialogs
    context.close()


VIEWS = {
    "page": ["/wiki/{slug}"],
    "old revision": ["/wiki/{slug}?rev=1"],
    "history": ["/wiki/{slug}/history"],
    "diff": ["/wiki/{slug}/diff?from=1&to=2"],
    "credits": ["/wiki/{slug}/credits"],
    "editor": ["/wiki/{slug}/edit"],
}


def _visit(tab, dialogs: list[str], url: str) -> list[str]:
    tab.goto(url, wait_until="load")
    found = tab.evaluate(DOM_CHECK)
    found += dialogs
    dialogs.clear()
    return [f"{url}: {problem}" for problem in found]


@pytest.mark.parametrize("view", list(VIEWS))
def test_no_payload_runs_on_page_views(watched, stored, live_server, view) -> None:
    tab, dialogs = watched
    if view == "editor":
        login(tab, "marie")
    problems = []
    for slug in stored:
        for pattern in VIEWS[view]:
            problems += _visit(tab, dialogs, pattern.format(slug=slug))
    assert problems == []


def test_no_payload_runs_in_listings_feed_and_search(watched, stored) -> None:
    tab, dialogs = watched
    problems = []
    for url in ("/", "/recent", "/recent?page=2", "/pages", "/pages?page=2", "/tags", "/tag/xss"):
        problems += _visit(tab, dialogs, url)
    problems += _visit(tab, dialogs, "/recent.atom")
    problems += _visit(tab, dialogs, "/search?q=XSS")
    for payload in PAYLOADS:
        problems += _visit(tab, dialogs, "/search?" + urlencode({"q": payload}))
    assert problems == []


def test_the_policy_alone_stops_inline_script(browser, live_server) -> None:
    """With the sanitiser out of the way, the CSP still refuses inline script."""
    context = browser.new_context(base_url=live_server.url)
    tab = context.new_page()
    ran = []
    tab.on("dialog", lambda dialog: (ran.append(dialog.message), dialog.dismiss()))
    tab.goto("/licenses")
    # An inline script runs as it is inserted; the refusal is reported as an event.
    outcome = tab.evaluate(
        """() => new Promise(resolve => {
               document.addEventListener(
                   'securitypolicyviolation', e => resolve(e.violatedDirective), {once: true});
               const s = document.createElement('script');
               s.textContent = 'window.inlineRan = true; alert(1)';
               document.body.append(s);
               if (window.inlineRan) resolve('ran');
           })"""
    )
    context.close()
    assert outcome.startswith("script-src") and ran == []


def test_no_payload_runs_in_exported_html(watched, stored, live_server, tmp_path) -> None:
    tab, dialogs = watched
    bundle = tmp_path / "xss.zip"
    with live_server.app.app_context():
        with bundle.open("wb") as out:
            bundles.export_bundle(out, bundles.Selection(tag="xss", history=True))
        db.session.remove()
    with zipfile.ZipFile(bundle) as archive:
        archive.extractall(tmp_path / "bundle")
    problems = []
    for html in [tmp_path / "bundle" / "index.html", *(tmp_path / "bundle").rglob("pages/*.html")]:
        problems += _visit(tab, dialogs, html.as_uri())
    assert len(problems) == 0, problems[:10]


def test_no_payload_runs_from_an_imported_manifest(watched, live_server) -> None:
    tab, dialogs = watched
    body = "Texte importé.\n"
    digest = hashlib.sha256(body.encode()).hexdigest()
    entries, files = [], {}
    for number, payload in enumerate(PAYLOADS[:40], start=1):
        slug = f"importee-{number}"
        files[f"pages/{slug}.md"] = body
        entries.append(
            {
                "slug": slug,
                "title": f"Importée {number} {payload}"[:200],
                "kind": "page",
                "tags": [],
                "license": "CC-BY-SA-4.0",
                "revision": 1,
                "files": {"markdown": f"pages/{slug}.md"},
                "revisions": [
                    {
                        "number": 1,
                        "parent": None,
                        "action": "create",
                        "author": payload[:200],
                        "author_kind": "external",
                        "coauthors": [payload[:200]],
                        "date": "2024-03-01T10:00:00Z",
                        "summary": payload[:500],
                        "sha256": digest,
                        "size": len(body.encode()),
                        "path": f"pages/{slug}.md",
                    }
                ],
            }
        )
    manifest = {"format": "commons-bundle", "version": 1, "pages": entries}
    stream = io.BytesIO()
    with zipfile.ZipFile(stream, "w") as archive:
        for name, content in files.items():
            archive.writestr(name, content)
        archive.writestr("manifest.json", json.dumps(manifest))
    stream.seek(0)
    with live_server.app.app_context():
        bundles.import_bundle(stream)
        db.session.remove()
    problems = []
    for number in range(1, 41):
        for view in ("", "/history", "/credits"):
            problems += _visit(tab, dialogs, f"/wiki/importee-{number}{view}")
    problems += _visit(tab, dialogs, "/credits")
    assert problems == []
