"""Token buckets shared by several sidecars in PostgreSQL: one statement takes up to ``want`` tokens."""

from __future__ import annotations

from peewee import Database

_TAKE = """
INSERT INTO rate_buckets AS b (kind, caller, tokens, last_grant, updated_at)
VALUES (%(kind)s, %(caller)s, %(burst)s - LEAST(%(want)s, %(burst)s), LEAST(%(want)s, %(burst)s), %(now)s)
ON CONFLICT (kind, caller) DO UPDATE SET
    last_grant = LEAST(%(want)s, FLOOR(LEAST(%(burst)s,
        b.tokens + GREATEST(0, %(now)s - b.updated_at) * %(rate)s / 1000.0))),
    tokens = LEAST(%(burst)s, b.tokens + GREATEST(0, %(now)s - b.updated_at) * %(rate)s / 1000.0)
        - LEAST(%(want)s, FLOOR(LEAST(%(burst)s, b.tokens + GREATEST(0, %(now)s - b.updated_at) * %(rate)s / 1000.0))),
    updated_at = GREATEST(b.updated_at, %(now)s)
RETURNING last_grant, tokens
"""


def take(db: Database, kind: str, caller: str, *, rate: float, burst: float, want: int, now_ms: int) -> tuple[int, float]:
    """Take up to ``want`` whole tokens from the shared bucket (refilled at ``rate``/s up to ``burst``).

    Returns:
        ``(tokens granted, tokens left)``; granted is 0 when the bucket holds less than one.
    """
    row = db.execute_sql(_TAKE, {"kind": kind, "caller": caller[:200], "rate": float(rate), "burst": float(burst),
                                 "want": int(want), "now": int(now_ms)}).fetchone()
    return int(row[0]), float(row[1])
