"""The ledger signing key in the data dir, and the public keys that ``agentaudit verify`` trusts.

``<data dir>/secrets/ledger.key``: the Ed25519 private key (PKCS#8 PEM, mode 0600), created on first start.
``<data dir>/secrets/ledger-public-keys``: every public key this data dir has ever signed with, one per line
(``<base64> <key id> <first used>``), appended when a key is first used and never rewritten. To rotate,
move ``ledger.key`` away and restart: a new key is made, and the old public key stays trusted here, so
checkpoints signed before the rotation still verify.

The trusted keys live in files, not in the database, on purpose: whoever can write to the database must
not be able to make their own key trusted.
"""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from sidecar.ledger import keys
from sidecar.ledger.checkpoint import format_timestamp
from sidecar.services.secrets import load_or_create

KEY_FILE = "ledger.key"
PUBLIC_KEYS_FILE = "ledger-public-keys"


def key_path(data_dir: Path) -> Path:
    return data_dir / "secrets" / KEY_FILE


def public_keys_path(data_dir: Path) -> Path:
    return data_dir / "secrets" / PUBLIC_KEYS_FILE


def load_or_create_signing_key(data_dir: Path, *, now: datetime) -> Ed25519PrivateKey:
    """Return the data dir's ledger signing key, creating it (mode 0600) on first start, and make sure its
    public half is listed among the trusted keys.

    Raises:
        ValueError: the key file exists but does not hold an Ed25519 private key.
    """
    path = key_path(data_dir)
    fresh = None if path.exists() else keys.private_key_to_pem(keys.generate_private_key())
    private_key = keys.private_key_from_pem(load_or_create(path, fresh))
    remember_public_key(data_dir, keys.public_key_b64(private_key), now=now)
    return private_key


def remember_public_key(data_dir: Path, public_key: str, *, now: datetime) -> None:
    """Append ``public_key`` to the trusted-keys file unless it is there already."""
    path = public_keys_path(data_dir)
    if public_key in _listed(path):
        return
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    line = f"{public_key} {keys.key_id(public_key)} {format_timestamp(now)}\n"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        os.write(fd, line.encode("ascii"))
        os.fsync(fd)
    finally:
        os.close(fd)


def trusted_public_keys(data_dir: Path) -> list[str]:
    """The public keys listed in the data dir, plus the current key's own (base64)."""
    found = list(_listed(public_keys_path(data_dir)))
    path = key_path(data_dir)
    if path.exists():
        try:
            current = keys.public_key_b64(keys.private_key_from_pem(path.read_bytes()))
        except (ValueError, PermissionError):
            current = None
        if current is not None and current not in found:
            found.append(current)
    return found


def _listed(path: Path) -> list[str]:
    if not path.exists():
        return []
    listed = []
    for line in path.read_text("ascii").splitlines():
        fields = line.split()
        if fields and not fields[0].startswith("#"):
            listed.append(fields[0])
    return listed
