"""AgentAudit desktop app (PySide6), a client of the sidecar HTTP API."""

from desktop import qtcompat

qtcompat.apply()
