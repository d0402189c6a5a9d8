"""Signing keys: PEM round trip, base64 public key, key id."""

from __future__ import annotations

import base64
import hashlib

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from sidecar.ledger.keys import (
    decode_b64,
    encode_b64,
    generate_private_key,
    key_id,
    private_key_from_pem,
    private_key_to_pem,
    public_key_b64,
    public_key_from_b64,
)


def test_pem_round_trip_keeps_the_key() -> None:
    key = generate_private_key()

    pem = private_key_to_pem(key)
    loaded = private_key_from_pem(pem)

    assert pem.startswith(b"-----BEGIN PRIVATE KEY-----\n")
    assert public_key_b64(loaded) == public_key_b64(key)
    assert loaded.sign(b"m") == key.sign(b"m")  # Ed25519 is deterministic


def test_public_key_is_base64_of_32_raw_bytes_and_loads_back() -> None:
    key = generate_private_key()
    text = public_key_b64(key)

    raw = base64.b64decode(text)
    assert len(text) == 44 and len(raw) == 32
    assert public_key_b64(public_key_from_b64(text)) == text
    assert public_key_b64(key.public_key()) == text


def test_key_id_is_the_first_16_hex_of_sha256_of_the_raw_key() -> None:
    text = public_key_b64(generate_private_key())

    assert key_id(text) == hashlib.sha256(base64.b64decode(text)).hexdigest()[:16]


def test_another_key_type_is_refused() -> None:
    pem = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    with pytest.raises(ValueError, match="must be Ed25519, not"):
        private_key_from_pem(pem)


def test_an_encrypted_key_is_refused() -> None:
    pem = generate_private_key().private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"secret"),
    )
    with pytest.raises(ValueError, match="cannot load ledger signing key"):
        private_key_from_pem(pem)


def test_garbage_pem_is_refused() -> None:
    with pytest.raises(ValueError):
        private_key_from_pem(b"not a key")


@pytest.mark.parametrize("text", ["", "AAAA", "not base64!", base64.b64encode(b"x" * 31).decode()])
def test_bad_public_keys_are_refused(text: str) -> None:
    with pytest.raises(ValueError):
        public_key_from_b64(text)
    with pytest.raises(ValueError):
        key_id(text)


def test_base64_has_one_accepted_spelling() -> None:
    assert decode_b64(encode_b64(b"\x00\x01")) == b"\x00\x01"
    assert encode_b64(b"\x00\x01") == "AAE="
    with pytest.raises(ValueError, match="not canonical base64"):
        decode_b64("AAF=")  # same bytes, unused bits set
    with pytest.raises(ValueError, match="not valid base64"):
        decode_b64("AAE")
