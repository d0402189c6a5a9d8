"""AgentAudit sidecar: the local HTTP service that ingests, checks and stores agent audit events."""
