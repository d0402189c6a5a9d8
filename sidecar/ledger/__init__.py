"""Tamper-evidence for audit events: canonical form, hash chain, signed checkpoints. Pure: no I/O."""

from __future__ import annotations

from .chain import CANONICAL_FIELDS, GENESIS_HASH, canonical_columns, canonical_event, link_hash
from .checkpoint import (
    Checkpoint,
    CheckpointKind,
    CheckpointPolicy,
    checkpoint_message,
    format_timestamp,
    parse_timestamp,
    sign_checkpoint,
    verify_checkpoint,
)
from .export import ExportHeader, export_lines, verify_export, write_export
from .keys import (
    generate_private_key,
    key_id,
    private_key_from_pem,
    private_key_to_pem,
    public_key_b64,
    public_key_from_b64,
)
from .proof import build_proof, proof_problem, verify_event_proof, verify_proof
from .report import Break, BreakKind, VerifyReport
from .verify import ChainVerifier, verify_chain

__all__ = [
    "CANONICAL_FIELDS",
    "GENESIS_HASH",
    "Break",
    "BreakKind",
    "ChainVerifier",
    "Checkpoint",
    "CheckpointKind",
    "CheckpointPolicy",
    "ExportHeader",
    "VerifyReport",
    "build_proof",
    "canonical_columns",
    "canonical_event",
    "checkpoint_message",
    "export_lines",
    "format_timestamp",
    "generate_private_key",
    "key_id",
    "link_hash",
    "parse_timestamp",
    "private_key_from_pem",
    "private_key_to_pem",
    "proof_problem",
    "public_key_b64",
    "public_key_from_b64",
    "sign_checkpoint",
    "verify_chain",
    "verify_checkpoint",
    "verify_event_proof",
    "verify_export",
    "verify_proof",
    "write_export",
]
