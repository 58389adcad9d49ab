"""A small router for the eSign paths: literal segments match case-insensitively, doubled
slashes are tolerated, path parameters keep their case. Routes are data, so the OpenAPI
document is generated from the same table the dispatcher uses."""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, unquote

import orjson
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from esign.api import encode
from esign.api.codec import Spec, WireError, canonical_id, decode
from esign.api.errors import details_for
from esign.domain.errors import DomainError, InvalidToken, RateLimited
from esign.services import auth
from esign.services.context import Caller, Deps

log = logging.getLogger("esign.api")

_PARAM = re.compile(r"\{(\w+)(?::(int))?\}")
_WHOLE_NUMBER = re.compile(r"-?\d+")


@dataclass
class Ctx:
    """What a handler sees of its request, already decoded."""

    deps: Deps
    params: dict[str, str]
    query: dict[str, str]  # keys lower-cased: the vendor mixes returnUrl and returnURL
    headers: dict[str, str]
    body: dict[str, Any]
    ip: str
    user_agent: str
    caller: Caller | None = None

    @property
    def who(self) -> Caller:
        assert self.caller is not None, "route declared auth"
        return self.caller

    def arg(self, name: str, default: str = "") -> str:
        return self.query.get(name.lower(), default)


Handler = Callable[[Ctx], dict[str, Any] | Response]


@dataclass
class Route:
    method: str
    path: str
    handler: Handler
    summary: str
    auth: bool = True
    # Only for the client's administrative account: an API key or an admin user (decision 0039).
    admin: bool = False
    body: Spec | None = None
    # The answer's members beside the envelope's, as JSON Schema (api/answers.py), for OpenAPI.
    answers: dict[str, Any] = field(default_factory=dict)
    # Answers ReturnValue "True" when done: refused, it answers "False" (reference §2: "for
    # boolean RR results ReturnValue is "True" or "False""), except for a bad token (§1).
    boolean: bool = False
    query: tuple[str, ...] = ()
    # A route without a token that reads its credential from the Authorization header
    # all the same (GetToken: the encrypted API key): what the header carries, for OpenAPI.
    credential: str = ""
    # What a successful answer is when not the JSON envelope (a PDF, a PNG); refusals stay JSON.
    media: tuple[str, ...] = ()
    regex: re.Pattern[str] = field(init=False)
    int_params: tuple[str, ...] = field(init=False)
    # The path with any text where a number goes: a request that matches only this is told
    # which parameter is no number, rather than that no such endpoint exists.
    loose: re.Pattern[str] | None = field(init=False)

    def __post_init__(self) -> None:
        parts, loose, ints = [], [], []
        for segment in self.path.strip("/").split("/"):
            m = _PARAM.fullmatch(segment)
            if not m:
                parts.append(f"(?i:{re.escape(segment)})")
                loose.append(parts[-1])
                continue
            loose.append(f"(?P<{m[1]}>[^/]+)")
            if m[2] == "int":
                ints.append(m[1])
                parts.append(f"(?P<{m[1]}>-?\\d+)")
            else:
                parts.append(loose[-1])
        self.regex = re.compile("^/" + "/".join(parts) + "$")
        self.int_params = tuple(ints)
        self.loose = re.compile("^/" + "/".join(loose) + "$") if ints else None


