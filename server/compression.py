"""Compressed answers for a client that asks (``Accept-Encoding: gzip``): API answers, the
PWA's shell and the office's static files (docs/pwa.md, "Light on the network").

Starlette's ``GZipMiddleware`` does the work: gzip at level 6 (level 9 takes more CPU on
every large pull for 0.1 % fewer bytes on the shell: 107,501 against 107,654), bodies under
``MINIMUM_SIZE`` bytes as they are (the headers would outweigh the saving), images and other
compressed types as they are, and ``Vary: Accept-Encoding`` on every answer large enough to
compress. Gzip rather than brotli: no brotli library is installed, every browser and httpx
speak gzip, and brotli saves only a few per cent more on JSON this size.

Only what carries no secret is compressed: the API (not ``/api/auth/``, whose answers hold
tokens), the PWA's shell and the office's static files. Office pages hold a CSRF token next to
text a request can put there (a search, a filter), which compression would let an eavesdropper
guess byte by byte (BREACH); they are small and sent as they are.

A compressed answer is a different representation, so its ``ETag`` becomes weak (``W/"…"``)
as RFC 9110 asks; ``StaticFiles`` compares ``If-None-Match`` ignoring ``W/``, so the shell's
revalidation (``304 Not Modified``) still works.
"""
from __future__ import annotations

from starlette.datastructures import Headers, MutableHeaders
from starlette.middleware.gzip import GZipMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

MINIMUM_SIZE = 860  # bytes; about one TCP packet's payload
LEVEL = 6


def compressible(path: str) -> bool:
    if path.startswith("/api/auth/"):
        return False
    return path.startswith(("/api/", "/app/", "/office/static/"))


class Compress:
    def __init__(self, app: ASGIApp) -> None:
        self.gzip = GZipMiddleware(app, minimum_size=MINIMUM_SIZE, compresslevel=LEVEL)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not compressible(scope.get("path", "")):
            await self.gzip.app(scope, receive, send)
            return

        gzip_asked = "gzip" in Headers(scope=scope).get("accept-encoding", "")

        async def weak_etag(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(raw=message.setdefault("headers", []))
                etag = headers.get("etag")
                # a 304 to a client that takes gzip names the gzipped copy it holds
                zipped = "content-encoding" in headers or (message["status"] == 304 and gzip_asked)
                if etag and zipped and not etag.startswith("W/"):
                    headers["etag"] = "W/" + etag
            await send(message)

        await self.gzip(scope, receive, weak_etag)
