"""Response headers that back the sanitiser up: CSP without inline script, no framing."""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, request
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


def init_app(app: Flask) -> None:
    app.wsgi_app = SecureCookiesOverHttps(app.wsgi_app)  # type: ignore[method-assign]
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


def _security_headers(response: Response) -> Response:
    response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("X-Frame-Options", "DENY")
    if request.is_secure:
        response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    return response
