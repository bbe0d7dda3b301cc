"""The edge of the HTTP API: headers on every response, text checks on every request, the API reference page.

- Every response: ``Cache-Control: no-store`` (answers hold patient data; nothing may keep a copy),
  ``X-Content-Type-Options: nosniff``, a Content-Security-Policy that allows nothing (the API reference
  page: only the server's own scripts), ``Referrer-Policy: no-referrer``, no framing.
- Every request: the path, the query and a JSON body must be text: UTF-8, without NUL and without
  lone surrogates (``"\\ud800"``), or the request is refused with 400 before any route runs. Such
  characters cannot be stored (PostgreSQL refuses NUL in text) and would otherwise end as a 5xx.
- ``/docs``: Swagger UI from files vendored in ``static/swagger-ui`` (its README: version, licence),
  never from a CDN. ReDoc is not served.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, MutableMapping
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote_to_bytes

from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool
from starlette.responses import HTMLResponse
from starlette.staticfiles import StaticFiles

from adapters.http.problems import problem
from adapters.persistence.errors import STORE_ERRORS
from domain.errors import NimrsError

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

STATIC = Path(__file__).resolve().parent / "static"
# The largest request body read (413 past it, before reading the rest): a bulk delivery of the most VPCR reports
# one delivery may hold (workflows.service.MAX_BULK_REPORTS) takes about 1 MiB.
MAX_BODY_BYTES = 8 * 2 ** 20
MAX_FORM_BYTES = 2 ** 20  # a page's form: the longest narrative fits many times over
# Bodies above this are checked in a worker thread: checking 8 MiB takes seconds, and the event loop serves everyone.
CHECKED_ON_THE_LOOP = 64 * 2 ** 10
API_POLICY = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
# Swagger UI sets some styles inline; scripts only from this server.
DOCS_POLICY = ("default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
               "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'")
# The pages: scripts, styles and images from this server only; htmx's requests and SSE to it; forms post to it.
PAGE_POLICY = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
               "form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
SECURITY_HEADERS = [(b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"no-referrer"),
                    (b"x-frame-options", b"DENY")]
DOCS_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>nimrs API</title>
<link rel="stylesheet" href="/static/swagger-ui/swagger-ui.css">
<link rel="icon" type="image/png" href="/static/swagger-ui/favicon-32x32.png"></head>
<body><div id="swagger-ui"></div>
<script src="/static/swagger-ui/swagger-ui-bundle.js"></script>
<script src="/static/docs.js"></script></body></html>
"""
log = logging.getLogger("nimrs.http")
UNKNOWN_CALLER: tuple[type[Exception], ...] = (NimrsError, *STORE_ERRORS)  # the refusal is logged as anonymous


def _not_text(value: str) -> str | None:
    if "\x00" in value:
        return "a NUL character (\\u0000)"
    if any("\ud800" <= character <= "\udfff" for character in value):
        return "a lone surrogate (\\ud800-\\udfff)"
    return None


def _first_not_text(data: Any) -> str | None:
    """What is wrong with the first string (key or value) in a JSON document that is not text."""
    stack = [data]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if found := _not_text(item):
                return found
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return None


def _url_problem(scope: Scope) -> str | None:
    parts = (("path", scope.get("raw_path") or scope["path"].encode()), ("query", scope.get("query_string", b"")))
    for where, raw in parts:
        try:
            text = unquote_to_bytes(raw.replace(b"+", b" ") if where == "query" else raw).decode("utf-8")
        except UnicodeDecodeError:
            return f"the {where} is not UTF-8 text"
        if found := _not_text(text):
            return f"the {where} holds {found}"
    return None


def _body_problem(body: bytes) -> str | None:
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return "the request body is not UTF-8 text"
    if "\\u" not in text:  # NUL and surrogates can only come escaped (raw control characters are not JSON)
        return None
    try:
        data = json.loads(text)
    except ValueError:
        return None  # not JSON at all: the route says so (422)
    except RecursionError:
        return "the JSON body is nested too deeply"
    found = _first_not_text(data)
    return f"the JSON body holds {found}" if found else None


def _form_problem(body: bytes) -> str | None:
    """A page's form (application/x-www-form-urlencoded): its decoded values must be text too."""
    try:
        pairs = parse_qsl(body.decode("ascii"), keep_blank_values=True, encoding="utf-8", errors="strict")
    except (UnicodeDecodeError, ValueError):
        return "the form is not UTF-8 text"
    found = _first_not_text([text for pair in pairs for text in pair])
    return f"the form holds {found}" if found else None


def _is_page(path: str) -> bool:
    return path == "/" or path.startswith("/web/")


def _body_kind(scope: Scope) -> str:
    for name, value in scope.get("headers", []):
        if name == b"content-type":
            kind = value.split(b";")[0].strip().lower()
            if kind == b"application/x-www-form-urlencoded":
                return "form"
            return "json" if kind == b"application/json" or kind.endswith(b"+json") else "other"
    return "absent"  # FastAPI reads a body without a content type as JSON; a page reads it as an empty form


