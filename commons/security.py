"""Response headers that back the sanitiser up, the public base URL, safe redirects, and
the signer of session cookies."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import Flask, Response, request
from flask.sessions import SecureCookieSessionInterface
from itsdangerous import URLSafeTimedSerializer
from werkzeug.middleware.proxy_fix import ProxyFix

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' https: http:",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)

#: Added to every response that does not set its own.
SECURITY_HEADERS = (
    ("Content-Security-Policy", CONTENT_SECURITY_POLICY),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "same-origin"),
    ("X-Frame-Options", "DENY"),
)
HSTS_HEADER = ("Strict-Transport-Security", "max-age=31536000")


def init_app(app: Flask) -> None:
    app.session_interface = SignedSessionCookies()
    app.wsgi_app = SecureCookiesOverHttps(app.wsgi_app)  # type: ignore[method-assign]
    if app.config.get("BASE_URL"):
        # Inside ProxyFix: the configured address wins over any X-Forwarded-Host too.
        app.wsgi_app = PublicAddress(app.wsgi_app, app.config["BASE_URL"])  # type: ignore[method-assign]
    if app.config.get("TRUSTED_PROXIES"):
        # Behind a reverse proxy, X-Forwarded-Proto tells whether the reader used HTTPS;
        # ProxyFix goes outermost so the cookie middleware sees the corrected scheme.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1)  # type: ignore[method-assign]
    app.after_request(_security_headers)


class SecureCookiesOverHttps:
    """WSGI middleware marking every cookie Secure when the request came over HTTPS.

    It wraps the whole application because Flask saves the session, and Flask-Login its
    remember cookie, after the ``after_request`` hooks have run.
    """

    def __init__(self, app: Any) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        if environ.get("wsgi.url_scheme") != "https":
            return self.app(environ, start_response)

        def secure_start_response(status: str, headers: list, exc_info: Any = None) -> Any:
            headers = [
                (name, f"{value}; Secure")
                if name.lower() == "set-cookie" and "; secure" not in value.lower()
                else (name, value)
                for name, value in headers
            ]
            return start_response(status, headers, exc_info)

        return self.app(environ, secure_start_response)


class SignedSessionCookies(SecureCookieSessionInterface):
    """Flask's signed session cookies, with their signer built once per set of keys.

    Flask builds it for every request, a visitor's too (whose request has no cookie to
    read), and that cost as much as the visitor stamp's query on a cached page view.
    """

    def __init__(self) -> None:
        self._signers: dict[tuple[Any, ...], URLSafeTimedSerializer | None] = {}

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        keys = (app.secret_key, *(app.config["SECRET_KEY_FALLBACKS"] or ()))
        if keys not in self._signers:
            self._signers[keys] = super().get_signing_serializer(app)
        return self._signers[keys]


class PublicAddress:
    """WSGI middleware answering every request as if it came to ``COMMONS_BASE_URL``.

    Absolute URLs (canonical links, permalinks, citations, feeds) are built from the
    request's scheme and host; with a base URL they never come from a ``Host`` or
    ``X-Forwarded-Host`` header that a client chose. The base URL's path, if any, is
    where the wiki is mounted (the server or proxy passes requests without it).
    """

    def __init__(self, app: Any, base_url: str) -> None:
        parts = urlsplit(base_url)
        if parts.scheme not in {"http", "https"} or not parts.netloc:
            raise ValueError("COMMONS_BASE_URL must be an absolute http(s) address")
        self.app = app
        self.scheme = parts.scheme
        self.host = parts.netloc
        self.root = parts.path.rstrip("/")

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        environ["wsgi.url_scheme"] = self.scheme
        environ["HTTP_HOST"] = self.host
        environ["SCRIPT_NAME"] = self.root
        return self.app(environ, start_response)


def local_path(target: str | None) -> str | None:
    """``target`` if it is a path on this site ("/wiki/x?rev=2"), else None.

    Browsers drop tabs and newlines from addresses and read "\\" as "/", so "/\t/evil"
    and "/\\evil" lead to another site: any control character, space or backslash refuses.
    """
    if not target or not target.startswith("/") or target.startswith("//"):
        return None
    if any(char == "\\" or not char.isprintable() or char.isspace() for char in target):
        return None
    parts = urlsplit(target)
    return target if not parts.scheme and not parts.netloc else None


def _security_headers(response: Response) -> Response:
    # One pass over the response's headers rather than a search for each one: this
    # runs on every cached page view.
    present = {name.lower() for name, _value in response.headers}
    wanted = (*SECURITY_HEADERS, HSTS_HEADER) if request.is_secure else SECURITY_HEADERS
    for name, value in wanted:
        if name.lower() not in present:
            response.headers.add(name, value)
    return response
