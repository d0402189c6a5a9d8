"""The desktop app's named loggers, in one place."""

from __future__ import annotations

import logging

root = logging.getLogger("agentaudit.desktop")
http = logging.getLogger("agentaudit.desktop.http")
sidecar = logging.getLogger("agentaudit.desktop.sidecar")
ui = logging.getLogger("agentaudit.desktop.ui")
live = logging.getLogger("agentaudit.desktop.live")
