"""Columns and custom roles of the desktop's models, as IntEnums (one place, shared by models and views)."""

from __future__ import annotations

import enum

from PySide6.QtCore import Qt

_USER = int(Qt.ItemDataRole.UserRole)


class LogColumn(enum.IntEnum):
    TIME = 0
    AGENT = 1
    ACTION = 2
    VERDICT = 3
    FLAGS = 4
    TRACE = 5
    PROMPT = 6


class LogRole(enum.IntEnum):
    ID = _USER + 1
    ENFORCEMENT = _USER + 2
    TRACE_ID = _USER + 3
    CREATED_AT = _USER + 4


class AlertColumn(enum.IntEnum):
    SEVERITY = 0
    STATUS = 1
    MESSAGE = 2
    AGENT = 3
    CREATED = 4


class AlertRole(enum.IntEnum):
    ID = _USER + 1
    ALERT = _USER + 2
    SEVERITY = _USER + 3
    AUDIT_LOG_ID = _USER + 4
    STATUS = _USER + 5


class KeyColumn(enum.IntEnum):
    NAME = 0
    PREFIX = 1
    SCOPES = 2
    LAST_USED = 3
    CREATED = 4


class KeyRole(enum.IntEnum):
    ID = _USER + 1
    KEY = _USER + 2


class UserColumn(enum.IntEnum):
    NAME = 0
    EMAIL = 1
    ROLE = 2
    ADDED = 3


class UserRole(enum.IntEnum):
    ID = _USER + 1
    USER = _USER + 2
    IS_ME = _USER + 3


class JsonColumn(enum.IntEnum):
    KEY = 0
    VALUE = 1


class JsonRole(enum.IntEnum):
    PATH = _USER + 1
    VALUE = _USER + 2


class ReportColumn(enum.IntEnum):
    NAME = 0
    TYPE = 1
    FORMAT = 2
    STATUS = 3
    SIZE = 4
    CREATED = 5


class ScheduleColumn(enum.IntEnum):
    NAME = 0
    TYPE = 1
    FORMAT = 2
    WHEN = 3
    NEXT_RUN = 4


class ActivityColumn(enum.IntEnum):
    TIME = 0
    ACTOR = 1
    ACTION = 2
    TARGET = 3
    DETAILS = 4


class RowRole(enum.IntEnum):
    """The whole row's value (a ``schemas`` object) and its id, for the report, schedule and activity tables."""

    ID = _USER + 1
    ITEM = _USER + 2
    STATUS = _USER + 3


class TraceColumn(enum.IntEnum):
    SPAN = 0
    DURATION = 1
    TOKENS = 2
    COST = 3


class TraceRole(enum.IntEnum):
    NODE = _USER + 1
    EVENT_ID = _USER + 2
    STATUS = _USER + 3
    MATCH = _USER + 4