class Dispatcher:
    def __init__(
        self,
        deps: Deps,
        routes: list[Route],
        max_body: int,
        threads: int = 8,
        body_wait: float = 60.0,
    ) -> None:
        self._deps = deps
        # How long the body may pause between two of its parts: a client that promises more
        # than it sends must not hold a connection (and its memory) for good.
        self._body_wait = body_wait
        # Few threads: the work holds the GIL most of the time, and every thread more makes
        # each database call wait longer to take it back.
        self._threads = ThreadPoolExecutor(threads, thread_name_prefix="esign-request")
        self.routes = routes
        self._max_body = max_body
        # A parameter never spans a slash, so only routes of as many segments can match.
        self._by_segments: dict[int, list[Route]] = {}
        for route in routes:
            segments = route.path.strip("/").count("/") + 1
            self._by_segments.setdefault(segments, []).append(route)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """An ASGI app of its own: a request costs no Starlette Request, middleware or anyio
        hop, which add up on a process whose every request takes the same one GIL."""
        response = await self._respond(scope, receive)
        if response is not None:
            await response(scope, receive, send)

    async def _respond(self, scope: Scope, receive: Receive) -> Response | None:
        path = _raw_path(scope)
        if "//" in path:
            path = re.sub(r"/{2,}", "/", path)
        path = path.rstrip("/") or "/"
        candidates = self._by_segments.get(path.count("/"), ())
        matches = [(r, m) for r in candidates if (m := r.regex.match(path))]
        if not matches:  # (strict first: a number's place may hold a word in another route)
            matches = [(r, m) for r in candidates if r.loose and (m := r.loose.match(path))]
        if not matches:
            return encode.render(encode.failure(["Error: No such endpoint."], ["not_found"]), 404)
        method = scope["method"]
        wanted = "GET" if method == "HEAD" else method  # (uvicorn sends a HEAD no body)
        chosen = next(((r, m) for r, m in matches if r.method == wanted), None)
        if chosen is None:
            allowed = {r.method for r, _ in matches}
            allowed |= {"HEAD"} if "GET" in allowed else set()
            return method_not_allowed(method, ", ".join(sorted(allowed)))
        route, match = chosen
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        raw = await self._read_body(headers, receive)
        if raw is None or isinstance(raw, Response):
            return raw
        query = scope.get("query_string", b"")
        client = scope.get("client")
        ctx = Ctx(
            deps=self._deps,
            params={k: _param(k, _unquoted(v)) for k, v in match.groupdict().items()},
            query=_query(query) if query else {},
            headers=headers,
            body={},
            ip=client[0] if client else "",
            user_agent=headers.get("user-agent", "")[:300],
        )
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._threads, self._run, route, ctx, raw)

    async def _read_body(
        self, headers: dict[str, str], receive: Receive
    ) -> bytes | Response | None:
        """The body, or the answer refusing it; None when the client went away meanwhile."""
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self._max_body:
            return _too_large(self._max_body)
        if declared in ("", "0") and "transfer-encoding" not in headers:
            gathered = await self._gather(receive, None)  # no body announced: no timer
        else:
            loop = asyncio.get_running_loop()
            try:
                async with asyncio.timeout(None) as watch:
                    # Each part moves the deadline on: a slow upload is fine, a stalled one not.
                    gathered = await self._gather(
                        receive, lambda: watch.reschedule(loop.time() + self._body_wait)
                    )
            except TimeoutError:
                return _body_too_slow(self._body_wait)
        if not isinstance(gathered, list):
            return gathered
        raw = gathered[0] if len(gathered) == 1 else b"".join(gathered)
        if not raw or raw.isspace():  # (no stripped copy of a large body)
            return b""
        ctype = headers.get("content-type", "application/json").lower()
        if not any(k in ctype for k in ("json", "text/plain", "x-www-form-urlencoded")):
            return encode.render(
                encode.failure(
                    [f"Error: Content-Type {ctype.split(';')[0]} is not accepted; send JSON."],
                    ["unsupported_media_type"],
                ),
                415,
            )
        if "utf-16" in ctype and not raw.startswith(_UTF16_BOMS):
            # .NET's StringContent with Encoding.Unicode writes no mark: it is little-endian,
            # whatever "utf-16" alone would mean elsewhere.
            raw = (b"\xfe\xff" if "utf-16be" in ctype else b"\xff\xfe") + raw
        return raw

    async def _gather(
        self, receive: Receive, before_each: Callable[[], None] | None
    ) -> list[bytes] | Response | None:
        """The body's parts; the answer refusing it; None when the client went away."""
        chunks: list[bytes] = []
        size = 0
        while True:
            if before_each is not None:
                before_each()
            message = await receive()
            if message["type"] == "http.disconnect":
                return None
            chunk = message.get("body", b"")
            if chunk:
                chunks.append(chunk)
                size += len(chunk)
                if size > self._max_body:
                    return _too_large(self._max_body)
            if not message.get("more_body", False):
                return chunks

    def _load(self, raw: bytes) -> Any:
        """The JSON body (parsed here, in the worker thread: one hop per request), or the
        answer refusing it."""
        if not raw:
            return {}
        if raw.startswith(_UTF8_BOM):  # .NET's Encoding.UTF8 writes one before the JSON
            raw = raw[len(_UTF8_BOM) :]
        elif raw.startswith(_UTF16_BOMS):  # .NET's Encoding.Unicode: UTF-16 with its mark
            try:
                raw = raw.decode("utf-16").encode()
            except UnicodeError:
                return _not_json("it is not valid UTF-16")
        try:
            return orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            if "UTF-8" in exc.msg:
                return _not_json("it must be UTF-8 text")
            if "surrogate" in exc.msg:
                return _with_lone_surrogates(raw)
            return _not_json(f"{exc.msg} at position {exc.pos}")

    @staticmethod
    def _decode(route: Route, parsed: Any) -> Any:
        """The body's members as the route takes them, or the answer refusing it."""
        if route.body is None:
            return _token_only(parsed)
        if not isinstance(parsed, dict):
            return encode.render(
                _refusal(
                    route, ["Error: The request body must be a JSON object."], "invalid_request"
                )
            )
        return decode(route.body, parsed, "")

    def _run(self, route: Route, ctx: Ctx, raw: bytes) -> Response:
        try:
            parsed = self._load(raw)
            if isinstance(parsed, Response):
                return parsed
            # The token first (contract §1): a caller without a valid one learns nothing
            # about its request, not even what is wrong with it.
            if route.auth:
                token = ctx.headers.get("authorization", "") or _body_token(parsed)
                ctx.caller = auth.authenticate(self._deps, token.strip(), ctx.ip, ctx.user_agent)
                if route.admin:
                    ctx.caller.ensure_admin()
            _check_params(route, ctx)
            body = self._decode(route, parsed)
            if isinstance(body, Response):
                return body
            ctx.body = body
            result = route.handler(ctx)
            if isinstance(result, Response):
                return result
            if route.boolean and result["Message"] == "Error":  # refused by the handler itself
                result["ReturnValue"] = "False"
            return encode.render(result)
        except WireError as exc:
            return encode.render(
                _refusal(route, [f"Error: {exc.path or 'body'} {exc.problem}."], "invalid_request")
            )
        except RateLimited as exc:
            retry = str(exc.params.get("retry_after", 60))
            return encode.render(
                encode.failure(details_for(exc), [exc.code]), 429, {"Retry-After": retry}
            )
        except DomainError as exc:
            return encode.render(_refusal(route, details_for(exc), exc.code))
        except Exception:  # a bug: log it, never show it
            log.exception("unhandled error in %s %s", route.method, route.path)
            return encode.render(
                encode.failure(["Error: Internal server error."], ["internal_error"]), 500
            )


