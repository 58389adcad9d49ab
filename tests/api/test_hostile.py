"""Hostile input on every endpoint of esign.api.routes.ROUTES (contract §1: "no input may cause
a 500"). The cases are generated from the route table and the codec specs, so a new route or a
new member is covered without editing this file.

For every request: HTTP status < 500; a JSON envelope whose Error answers carry `Details`
lines naming the problem; nothing of another client in the answer; and nothing written — every
table's rows (row count and content digest) and the blob directory are the same before and
after. The only exception is `auth_failures`: recording failed authentications is the
contract's rate limiting (§2), so that table is emptied before each request instead.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

import pytest
from sqlalchemy import delete, select, text
from starlette.testclient import TestClient

from esign.api.codec import Spec
from esign.api.router import Route
from esign.api.routes import ROUTES
from esign.app import Runtime, build_app, build_runtime
from esign.config import Settings
from esign.identity.crypto import ServerCipher
from esign.storage.tables import auth_failures, metadata
from tests.conftest import Api, FakeClock, make_api, pdf_document, signer

INVALID_TOKEN = {
    "Message": "Error",
    "Details": ["Error: Invalid token"],
    "ReturnValue": None,
    "ErrorCodes": ["invalid_token"],
}
TEN_MB = "x" * (10 * 1024 * 1024)
_PARAM = re.compile(r"\{(\w+)(?::(int))?\}")


# --- the world: two clients, each with sessions, signers, documents and users ---------------


@dataclass
class World:
    rt: Runtime
    http: TestClient
    clock: FakeClock
    api: Api
    other: Api
    own: dict[str, str]
    foreign: dict[str, str]
    expired_token: str
    forged_token: str
    secrets: list[str] = field(default_factory=list)  # of the other client; never to be shown


def _ids(api: Api, sid: str) -> dict[str, str]:
    session = api.get(f"/rest/v1/sessions/{sid}")["Sessions"][0]
    user = api.get("/rest/v1/users", params={"username": api.username})["Users"][0]
    return {
        "session": sid,
        "signer": session["Signers"][0]["SignerId"],
        "document": session["Documents"][0]["DocumentId"],
        "user": user["SystemUserId"],
        "username": api.username,
    }


def _template(api: Api, form_id: str) -> str:
    name = "Rival secret template" if form_id == "rival-form" else "Own template"
    document = {"FileName": f"{form_id}.pdf", "FileBytes": pdf_document()["FileBytes"]}
    body = {"template": {"FormId": form_id, "Name": name, "Document": document}}
    assert api.post("/rest/v1/templates", body)["Message"] == "Success"
    return form_id


def _token(http: TestClient, api_key: str) -> str:
    key = http.get(f"/rest/v1/encrypt/{api_key}/s4lt").json()["ReturnValue"]
    token: str = http.get("/rest/v1/gettoken/s4lt", headers={"Authorization": key}).json()[
        "ReturnValue"
    ]
    return token


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, database_url: str | None) -> Iterator[World]:
    settings = Settings.from_env(
        data_dir=tmp_path_factory.mktemp("hostile") / "data",
        database_url=database_url,
        webhook_allow_private=True,
        public_url="http://esign.test",
    )
    clock = FakeClock()
    rt = build_runtime(settings, clock=clock)
    if database_url:
        with rt.engine.begin() as conn:
            names = ", ".join(f'"{t.name}"' for t in metadata.sorted_tables)
            conn.execute(text(f"TRUNCATE {names} CASCADE"))
    api, other = make_api(rt), make_api(rt, "Rival")
    own_sid = api.create_session(signers=[signer("Buyer 1")])["SigningSessionId"]
    sent_sid = api.create_session(signers=[signer("Buyer 2")], TransactionId="TX-2")[
        "SigningSessionId"
    ]
    assert api.put(f"/rest/v1/sessions/{sent_sid}/start")["Message"] == "Success"
    rival = other.create_session(
        signers=[signer("Seller 1", email="rival.signer@rival.example", last="Rivalsson")],
        documents=[pdf_document("rival-contract.pdf")],
        Title="Rival secret title",
        TransactionId="TX-RIVAL",
    )["SigningSessionId"]
    own = {**_ids(api, own_sid), "sent_session": sent_sid, "form": _template(api, "own-form")}
    foreign = {**_ids(other, rival), "form": _template(other, "rival-form")}
    assert api.put("/rest/v1/anchoradjustments/Default", {"Adjustments": {}})["Message"] == (
        "Success"
    )
    # A token issued half an hour ago (expired), and one sealed by another server's key.
    clock.advance(minutes=-30)
    expired = _token(api.http, api.api_key)
    clock.advance(minutes=30)
    claims = {"c": api.client_id, "k": None, "u": own["user"], "e": 4_000_000_000}
    forged = ServerCipher(os.urandom(64)).seal_token(json.dumps(claims).encode())
    w = World(
        rt=rt,
        http=TestClient(build_app(rt), raise_server_exceptions=False),
        clock=clock,
        api=api,
        other=other,
        own=own,
        foreign=foreign,
        expired_token=expired,
        forged_token=forged,
        secrets=[
            foreign["session"],
            foreign["signer"],
            foreign["document"],
            foreign["user"],
            other.client_id,
            other.username,
            "Rival secret title",
            "rival.signer@rival.example",
            "Rivalsson",
            "rival-contract.pdf",
            "Rival secret template",
            "rival-form",
        ],
    )
    yield w
    rt.engine.dispose()


# --- state snapshots -------------------------------------------------------------------------


_SELECTS = [
    (table.name, select(table).order_by(*table.primary_key.columns))
    for table in metadata.sorted_tables
    if table is not auth_failures
]


def snapshot(w: World) -> dict[str, Any]:
    tables: dict[str, Any] = {}
    with w.rt.engine.connect() as conn:
        for name, query in _SELECTS:
            rows = conn.execute(query).all()
            tables[name] = (len(rows), hashlib.sha256(repr(rows).encode()).hexdigest()[:16])
    root = w.rt.settings.data_dir / "blobs"
    files = sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())
    return {"tables": tables, "blobs": files}


def changes(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    out = [
        f"{name}: {before['tables'][name]} -> {after['tables'][name]}"
        for name in before["tables"]
        if before["tables"][name] != after["tables"][name]
    ]
    if before["blobs"] != after["blobs"]:
        out.append(f"blobs: {len(before['blobs'])} -> {len(after['blobs'])} files")
    return out


# --- cases -----------------------------------------------------------------------------------


@dataclass
class Case:
    name: str
    url: str
    headers: dict[str, str]
    content: bytes | None = None
    content_type: str = "application/json"
    # "error": an Error envelope (HTTP 200) or a transport error (4xx);
    # "token": exactly the Invalid-token envelope;
    # "problem": Error, or Success with a Details line "Error: ..." (partial-success routes);
    # "any": may succeed (EncryptString encrypts any text), but never writes nor leaks.
    expect: str = "error"
    mentions: tuple[str, ...] = ()  # each must appear in Details…
    mentions_one_of: tuple[str, ...] = ()  # …and at least one of these
    statuses: tuple[int, ...] = (200,)


def params_of(route: Route) -> list[tuple[str, bool]]:
    return [(m[1], m[2] == "int") for m in _PARAM.finditer(route.path)]


def own_value(w: World, route: Route, name: str) -> str:
    if name == "id":
        return w.own["user"] if "/users/" in route.path else w.own["session"]
    values = {
        "signerId": w.own["signer"],
        "signingSessionId": w.own["session"],
        "documentId": w.own["document"],
        "userName": w.own["username"],
        "username": w.own["username"],
        "transactionId": "TX-1",
        "salt": "s4lt",
        "plainText": "hello",
        "pageSize": "10",
        "pageNum": "0",
        "pageNumber": "0",
        "formId": w.own["form"],
        "category": "Default",
    }
    return values[name]


def foreign_value(w: World, route: Route, name: str) -> str | None:
    if name == "id":
        return w.foreign["user"] if "/users/" in route.path else w.foreign["session"]
    return {
        "signerId": w.foreign["signer"],
        "signingSessionId": w.foreign["session"],
        "documentId": w.foreign["document"],
        "userName": w.foreign["username"],
        "username": w.foreign["username"],
        "formId": w.foreign["form"],
    }.get(name)


def url(route: Route, values: dict[str, str], query: str = "") -> str:
    """The route's path with `values` put in as they are (the caller encodes them)."""
    path = _PARAM.sub(lambda m: values[m[1]], route.path)
    return path + (f"?{query}" if query else "")


