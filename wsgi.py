"""WSGI entry point: ``gunicorn wsgi:app``."""

from commons import create_app

app = create_app()
