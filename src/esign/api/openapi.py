"""The OpenAPI 3.1 document, generated from the route table and the codec specs."""

from __future__ import annotations

import html
from typing import Any

from esign.api import answers
from esign.api.codec import Spec
from esign.api.router import Route

_SCALARS: dict[str, dict[str, Any]] = {
    "str": {"type": "string"},
    "id": {"type": "string", "format": "uuid"},
    "int": {"type": "integer"},
    "number": {"type": "number"},
    "bool": {"type": "boolean"},
    "bytes": {
        "oneOf": [
            {"type": "string", "format": "byte"},
            {"type": "array", "items": {"type": "integer", "minimum": 0, "maximum": 255}},
        ]
    },
    "date": {"type": "string", "description": "ISO-8601 or \\/Date(ms)\\/"},
    "map": {"type": "object", "additionalProperties": {"type": "string"}},
    "props": {
        "oneOf": [
            {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {"Key": {"type": "string"}, "Value": {"type": "string"}},
                },
            },
            {"type": "object", "additionalProperties": {"type": "string"}},
        ]
    },
    "record": {
        "type": "object",
        "description": "members of text, number or true/false, kept as text",
        "additionalProperties": {"type": ["string", "number", "boolean", "null"]},
    },
    "any": {},
}

ENVELOPE = {
    "type": "object",
    "properties": {
        "Message": {"type": "string", "enum": ["Success", "Error"]},
        "Details": {"type": "array", "items": {"type": "string"}},
        "ReturnValue": {"type": ["string", "null"]},
        "ErrorCodes": {"type": "array", "items": {"type": "string"}},
    },
    "additionalProperties": True,
}


def schema(spec: Spec, components: dict[str, Any]) -> dict[str, Any]:
    if spec.kind in _SCALARS:
        return dict(_SCALARS[spec.kind])
    if spec.kind == "enum":
        assert spec.enum is not None
        values = [m.value for m in spec.enum]
        names = [m.name for m in spec.enum]
        return {
            "description": "number or name: "
            + ", ".join(f"{v}={n}" for v, n in zip(values, names, strict=True)),
            "oneOf": [{"type": "integer"}, {"type": "string"}],
        }
    if spec.kind == "list":
        assert spec.item is not None
        return {"type": "array", "items": schema(spec.item, components)}
    if spec.name != "Request" and spec.name in components:
        return {"$ref": f"#/components/schemas/{spec.name}"}
    body = {
        "type": "object",
        "description": "member names are matched case-insensitively",
        "properties": {k: schema(v, components) for k, v in spec.members.items()},
    }
    if spec.name == "Request":
        return body
    components[spec.name] = {}
    components[spec.name] = body
    return {"$ref": f"#/components/schemas/{spec.name}"}


_ANSWER = "The envelope; Message says Success or Error"
_FILE_ANSWER = "The file; a refusal is the JSON envelope with Message: Error"
_ENVELOPE_REF = {"$ref": "#/components/schemas/Envelope"}


_TEXT = {"type": "string"}
_QUERY_TYPES: dict[str, dict[str, Any]] = {
    "pageSize": {"type": "integer"},
    "pageNum": {"type": "integer"},
    "width": {"type": "integer", "description": "pixels; brought within 100..2000"},
    "purgeNow": {"type": "boolean", "description": "true/false (also 1/0, yes/no)"},
}


def _parameters(route: Route) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = [
        {
            "name": name,
            "in": "path",
            "required": True,
            "schema": {"type": "integer" if name in route.int_params else "string"},
        }
        for name in route.regex.groupindex  # the path's parameters, in order
    ]
    found += [
        {"name": q, "in": "query", "required": False, "schema": _QUERY_TYPES.get(q, _TEXT)}
        for q in route.query
    ]
    if route.credential:
        found.append(
            {
                "name": "Authorization",
                "in": "header",
                "required": True,
                "description": route.credential,
                "schema": {"type": "string"},
            }
        )
    return found