def own_url(w: World, route: Route, **overrides: str) -> str:
    values = {n: quote(own_value(w, route, n), safe="") for n, _ in params_of(route)}
    return url(route, {**values, **overrides})


ODD_TEXT = [
    "%00",
    "a%00b",
    "%FF",
    "caf%E9",
    quote("'; DROP TABLE sessions;--", safe=""),
    quote("☃ 😀", safe=""),
    "x" * 3000,
    "%20",
    "%25",
    "%2E%2E",
    "%2F",
    "%5C",
    quote('<script>alert("x")</script>', safe=""),
    "-1",
    "null",
    quote("00000000-0000-0000-0000-000000000000", safe=""),
]
# How "you may not see that" reads: not found, or (logging in) bad credentials.
NOT_VISIBLE = ("not found", "not a signer of that session", "invalid user account information")
ODD_INT = ["9" * 20, "9" * 5000, "2147483648"]
ODD_QUERY = ["%00", "x" * 3000, quote("'\"<>", safe=""), "-1", "9" * 30, "9" * 5000]

# Body members that name something of the client, by request body spec. Each route with a
# body must be listed: the test below fails for a new body route until it is.
FOREIGN_BODIES: dict[str, Any] = {
    "CreateSession": lambda o, f: [
        {"userName": f["username"], "session": {"SessionInfo": {"Title": "T"}}},
    ],
    "UpdateSession / AddSignersDocumentsToSession": lambda o, f: [
        {"userName": o["username"], "session": {"Id": f["session"], "Signers": [signer("X 1")]}},
        {"userName": o["username"], "session": {"SessionInfo": {"Id": f["session"]}}},
        {"userName": f["username"], "session": {"Id": o["session"], "Signers": [signer("X 2")]}},
    ],
    "CopySigningSession": lambda o, f: [
        {"userName": o["username"], "session": {"SigningSessionId": f["session"]}},
        {"userName": f["username"], "session": {"SigningSessionId": o["session"]}},
    ],
    "CreateUser": lambda o, f: [],  # nothing in it refers to an existing object
    "UpdateUser": lambda o, f: [
        {"user": {"SystemUserId": f["user"], "LastName": "Pwned"}},
        {"user": {"Username": f["username"], "LastName": "Pwned"}},
    ],
    "UpdateUserByUsername": lambda o, f: [
        {"oldUsername": f["username"], "user": {"LastName": "Pwned"}},
    ],
    "ProvisionUser": lambda o, f: [{"systemUserId": f["user"], "userStatus": 0}],
    "SendSignerEmailInvites": lambda o, f: [
        {"signingSessionId": f["session"], "signerList": [{"SignerId": f["signer"]}]},
        {"signingSessionId": o["sent_session"], "signerList": [{"SignerId": f["signer"]}]},
    ],
    "UpdateSigners": lambda o, f: [
        {"userName": o["username"], "signingSessionId": f["session"], "signers": []},
        {
            "userName": o["username"],
            "signingSessionId": o["session"],
            "signers": [{"SignerId": f["signer"], "LastName": "Pwned"}],
        },
        {"userName": f["username"], "signingSessionId": o["session"], "signers": []},
    ],
    "UpdateTransactionId": lambda o, f: [
        {"userName": o["username"], "signingSessionId": f["session"], "newTransactionId": "X"},
        {"userName": f["username"], "signingSessionId": o["session"], "newTransactionId": "X"},
    ],
    "EditSession (pause)": lambda o, f: [{"userName": f["username"]}],
    "CreateTemplate": lambda o, f: [],  # a FormId is the caller's own name within its client
    "PutAnchorAdjustmentCategory": lambda o, f: [],  # likewise a category name
}