class Edge:
    """Pure ASGI middleware (it buffers only bodies it checks, and passes streams through untouched)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        docs = scope["path"] == "/docs"

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                if b"cache-control" not in present:
                    headers.append((b"cache-control", b"no-store"))
                page = any(name.lower() == b"content-type" and value.startswith((b"text/html", b"text/event-stream"))
                           for name, value in headers)
                policy = DOCS_POLICY if docs else PAGE_POLICY if page else API_POLICY
                headers.append((b"content-security-policy", policy.encode()))
                headers += [header for header in SECURITY_HEADERS if header[0] not in present]
                message["headers"] = headers
            await send(message)

        wrong = _url_problem(scope)
        kind = _body_kind(scope) if wrong is None and scope["method"] in ("POST", "PUT", "PATCH", "DELETE") else None
        if kind in ("json", "other") and _is_page(scope["path"]):
            # The pages' forms are urlencoded; nothing else (multipart) would pass the text checks below.
            response = problem(415, "the pages take forms sent as application/x-www-form-urlencoded",
                               kind="unsupported_media_type", instance=_not_text_free(scope["path"][:200]))
            await response(scope, _no_receive, send_with_headers)
            return
        limit = MAX_FORM_BYTES if kind == "form" else MAX_BODY_BYTES
        if kind is not None and _declared_length(scope) > limit:
            await _too_large(scope, limit, send_with_headers)
            return
        if kind in ("json", "absent", "form"):
            buffered = await _buffered(receive, limit)
            if buffered is None:
                await _too_large(scope, limit, send_with_headers)
                return
            body, receive = buffered
            check = _form_problem if kind == "form" else _body_problem
            wrong = check(body) if len(body) <= CHECKED_ON_THE_LOOP else await run_in_threadpool(check, body)
        if wrong is not None:
            await _refuse(scope, wrong, send_with_headers)
            return
        await self.app(scope, _limited(receive) if kind == "other" else receive, send_with_headers)


def _declared_length(scope: Scope) -> int:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            return int(value) if value.isdigit() else 0  # a malformed length is uvicorn's to refuse
    return 0


async def _too_large(scope: Scope, limit: int, send: Send) -> None:
    """413, changing nothing, before the rest of the body is read into memory."""
    hint = " (a bulk delivery of VPCR reports in parts)" if limit == MAX_BODY_BYTES else ""
    response = problem(413, f"the request body is larger than {limit // 2 ** 20} MiB: send less{hint}",
                       kind="too_large", instance=_not_text_free(scope["path"][:200]))
    await response(scope, _no_receive, send)


async def _buffered(receive: Receive, limit: int) -> tuple[bytes, Receive] | None:
    """The whole body, and a receive that replays it; None past ``limit`` bytes."""
    chunks, more, size = [], True, 0
    while more:
        message = await receive()
        if message["type"] != "http.request":  # the client went away: let the app see it
            return b"", _replaying(message, receive)
        chunks.append(message.get("body", b""))
        size += len(chunks[-1])
        if size > limit:
            return None
        more = message.get("more_body", False)
    body = b"".join(chunks)
    return body, _replaying({"type": "http.request", "body": body, "more_body": False}, receive)


def _limited(receive: Receive) -> Receive:
    """A body passed through unread (no endpoint takes one; FastAPI may read it to refuse it) ends, as if the client
    went away, past ``MAX_BODY_BYTES``: it is never held in memory whole."""
    size = 0

    async def counted() -> Message:
        nonlocal size
        message = await receive()
        size += len(message.get("body", b""))
        return {"type": "http.disconnect"} if size > MAX_BODY_BYTES else message

    return counted


def _replaying(first: Message, receive: Receive) -> Receive:
    pending = [first]

    async def replay() -> Message:
        return pending.pop() if pending else await receive()

    return replay


async def _refuse(scope: Scope, detail: str, send: Send) -> None:
    """400, changing nothing; a refused command is recorded in the security log like any other."""
    path = scope["path"].encode("utf-8", "backslashreplace").decode("utf-8")[:200]
    if scope["method"] not in ("GET", "HEAD"):
        await run_in_threadpool(_record, scope, path, detail)
    response = problem(400, f"{detail}: send text (UTF-8, without NUL or unpaired surrogates)", kind="malformed",
                       instance=_not_text_free(path))
    await response(scope, _no_receive, send)


def _not_text_free(text: str) -> str:
    return "".join("\ufffd" if _not_text(character) else character for character in text)


async def _no_receive() -> Message:
    return {"type": "http.disconnect"}


def _record(scope: Scope, path: str, detail: str) -> None:
    app = scope.get("app")
    context = getattr(getattr(app, "state", None), "context", None)
    if context is None:
        return
    actor = None
    for name, value in scope.get("headers", []):
        if name == b"authorization" and value[:7].lower() == b"bearer ":
            try:
                actor = context.authenticate(value[7:].decode("latin-1").strip()).actor
            except UNKNOWN_CALLER:
                actor = None
    try:
        context.security_log.refused(context.clock(), actor, f"{scope['method']} {_not_text_free(path)}",
                                     _not_text_free(path), 400, detail, user_id="anonymous")
    except STORE_ERRORS:
        log.exception("could not record a refusal in the security log")


def install(app: FastAPI) -> None:
    """The middleware, and the API reference page from local files (the app is made with ``docs_url=None``)."""
    app.add_middleware(Edge)  # type: ignore[arg-type]
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return HTMLResponse(DOCS_PAGE)
