"""WSGI entry point: `gunicorn wsgi:app`."""

from vigtrain import create_app

app = create_app()