def _wrong_values(spec: Spec) -> list[Any]:
    return {
        "str": [{"a": 1}],
        "id": [{"a": 1}, ["x"]],
        "int": ["abc"],
        "number": ["abc", True],
        "bool": ["maybe"],
        "bytes": [True, [1, 256]],
        "date": ["not a date"],
        "enum": ["NoSuchValue", 99],
        "list": [{}],
        "map": [5],
        "props": [5],
        "record": [5, ["x"]],
        "obj": [5],
        "any": [],
    }[spec.kind]


def member_paths(spec: Spec, prefix: str = "") -> Iterator[tuple[str, list[Any], Spec]]:
    """Every member of a body spec: (dotted path, the path as keys and indexes, its spec)."""
    for name, member in spec.members.items():
        dotted = f"{prefix}.{name}" if prefix else name
        yield dotted, [name], member
        if member.kind == "obj":
            for sub, keys, s in member_paths(member, dotted):
                yield sub, [name, *keys], s
        if member.kind == "list" and member.item is not None and member.item.kind == "obj":
            for sub, keys, s in member_paths(member.item, f"{dotted}[0]"):
                yield sub, [name, 0, *keys], s
        if member.kind == "list" and member.item is not None and member.item.kind == "enum":
            yield f"{dotted}[0]", [name, 0], member.item


