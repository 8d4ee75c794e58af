"""A tiny web process for the live-process tests: Django's WSGI handler behind wsgiref.

Run as ``python -m tests.deploy.wsgi_app`` with the test settings; it prints its port,
then serves until killed. Its first request starts safemigrate's heartbeat, as in any web
process.
"""

from __future__ import annotations

import os
from wsgiref.simple_server import WSGIRequestHandler, make_server

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")

from django.core.wsgi import get_wsgi_application


class QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


if __name__ == "__main__":
    server = make_server("127.0.0.1", 0, get_wsgi_application(), handler_class=QuietHandler)
    print(server.server_port, flush=True)
    server.serve_forever()