def _answer(route: Route) -> dict[str, Any]:
    if not route.answers:
        return _ENVELOPE_REF
    members = {"type": "object", "properties": route.answers}
    return {"allOf": [_ENVELOPE_REF, members]}


def _content(route: Route) -> dict[str, Any]:
    content: dict[str, Any] = {"application/json": {"schema": _answer(route)}}
    for kind in route.media:
        if kind != "application/json":
            content[kind] = {"schema": {"type": "string", "format": "binary"}}
    return content


def _transport(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": _ENVELOPE_REF}}}


# HTTP answers of problems below the application (contract §1), each the envelope too.
_TRANSPORT = {
    "400": _transport("The body is not JSON, or HTTP cannot be parsed (invalid_json, ...)"),
    "404": _transport("No such endpoint (ErrorCodes: not_found)"),
    "405": _transport("Another method is expected (ErrorCodes: method_not_allowed)"),
    "408": _transport("The body stopped arriving for a minute (ErrorCodes: request_timeout)"),
    "413": _transport("The body is larger than the server takes (ErrorCodes: body_too_large)"),
    "415": _transport("The body is not JSON (ErrorCodes: unsupported_media_type)"),
    "429": _transport("Too many failed authentications; see Retry-After (rate_limited)"),
}


def _operation_id(route: Route) -> str:
    """The operation's name from its summary ("GetToken (Authorization: ...)" → GetToken)."""
    return route.summary.split(" ", 1)[0]


def document(routes: list[Route], version: str) -> dict[str, Any]:
    components: dict[str, Any] = {"Envelope": ENVELOPE, **answers.COMPONENTS}
    paths: dict[str, dict[str, Any]] = {}
    for route in routes:
        path = route.path.replace(":int}", "}")
        op: dict[str, Any] = {
            "summary": route.summary,
            "operationId": _operation_id(route),
            "parameters": _parameters(route),
            "responses": {
                "200": {
                    "description": _ANSWER if not route.media else _FILE_ANSWER,
                    "content": _content(route),
                },
                **_TRANSPORT,
            },
        }
        if route.auth:
            op["security"] = [{"token": []}]
        if route.admin:
            op["description"] = _ADMIN_ONLY
        if route.body is not None:
            op["requestBody"] = {
                "content": {"application/json": {"schema": schema(route.body, components)}}
            }
        paths.setdefault(path, {})[route.method.lower()] = op
    return {
        "openapi": "3.1.0",
        "info": {"title": "esign — eSign REST API", "version": version},
        "paths": paths,
        "components": {
            "schemas": components,
            "securitySchemes": {
                "token": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "Authorization",
                    "description": "The raw token from GetToken (no Bearer prefix)",
                }
            },
        },
    }


_ADMIN_ONLY = (
    "Only for the client's administrative account: a token from its API key or of an admin"
    " user; any other user is refused (ErrorCodes: admin_only)."
)


def _who(route: Route) -> str:
    return "admin token" if route.admin else "token" if route.auth else "—"


def html_page(routes: list[Route]) -> str:
    """A self-contained reference page: no script or stylesheet from anywhere else."""
    rows = "\n".join(
        f"<tr><td>{r.method}</td><td><code>{html.escape(r.path.replace(':int}', '}'))}</code>"
        f"</td><td>{html.escape(r.summary)}</td><td>{_who(r)}</td></tr>"
        for r in routes
    )
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>esign API</title><style>body{{font-family:system-ui,sans-serif;margin:2rem}}
table{{border-collapse:collapse}}td,th{{border:1px solid #ccc;padding:.3rem .6rem;
text-align:left}}</style></head><body><h1>esign — eSign REST API</h1>
<p>The machine-readable description is <a href="/openapi.json">/openapi.json</a>
(OpenAPI 3.1). Every answer is a JSON envelope <code>{{Message, Details, ReturnValue,
ErrorCodes}}</code>; application errors answer HTTP 200 with <code>Message: "Error"</code>.</p>
<table><tr><th>Method</th><th>Path</th><th>Operation</th><th>Auth</th></tr>
{rows}</table></body></html>"""