def nest(keys: list[Any], value: Any) -> Any:
    if not keys:
        return value
    head, rest = keys[0], keys[1:]
    inner = nest(rest, value)
    return [inner] if head == 0 else {head: inner}


def dumps(value: Any) -> bytes:
    return json.dumps(value).encode()


def cases_for(w: World, route: Route) -> Iterator[Case]:
    auth = {"Authorization": w.api.token}
    params = params_of(route)
    may_succeed = route.summary == "EncryptString"

    # Bad tokens: everything else in the request is valid.
    if route.auth:
        for label, token in [
            ("expired", w.expired_token),
            ("forged", w.forged_token),
            ("garbage", "garbage"),
            ("empty", ""),
            ("other-scheme", "Bearer " + w.api.token),
        ]:
            yield Case(
                f"token {label}",
                own_url(w, route),
                {"Authorization": token},
                b"{}" if route.body else None,
                expect="token",
            )

        # The token is checked first: with a bad one, what else is wrong stays unsaid.
        worse = {n: "9" * 12 if is_int else "a%00b" for n, is_int in params}
        yield Case(
            "token garbage, the rest wrong too",
            own_url(w, route, **worse),
            {"Authorization": "garbage"},
            b"[1, 2]" if route.body else None,
            expect="token",
        )

    # Odd path parameters.
    text_params = [n for n, is_int in params if not is_int]
    int_params = [n for n, is_int in params if is_int]
    for odd in ODD_TEXT if text_params else []:
        yield Case(
            f"path {odd[:30]}",
            own_url(w, route, **dict.fromkeys(text_params, odd)),
            auth,
            expect="any" if may_succeed else "error",
            statuses=(200, 404, 405),
        )
    for odd in ODD_INT if int_params else []:
        yield Case(
            f"int path {odd[:30]}",
            own_url(w, route, **dict.fromkeys(int_params, odd)),
            auth,
            statuses=(200, 404),
        )

    # Another client's objects in the path.
    for name, _ in params:
        theirs = foreign_value(w, route, name)
        if theirs is not None:
            yield Case(
                f"foreign {name}",
                own_url(w, route, **{name: quote(theirs, safe="")}),
                auth,
                mentions_one_of=NOT_VISIBLE,
            )

    # Odd query values: on reads with the client's own objects; on writes with another
    # client's objects, so that only a crash or a leak could make the request "work".
    for name in route.query:
        for odd in ODD_QUERY:
            if route.method == "GET":
                target = own_url(w, route)
                expect = "any"
            else:
                overrides = {
                    n: quote(v, safe="")
                    for n, _ in params
                    if (v := foreign_value(w, route, n)) is not None
                }
                target = own_url(w, route, **overrides)
                expect = "error"
            yield Case(f"query {name}={odd[:20]}", f"{target}?{name}={odd}", auth, expect=expect)

    if route.body is None:
        # A body where none is expected is ignored, but must still parse.
        yield Case("junk body", own_url(w, route), auth, b"{oops", statuses=(400,))
        return

    # Bodies that are not JSON objects.
    yield Case("malformed json", own_url(w, route), auth, b'{"a": ', statuses=(400,))
    yield Case("bad utf-8", own_url(w, route), auth, b'{"a": "\xff"}', statuses=(400,))
    for label, raw in [("array", b"[]"), ("string", b'"x"'), ("number", b"5"), ("null", b"null")]:
        yield Case(f"body {label}", own_url(w, route), auth, raw, mentions=("JSON object",))
    yield Case(
        "multipart",
        own_url(w, route),
        auth,
        b"--x\r\n\r\n--x--",
        "multipart/form-data; b=x",
        statuses=(415,),
    )

    # Every member, at every depth, with a value of the wrong type.
    for dotted, keys, spec in member_paths(route.body):
        for wrong in _wrong_values(spec):
            yield Case(
                f"{dotted}={json.dumps(wrong)[:20]}",
                own_url(w, route),
                auth,
                dumps(nest(keys, wrong)),
                mentions=(dotted,),
            )

    # A 10 MB string in the first text member, and a NUL character.
    first = next(n for n, s in route.body.members.items() if s.kind == "str")
    yield Case(
        f"10MB {first}", own_url(w, route), auth, dumps({first: TEN_MB}), mentions=(first, "longer")
    )
    yield Case(
        f"NUL in {first}",
        own_url(w, route),
        auth,
        dumps({first: "a\x00b"}),
        mentions=(first, "NUL"),
    )

    deepest = [(d, k) for d, k, spec in member_paths(route.body) if spec.kind == "str"][-1]
    yield Case(
        f"NUL in {deepest[0]}",
        own_url(w, route),
        auth,
        dumps(nest(deepest[1], "a\x00b")),
        mentions=(deepest[0], "NUL"),
    )
    deep = b'{"a":' * 5000 + b"1" + b"}" * 5000
    yield Case("nesting 5000 deep", own_url(w, route), auth, deep, statuses=(200, 400))
    huge = b'{"%s": 1%s}' % (first.encode(), b"0" * 400)
    yield Case("400-digit number", own_url(w, route), auth, huge, statuses=(200, 400))

    # Nothing given: on another client's objects where the path names one.
    overrides = {
        n: quote(v, safe="") for n, _ in params if (v := foreign_value(w, route, n)) is not None
    }
    yield Case("empty object", own_url(w, route, **overrides), auth, b"{}")

    # Another client's objects inside the body.
    for n, body in enumerate(FOREIGN_BODIES[route.summary](w.own, w.foreign)):
        yield Case(
            f"foreign body {n}",
            own_url(w, route),
            auth,
            dumps(body),
            expect="problem",
            mentions_one_of=NOT_VISIBLE,
        )


