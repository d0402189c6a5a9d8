"""AgentAudit sidecar: the local HTTP service that ingests, checks and stores agent audit events."""

#: The version of the sidecar, the CLI and the desktop app (kept equal to ``pyproject.toml``).
VERSION = "0.1.0"
