"""Headers and refusals that hold for every response of the interface, whatever the route.

- Only GET and HEAD are accepted (405 otherwise): the server only reads, so no request can change
  anything, and a hostile page elsewhere cannot post to it. HEAD is answered as GET without the body.
- Every response carries a Content-Security-Policy. Interface pages load nothing but their own
  stylesheet and run no script at all; archived bytes (originals, attachments) are served under
  `sandbox` with nothing allowed, so whatever they contain runs no script and has no origin.
- With `allowed_hosts` (the CLI sets it when bound to a loopback address) a request naming another
  Host is refused, so a site that rebinds its DNS name to 127.0.0.1 cannot read the archive.
"""

from __future__ import annotations

from collections.abc import Iterable

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

PAGE_CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
    "base-uri 'none'; frame-ancestors 'none'"
)
ARCHIVED_CSP = (
    "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'none'; "
    "base-uri 'none'; frame-ancestors 'none'"
)
READ_METHODS = ("GET", "HEAD")
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")
COMMON = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",  # searches never leak to the sites a reader clicks through to
    "x-frame-options": "DENY",
    "cross-origin-opener-policy": "same-origin",
    "cross-origin-resource-policy": "same-origin",
}


def host_of(header: str) -> str:
    """`127.0.0.1:8000` -> `127.0.0.1`, `[::1]:8000` -> `::1`, lower-cased."""
    value = header.strip().lower()
    if value.startswith("["):
        return value[1:].split("]", 1)[0]
    return value.rsplit(":", 1)[0] if value.count(":") == 1 else value


class SecurityMiddleware:
    """Pure ASGI middleware (no per-request task or body buffering: it only edits the start message)."""

    def __init__(self, app: ASGIApp, allowed_hosts: Iterable[str] | None = None) -> None:
        self.app = app
        self.allowed_hosts = {h.lower() for h in allowed_hosts} if allowed_hosts else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope["method"] not in READ_METHODS:
            await _plain(send, 405, "405 Method Not Allowed: this archive is read-only (GET only)\n",
                         {"allow": ", ".join(READ_METHODS)})
            return
        if self.allowed_hosts is not None:
            host = next((v.decode("latin-1") for k, v in scope["headers"] if k == b"host"), "")
            if host_of(host) not in self.allowed_hosts:
                await _plain(send, 400, "400 Bad Request: unknown Host header\n", {})
                return

        head = scope["method"] == "HEAD"
        if head:  # the routes answer GET; HEAD is the same response without its body
            scope = {**scope, "method": "GET"}

        async def send_with_headers(message: Message) -> None:
            if head and message["type"] == "http.response.body":
                message = {**message, "body": b""}
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                if "content-security-policy" not in headers:
                    headers["content-security-policy"] = PAGE_CSP
                for name, value in COMMON.items():
                    if name not in headers:
                        headers[name] = value
            await send(message)

        await self.app(scope, receive, send_with_headers)


async def _plain(send: Send, status: int, text: str, extra: dict[str, str]) -> None:
    body = text.encode()
    headers = [
        (b"content-type", b"text/plain; charset=utf-8"),
        (b"content-length", str(len(body)).encode()),
        (b"content-security-policy", PAGE_CSP.encode()),
        *[(k.encode(), v.encode()) for k, v in {**COMMON, **extra}.items()],
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