# --- checking one case -----------------------------------------------------------------------


def _details_ok(body: dict[str, Any], case: Case) -> str | None:
    details = body.get("Details")
    if not isinstance(details, list) or not details or not all(isinstance(d, str) for d in details):
        return f"Details missing: {body}"
    joined = " ".join(details).lower()
    missing = [m for m in case.mentions if m.lower() not in joined]
    if case.mentions_one_of and not any(m.lower() in joined for m in case.mentions_one_of):
        missing.append(" or ".join(case.mentions_one_of))
    if missing:
        return f"Details {details} do not mention {missing}"
    return None


def check(w: World, route: Route, case: Case, before: dict[str, Any]) -> list[str]:
    """Send the case; `before` is the state before it, and is updated to the state after."""
    with w.rt.engine.begin() as conn:
        conn.execute(delete(auth_failures))
    headers = dict(case.headers)
    if case.content is not None:
        headers["Content-Type"] = case.content_type
    response = w.http.request(route.method, case.url, headers=headers, content=case.content)
    after = snapshot(w)
    where = f"{route.method} {route.path} [{case.name}]"
    problems = [f"{where}: wrote {c}" for c in changes(before, after)]
    before.clear()
    before.update(after)
    if response.status_code >= 500:
        return [*problems, f"{where}: HTTP {response.status_code} {response.text[:300]}"]
    sent = unquote(case.url) + (case.content or b"")[:2000].decode(errors="replace")
    leaked = [s for s in w.secrets if s in response.text and s not in sent]
    if leaked:
        problems.append(f"{where}: leaks {leaked}")
    if not response.headers.get("content-type", "").startswith("application/json"):
        if case.expect != "any":
            problems.append(f"{where}: answered {response.headers.get('content-type')}")
        return problems
    body = response.json()
    if not isinstance(body, dict) or not {"Message", "Details", "ReturnValue"} <= body.keys():
        return [*problems, f"{where}: not an envelope: {response.text[:200]}"]
    if case.expect == "token":
        if (response.status_code, body) != (200, INVALID_TOKEN):
            problems.append(f"{where}: expected Invalid token, got {response.status_code} {body}")
        return problems
    if response.status_code == 429:
        return problems  # rate limited: an acceptable answer to anything
    if response.status_code not in case.statuses:
        problems.append(f"{where}: HTTP {response.status_code} {response.text[:200]}")
    if body["Message"] == "Error":
        # "False" from a boolean route that refuses (test_boolean_answers.py); transport
        # errors (HTTP 4xx) carry none.
        refused = "False" if route.boolean and response.status_code == 200 else None
        if body["ReturnValue"] != refused or not body.get("ErrorCodes"):
            problems.append(f"{where}: malformed error envelope {body}")
        problem = _details_ok(body, case) if response.status_code == 200 else None
        if problem:
            problems.append(f"{where}: {problem}")
    elif case.expect == "error":
        problems.append(f"{where}: answered Success: {response.text[:200]}")
    elif case.expect == "problem":
        lines = [d for d in body["Details"] if d.startswith("Error:")]
        if not lines or _details_ok({"Details": lines}, case):
            problems.append(f"{where}: Success without a problem line: {body['Details']}")
    return problems


