"""Two esign servers, A and B, under the same CreateSession load in interleaved slices.

For deciding whether a change makes esign faster. Comparing two runs of `bench/api.py`
cannot tell: this machine's speed drifts by a quarter within minutes (decisions 0017, 0030),
and the bare baseline in those runs drifts with it in ways of its own. Here both sides are
esign, on data dirs of their own, measured ABBA in slices of a second or two by the same
load generator as `bench/api.py`. Two identical sides measure within about 3 % of each other
over 16 pairs: a smaller difference needs several runs to show.

A and B differ by what the environment gives each one:

* AB_A_ENV, AB_B_ENV: `NAME=VALUE,NAME=VALUE` set for that server only (a setting such as
  ESIGN_REQUEST_THREADS=4, or a toggle an experiment reads);
* AB_A_SRC, AB_B_SRC: a source directory put first on that server's PYTHONPATH, e.g. the
  `src` of a `git worktree` holding the change (the other side runs this checkout's code).

The other variables of `bench/api.py` apply (BENCH_PAIRS, BENCH_SLICE, BENCH_WARMUP,
BENCH_CONNECTIONS, BENCH_DIR). Printed: each pair's A/B throughput ratio, both sides'
requests/s, p50, p99 and server CPU per request (its own process: work moved to a child
process is not counted), the ratio of the summed throughputs with the median and middle
half of the pairs.

Run: AB_A_ENV=ESIGN_REQUEST_THREADS=4 .venv/bin/python bench/ab.py
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

from api import (
    HOST,
    PAIRS,
    Comparison,
    Documents,
    Server,
    SetupError,
    Target,
    _each,
    check_create,
    compare,
    create_client,
    esign_command,
    free_port,
    get_token,
    make_pdf,
    post,
    print_table,
    run_async,
    server_env,
    session_body,
    spread,
)


def side_env(data_dir: Path, side: str) -> dict[str, str]:
    env = server_env(data_dir)
    for item in filter(None, os.environ.get(f"AB_{side}_ENV", "").split(",")):
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise SetupError(f"AB_{side}_ENV: {item!r} is not NAME=VALUE")
        env[name.strip()] = value
    source = os.environ.get(f"AB_{side}_SRC", "")
    if source:
        if not Path(source, "esign").is_dir():
            raise SetupError(f"AB_{side}_SRC: {source} holds no esign package")
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [source, env.get("PYTHONPATH", "")]))
    return env


def start(root: Path, side: str) -> tuple[Server, dict[str, Any]]:
    data_dir = root / side
    env = side_env(data_dir, side)
    client = create_client(data_dir)  # (migrations of this checkout: both trees must agree)
    port = free_port()
    cmd = [*esign_command(), "serve", "--no-worker", "--host", HOST, "--port", str(port)]
    server = Server(side, [*cmd, "--data-dir", str(data_dir)], env, port, root / f"{side}.log")
    return server, client


def target(side: str, server: Server, client: dict[str, Any], docs: Documents) -> Target:
    auth = {"Authorization": get_token(server.port, client["ApiKey"])}
    admin = client["AdminUsername"]
    return Target(
        server,
        f"{side} CreateSession",
        lambda n: post(server.port, "/rest/v1/sessions", auth, session_body(admin, docs.next())),
        check_create,
    )


def report(run: Comparison) -> None:
    print(f"A / B, each pair: {_each(run.ratios)}")
    print_table([run.esign, run.baseline])
    print(f"\nA / B throughput: {run.ratio:.3f}  ({spread(run.ratios)})")
    for res in (run.esign, run.baseline):
        for sample in res.error_samples:
            print(f"  error sample, {res.name}: {sample}")


def main() -> int:
    for side in "AB":
        described = os.environ.get(f"AB_{side}_ENV", "") or "(nothing)"
        print(
            f"{side}: env {described}; code {os.environ.get(f'AB_{side}_SRC') or 'this checkout'}"
        )
    root = Path(tempfile.mkdtemp(prefix="esign-ab-", dir=os.environ.get("BENCH_DIR")))
    servers: list[Server] = []
    try:
        started = []
        for side in "AB":  # one at a time: a failed start still stops the other
            started.append(start(root, side))
            servers.append(started[-1][0])
        for server in servers:
            server.wait_ready("/rest/v1/health")
        docs = Documents(make_pdf())
        a, b = (target(side, *pair, docs) for side, pair in zip("AB", started, strict=True))
        run = run_async(compare(a, b, PAIRS))
    except SetupError as exc:
        print(f"esign ab: setup failed: {exc}", file=sys.stderr)
        return 1
    finally:
        for server in servers:
            server.stop()
        shutil.rmtree(root, ignore_errors=True)
    report(run)
    return 0


if __name__ == "__main__":
    sys.exit(main())
