"""Settings from the environment: a value that cannot be used is refused with its name, and
the `esign` command says so in one line (no traceback)."""

from __future__ import annotations

from pathlib import Path

import pytest

from esign import cli
from esign.config import Settings, SettingsError


def test_defaults_and_values(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("ESIGN_QUEUE_NAME", "ESIGN_MAX_PAGES"):
        monkeypatch.delenv(name, raising=False)
    assert Settings.from_env(data_dir=tmp_path).queue_name == "esign"
    assert Settings.from_env(data_dir=tmp_path).max_pages == 500
    monkeypatch.setenv("ESIGN_QUEUE_NAME", "office2_prod")
    monkeypatch.setenv("ESIGN_MAX_PAGES", " 40 ")
    settings = Settings.from_env(data_dir=tmp_path)
    assert (settings.queue_name, settings.max_pages) == ("office2_prod", 40)


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("ESIGN_QUEUE_NAME", "two words", "ESIGN_QUEUE_NAME must be 1 to 64 letters"),
        ("ESIGN_QUEUE_NAME", "office-2", "ESIGN_QUEUE_NAME must be 1 to 64 letters"),
        ("ESIGN_QUEUE_NAME", "x" * 65, "ESIGN_QUEUE_NAME must be 1 to 64 letters"),
        ("ESIGN_MAX_PAGES", "many", "ESIGN_MAX_PAGES must be a whole number, not 'many'"),
        ("ESIGN_MAX_BODY_MB", "-1", "ESIGN_MAX_BODY_MB must be a whole number"),
        ("ESIGN_REQUEST_THREADS", "2.5", "ESIGN_REQUEST_THREADS must be a whole number"),
        ("ESIGN_BLOB_GRACE_SECONDS", "ten", "ESIGN_BLOB_GRACE_SECONDS must be a whole number"),
    ],
)
def test_an_unusable_value_is_named(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    name: str,
    value: str,
    message: str,
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError, match=message):
        Settings.from_env(data_dir=tmp_path)
    assert cli.main(["migrate", "--data-dir", str(tmp_path / "data")]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"esign: {message}") and "Traceback" not in err
    assert not (tmp_path / "data" / "esign.db").exists()  # nothing was set up
