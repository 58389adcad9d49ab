"""`bench/ab.py` runs two esign servers under interleaved load and reports their ratio
(decision 0034). A short run here keeps the tool working; its numbers are not checked."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench" / "ab.py"

pytestmark = pytest.mark.skipif(
    os.environ.get("ESIGN_TEST_DB") == "postgres",
    reason="the tool runs the embedded default only: once is enough",
)


def _run(tmp_path: Path, **extra: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "BENCH_PAIRS": "1",
        "BENCH_SLICE": "0.3",
        "BENCH_WARMUP": "0",
        "BENCH_CONNECTIONS": "2",
        "BENCH_DIR": str(tmp_path),
        **extra,
    }
    return subprocess.run(
        [sys.executable, str(BENCH)], env=env, capture_output=True, text=True, timeout=180
    )


def test_two_servers_measured_and_compared(tmp_path: Path) -> None:
    done = _run(tmp_path, AB_A_ENV="ESIGN_REQUEST_THREADS=1")
    assert done.returncode == 0, done.stderr
    assert "A: env ESIGN_REQUEST_THREADS=1; code this checkout" in done.stdout
    assert "A / B throughput:" in done.stdout, done.stdout
    rows = [line.split() for line in done.stdout.splitlines() if "CreateSession" in line]
    assert [row[0] for row in rows] == ["A", "B"]
    assert all(int(row[5]) > 0 and row[6] == "0" for row in rows), rows  # answers, no errors
    assert list(tmp_path.iterdir()) == []  # the data dirs are gone


def test_a_malformed_side_environment_is_named(tmp_path: Path) -> None:
    done = _run(tmp_path, AB_B_ENV="ESIGN_REQUEST_THREADS")
    assert done.returncode == 1
    assert "AB_B_ENV: 'ESIGN_REQUEST_THREADS' is not NAME=VALUE" in done.stderr