def _with_lone_surrogates(raw: bytes) -> Any:
    """JSON may escape half of a UTF-16 pair ("\\ud83d" alone: .NET writes one for an emoji
    cut in two), which orjson refuses. The standard library reads it; each half becomes
    U+FFFD, as a UTF-16 decoder makes it, since no text can be stored with it."""
    try:
        return _replace_surrogates(json.loads(raw, parse_constant=_no_constant))
    except (ValueError, RecursionError) as exc:
        return _not_json(str(exc).split(":")[0] if isinstance(exc, ValueError) else "too deep")


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON value")


_SURROGATE = re.compile("[\ud800-\udfff]")


def _replace_surrogates(value: Any) -> Any:
    if isinstance(value, str):
        return _SURROGATE.sub("\ufffd", value)
    if isinstance(value, list):
        return [_replace_surrogates(v) for v in value]
    if isinstance(value, dict):
        return {_replace_surrogates(k): _replace_surrogates(v) for k, v in value.items()}
    return value


def _not_json(why: str) -> Response:
    return encode.render(
        encode.failure([f"Error: The request body is not valid JSON ({why})."], ["invalid_json"]),
        400,
    )


# Bytes that are no UTF-8 become lone surrogates (which no UTF-8 text holds) rather than
# U+FFFD (which text may hold): so they can be told apart, and refused (_check_params).
_UNDECODED_AS = "surrogateescape"
_UNDECODED = re.compile("[\udc80-\udcff]")


