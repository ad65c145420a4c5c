"""HTTP Basic authentication for the whole hub (UI, app routes, WebSockets), ``/healthz`` excepted.

Basic auth rather than Gradio's login page because it also covers the routes
apps add (the anchor's ``/avatar`` page and its WebSocket) and works in an OBS
browser source (``http://user:password@host:port/avatar``). Use it behind TLS
when the hub is reachable from other machines.
"""

import base64
import binascii
import secrets

from .errors import BoyaError

OPEN_PATHS = ("/healthz",)


def parse_credentials(value: str) -> tuple[str, str]:
    """``"user:password"`` → ``(user, password)``; both parts must be non-empty."""
    user, sep, password = value.partition(":")
    if not sep or not user or not password:
        raise BoyaError("--auth / BOYA_AUTH must look like user:password")
    return user, password


class BasicAuth:
    """Pure ASGI middleware, so it guards WebSocket handshakes as well as HTTP requests."""

    def __init__(self, app, user: str, password: str):
        self.app = app
        self.expected = base64.b64encode(f"{user}:{password}".encode()).decode()

    def _authorized(self, scope) -> bool:
        for name, value in scope.get("headers", []):
            if name == b"authorization":
                scheme, _, token = value.decode("latin-1").partition(" ")
                try:
                    base64.b64decode(token, validate=True)
                except (binascii.Error, ValueError):
                    return False
                return scheme.lower() == "basic" and secrets.compare_digest(token, self.expected)
        return False

    async def __call__(self, scope, receive, send):
        if (
            scope["type"] not in ("http", "websocket")
            or scope["path"] in OPEN_PATHS
            or self._authorized(scope)
        ):
            await self.app(scope, receive, send)
            return
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})
            return
        await send(
            {
                "type": "http.response.start",
                "status": 401,
                "headers": [(b"www-authenticate", b'Basic realm="boya"'), (b"content-type", b"text/plain")],
            }
        )
        await send({"type": "http.response.body", "body": b"authentication required"})
