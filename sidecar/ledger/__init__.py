"""Tamper-evidence for audit events: canonical form, hash chain, signed checkpoints. Pure: no I/O."""