def _unquoted(value: str) -> str:
    return unquote(value, errors=_UNDECODED_AS)


def _text(name: str) -> str:
    return _UNDECODED.sub("\ufffd", name)


def _query(raw: bytes) -> dict[str, str]:
    """The query's values, keys lower-cased. In `username` a "+" is a plus sign: the vendor's
    clients build URLs by concatenation, and an e-mail address such as x+tag@example.com must
    arrive whole (no username holds a space). Elsewhere "+" is a space, as HttpUtility's
    UrlEncode writes one in a returnUrl."""
    text = raw.decode("latin-1")
    # (A name is looked up, never kept: one that is no UTF-8 names nothing and may be named
    # in an answer, so it is made text.)
    query = {_text(k).lower(): v for k, v in parse_qsl(text, True, errors=_UNDECODED_AS)}
    if "username" in query:
        literal = parse_qsl(text.replace("+", "%2B"), True, errors=_UNDECODED_AS)
        query["username"] = next(v for k, v in reversed(literal) if k.lower() == "username")
    return query


def method_not_allowed(method: str, allowed: str) -> Response:
    """HTTP 405 in the envelope, naming the methods the path takes (and in `Allow`)."""
    return encode.render(
        encode.failure(
            [f"Error: {method} is not allowed here; use {allowed}."], ["method_not_allowed"]
        ),
        405,
        {"Allow": allowed},
    )


def _refusal(route: Route, details: list[str], code: str) -> dict[str, Any]:
    """The answer to a request refused for what it asked (HTTP 200, contract §1)."""
    answer = encode.failure(details, [code])
    if route.boolean and code != InvalidToken.code:
        answer["ReturnValue"] = "False"
    return answer


_UTF8_BOM = b"\xef\xbb\xbf"
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
# Path values that are ids (not transaction ids, usernames or FormIds, which are the caller's).
_ID_PARAMS = frozenset({"id", "documentId", "signerId", "signingSessionId"})


def _param(name: str, value: str) -> str:
    return canonical_id(value) if name in _ID_PARAMS else value


def _token_only(parsed: Any) -> dict[str, Any]:
    """A route that takes no body still takes its token from one (`encryptedToken`, contract
    §1), as the vendor's clients send it with every call."""
    token = _body_token(parsed)
    return {"encryptedToken": token} if token else {}


def _body_token(parsed: Any) -> str:
    """The body's `encryptedToken`, whatever the case of its key; "" when it has none."""
    if isinstance(parsed, dict):
        for key, value in parsed.items():
            if key.lower() == "encryptedtoken" and isinstance(value, str):
                return value
    return ""


def _raw_path(scope: Scope) -> str:
    """The path as sent, still percent-encoded: an encoded slash inside a value (a FormId of
    "a%2Fb") is part of that value, not a separator. Values are decoded once matched."""
    raw = scope.get("raw_path")
    path = raw.decode("utf-8", _UNDECODED_AS) if isinstance(raw, bytes) else str(scope["path"])
    return path.partition("?")[0]


def _check_params(route: Route, ctx: Ctx) -> None:
    """Path and query values reach queries as they are: refuse what no value may hold."""
    for name, value in (*ctx.params.items(), *ctx.query.items()):
        if "\x00" in value:
            raise WireError(name, "contains a NUL character")
        if _UNDECODED.search(value):
            raise WireError(name, "is not UTF-8 (percent-encode the text's UTF-8 bytes)")
    for name in route.int_params:
        if not _WHOLE_NUMBER.fullmatch(ctx.params[name]):
            raise WireError(name, "must be a whole number")
        if len(ctx.params[name].lstrip("0")) > 9:  # and so no database offset overflows
            raise WireError(name, "is out of range")


def _body_too_slow(wait: float) -> Response:
    return encode.render(
        encode.failure(
            [f"Error: The request body stopped arriving for {wait:g} seconds."],
            ["request_timeout"],
        ),
        408,
        {"Connection": "close"},
    )


def _too_large(limit: int) -> Response:
    return encode.render(
        encode.failure(
            [f"Error: The request body is larger than {limit // (1024 * 1024)} MB."],
            ["body_too_large"],
        ),
        413,
    )
