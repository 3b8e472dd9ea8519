"""The web portal (FastAPI, server-rendered pages) and its JSON API. `ideal serve` starts it."""

from ideal.web.app import create_app

__all__ = ["create_app"]