def route_id(route: Route) -> str:
    return f"{route.method} {route.path}"


@pytest.mark.parametrize("route", ROUTES, ids=route_id)
def test_hostile_input(world: World, route: Route) -> None:
    problems: list[str] = []
    count = 0
    state = snapshot(world)
    for case in cases_for(world, route):
        count += 1
        problems += check(world, route, case, state)
    assert count >= 1
    assert not problems, f"{len(problems)} of {count} cases failed:\n" + "\n".join(problems[:60])


def test_every_body_route_has_its_foreign_cases() -> None:
    with_body = {r.summary for r in ROUTES if r.body is not None}
    assert with_body <= FOREIGN_BODIES.keys(), with_body - FOREIGN_BODIES.keys()


def test_every_path_parameter_has_values(world: World) -> None:
    for route in ROUTES:
        for name, _ in params_of(route):
            assert own_value(world, route, name), (route.path, name)


def test_the_world_is_what_the_cases_assume(world: World) -> None:
    # Guards against a vacuous pass: the own objects exist and the foreign ones are real.
    api, other = world.api, world.other
    assert api.get(f"/rest/v1/sessions/{world.own['session']}")["Message"] == "Success"
    sent = api.get(f"/rest/v1/sessions/{world.own['sent_session']}")["Sessions"][0]
    assert sent["SessionInfo"]["StatusCode"] == 2
    theirs = other.get(f"/rest/v1/sessions/{world.foreign['session']}")["Sessions"][0]
    assert theirs["Signers"][0]["SignerId"] == world.foreign["signer"]
    assert other.get(f"/rest/v1/users/{world.foreign['user']}")["Message"] == "Success"
    assert world.http.get(
        "/rest/v1/roles", headers={"Authorization": world.expired_token}
    ).json() == (INVALID_TOKEN)
    world.clock.advance(minutes=-25)
    try:  # the expired token was good when it was issued
        roles = world.http.get("/rest/v1/roles", headers={"Authorization": world.expired_token})
        assert roles.json()["Message"] == "Success"
    finally:
        world.clock.advance(minutes=25)


def test_the_snapshot_sees_writes(world: World) -> None:
    # The check above is only as good as the snapshot: it must notice a status change (no
    # row count moves), a new row, and a new blob.
    api = world.api
    before = snapshot(world)
    sid = api.create_session(signers=[signer("Buyer 3")], Title="Probe")["SigningSessionId"]
    made = snapshot(world)
    assert any(c.startswith("sessions:") for c in changes(before, made))
    api.put(f"/rest/v1/sessions/EditSession/{sid}", {"userName": api.username})
    paused = snapshot(world)
    assert [c.split(":")[0] for c in changes(made, paused)] != []
    assert paused["tables"]["sessions"][0] == made["tables"]["sessions"][0]
    blob = Path(world.rt.settings.data_dir / "blobs")
    world.rt.deps.blobs.put(b"probe bytes " + os.urandom(8))
    assert changes(paused, snapshot(world)) == [
        f"blobs: {len(paused['blobs'])} -> {len(paused['blobs']) + 1} files"
    ]
    assert blob.is_dir()
    api.delete(f"/rest/v1/sessions/{sid}")
