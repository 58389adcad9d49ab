"""The `esign` command's options: each also read from an ESIGN_* variable, and the types that
name what a value must be."""

from __future__ import annotations

import argparse
import os
from typing import Any

from esign.config import SettingsError, flag

# Where an option's variable is not ESIGN_ and its name (kept from earlier versions).
_VARIABLES = {"threads": "ESIGN_WORKER_THREADS", "password": "ESIGN_USER_PASSWORD"}


def read_environment(parser: argparse.ArgumentParser) -> None:
    """Every option also reads ESIGN_<OPTION> (ESIGN_ADMIN_EMAIL for --admin-email), which the
    command line overrides. A value that cannot be used stops the command, naming it."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in dict.fromkeys(action.choices.values()):
                read_environment(child)
            continue
        if not action.option_strings or action.dest == "help":
            continue
        name = _VARIABLES.get(action.dest, "ESIGN_" + action.dest.upper())
        if name not in (action.help or ""):
            action.help = f"{action.help or ''} ({name})".lstrip()
        if name not in os.environ:
            continue
        action.default = _environment_value(action, name, os.environ[name])
        action.required = False


def _environment_value(action: argparse.Action, name: str, text: str) -> Any:
    if isinstance(action, argparse._StoreTrueAction):
        return flag(name, text)
    if action.type is None:
        return text
    try:
        return action.type(text)  # type: ignore[operator]
    except (ValueError, TypeError, argparse.ArgumentTypeError):
        kind = _KINDS.get(action.type, "a valid value")
        raise SettingsError(f"{name} must be {kind}, not {text[:40]!r}") from None


def port_number(text: str) -> int:
    return _whole(text, 1, 65535, "a port number (1 to 65535)")


def thread_count(text: str) -> int:
    return _whole(text, 1, 10_000, "a whole number from 1 to 10000")


def _whole(text: str, low: int, high: int, kind: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be {kind}") from None
    if not low <= value <= high:
        raise argparse.ArgumentTypeError(f"must be {kind}")
    return value


_KINDS: dict[Any, str] = {
    int: "a whole number",
    float: "a number",
    port_number: "a port number (1 to 65535)",
    thread_count: "a whole number from 1 to 10000",
}
