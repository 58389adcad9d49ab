"""The installation's own facts, kept in the database that every process shares."""

from __future__ import annotations

from sqlalchemy import Engine, insert, select
from sqlalchemy.exc import IntegrityError

from esign.storage import tables as t
from esign.storage.database import WRITE_OPTION

_KEY_CHECK = "key_check"
_state = t.server_state.c


def key_matches(engine: Engine, check: str) -> bool:
    """Whether `check` (a digest made with this process's secret key) is the one recorded;
    the first process to ask records its own."""
    recorded = _read(engine)
    if recorded is None:
        try:
            writer = engine.connect().execution_options(**{WRITE_OPTION: True})
            with writer as conn, conn.begin():
                conn.execute(insert(t.server_state).values(name=_KEY_CHECK, value=check))
            return True
        except IntegrityError:  # another process recorded its own meanwhile
            recorded = _read(engine)
    return recorded == check


def _read(engine: Engine) -> str | None:
    with engine.connect() as conn:
        value = conn.execute(select(_state.value).where(_state.name == _KEY_CHECK)).scalar()
    return None if value is None else str(value)
