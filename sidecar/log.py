"""The sidecar's named loggers, in one place."""

from __future__ import annotations

import logging

root = logging.getLogger("agentaudit")
http = logging.getLogger("agentaudit.http")
store = logging.getLogger("agentaudit.store")
ingest = logging.getLogger("agentaudit.ingest")
auth = logging.getLogger("agentaudit.auth")
jobs = logging.getLogger("agentaudit.jobs")
