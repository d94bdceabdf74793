"""The request body limit, enforced before anything reads the body.

Why a middleware: FastAPI reads and parses a route's body before its dependencies run, so the
API key check and the 1000-row cap of ``POST /v1/interactions`` came after an unauthenticated
client had made the server hold and parse a body of any size. Here a declared
``Content-Length`` over the limit is answered 413 at once, and a body sent without one
(chunked) is cut off with 413 as soon as the bytes received pass the limit. (FastAPI's own
``max_body_size`` answers a plain-text 413, outside the API's one error shape.)
"""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kgrec.api.errors import error_response


def too_large(limit: int) -> str:
    """The 413 message."""
    return f"the request body is larger than {limit:,} bytes (KGREC_MAX_BODY_BYTES)"


class BodySizeLimit:
    """ASGI middleware: at most ``max_bytes`` of request body, else 413 ``body_too_large``."""

    def __init__(self, app: ASGIApp, max_bytes: int):
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_bytes):
            await error_response(413, "body_too_large", too_large(self.max_bytes),
                                 headers={"Connection": "close"})(scope, receive, send)
            return
        received = 0

        async def limited() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:  # the app's HTTP error handler answers 413
                    raise HTTPException(413, too_large(self.max_bytes))
            return message

        await self.app(scope, limited, send)
