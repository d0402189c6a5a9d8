"""Fixtures for ledger tests (the builders live in ledger_builders.py)."""

from __future__ import annotations

import pytest

from sidecar.ledger.keys import generate_private_key
from tests.sidecar.ledger.builders import Keys


@pytest.fixture(scope="session")
def keys() -> Keys:
    """The sidecar's signing key and an attacker's key, generated once per session."""
    return Keys(ours=generate_private_key(), other=generate_private_key())
