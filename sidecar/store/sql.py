"""Small helpers for the hand-written SQL of the hot paths (portable between SQLite and PostgreSQL)."""

from __future__ import annotations

from functools import lru_cache

from peewee import Database


@lru_cache(maxsize=256)
def _convert(statement: str, param: str) -> str:
    return statement if param == "?" else statement.replace("?", param)


def q(db: Database, statement: str) -> str:
    """Rewrite a statement written with ``?`` placeholders for ``db``'s parameter style."""
    return _convert(statement, db.param)


def placeholders(count: int) -> str:
    return ", ".join("?" * count)


def escape_like(text: str) -> str:
    """``text`` as a literal inside a ``LIKE … ESCAPE '\\'`` pattern."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
