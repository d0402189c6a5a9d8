"""Ed25519 signing keys for ledger checkpoints, as bytes in and bytes out (the caller owns the files).

The private key travels as unencrypted PKCS#8 PEM (the sidecar stores it mode 0600 in its data dir).
The public key travels as standard base64 of its raw 32 bytes, and is named by a short key id: the
first 16 hex digits of the SHA-256 of those raw bytes.
"""

from __future__ import annotations

import base64
import binascii
import hashlib

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

__all__ = [
    "decode_b64",
    "encode_b64",
    "generate_private_key",
    "key_id",
    "private_key_from_pem",
    "private_key_to_pem",
    "public_key_b64",
    "public_key_from_b64",
]

_RAW_PUBLIC_KEY_LEN = 32


def generate_private_key() -> Ed25519PrivateKey:
    """Return a fresh Ed25519 private key.

    Returns:
        A new key from the operating system's random source.
    """
    return Ed25519PrivateKey.generate()


def private_key_to_pem(private_key: Ed25519PrivateKey) -> bytes:
    """Serialise a private key as unencrypted PKCS#8 PEM.

    Args:
        private_key: the key to serialise.

    Returns:
        PEM bytes (``-----BEGIN PRIVATE KEY-----`` ...), to be written with mode 0600 by the caller.
    """
    return private_key.private_bytes(
        encoding=serialization.Encoding.PEM,
        format=serialization.PrivateFormat.PKCS8,
        encryption_algorithm=serialization.NoEncryption(),
    )


def private_key_from_pem(data: bytes) -> Ed25519PrivateKey:
    """Load a private key written by :func:`private_key_to_pem`.

    Args:
        data: PEM bytes of an unencrypted PKCS#8 Ed25519 private key.

    Returns:
        The private key.

    Raises:
        ValueError: the bytes are not PEM, are encrypted, or hold a key of another type.
    """
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except TypeError as exc:  # encrypted PEM without a password
        raise ValueError(f"cannot load ledger signing key: {exc}") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError(f"ledger signing key must be Ed25519, not {type(key).__name__}")
    return key


def public_key_b64(key: Ed25519PrivateKey | Ed25519PublicKey) -> str:
    """Return the public half of a key as standard base64 of its raw 32 bytes.

    Args:
        key: a private key (its public half is used) or a public key.

    Returns:
        44 characters of base64, e.g. ``"11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo="``.
    """
    public = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    raw = public.public_bytes(encoding=serialization.Encoding.Raw, format=serialization.PublicFormat.Raw)
    return base64.b64encode(raw).decode("ascii")


def public_key_from_b64(text: str) -> Ed25519PublicKey:
    """Load a public key from the base64 form of :func:`public_key_b64`.

    Args:
        text: canonical standard base64 of 32 raw bytes.

    Returns:
        The public key.

    Raises:
        ValueError: not canonical base64, or not 32 bytes.
    """
    raw = decode_b64(text)
    if len(raw) != _RAW_PUBLIC_KEY_LEN:
        raise ValueError(f"an Ed25519 public key has {_RAW_PUBLIC_KEY_LEN} bytes, not {len(raw)}")
    return Ed25519PublicKey.from_public_bytes(raw)


def key_id(public_key: str) -> str:
    """Return the short id of a public key: the first 16 hex digits of SHA-256 of its raw bytes.

    Args:
        public_key: the key in the base64 form of :func:`public_key_b64`.

    Returns:
        16 lowercase hex digits.

    Raises:
        ValueError: ``public_key`` is not canonical base64 of 32 bytes.
    """
    raw = decode_b64(public_key)
    if len(raw) != _RAW_PUBLIC_KEY_LEN:
        raise ValueError(f"an Ed25519 public key has {_RAW_PUBLIC_KEY_LEN} bytes, not {len(raw)}")
    return hashlib.sha256(raw).hexdigest()[:16]


def decode_b64(text: str) -> bytes:
    """Decode standard base64, accepting only its one canonical spelling.

    Base64 has several spellings of the same bytes (unused low bits of the last character), so a
    lenient decoder would let an altered signature or key string still verify.

    Args:
        text: standard base64 with padding.

    Returns:
        The decoded bytes.

    Raises:
        ValueError: not a string, not base64, or not the canonical encoding of its bytes.
    """
    if not isinstance(text, str):
        raise ValueError(f"expected base64 text, got {type(text).__name__}")
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("not valid base64") from None
    if base64.b64encode(raw).decode("ascii") != text:
        raise ValueError("not canonical base64")
    return raw


def encode_b64(raw: bytes) -> str:
    """Encode bytes as standard base64 with padding (the one spelling :func:`decode_b64` accepts).

    Args:
        raw: the bytes.

    Returns:
        ASCII base64 text.
    """
    return base64.b64encode(raw).decode("ascii")
