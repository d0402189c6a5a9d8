"""Table models of the policies and agents pages: short lists, replaced whole when their data arrives.

``RowsModel`` is a read-only table over a list of frozen values, described by columns (header, text); the
subclasses name their columns and add the colours and roles their views need.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, QPersistentModelIndex, Qt
from PySide6.QtGui import QBrush, QColor, QGuiApplication, QPalette

from desktop import theme
from desktop.api import schemas
from desktop.models import rule_conditions, timefmt
from desktop.models.policy_text import Change, DiffRow

T = TypeVar("T")
Index = QModelIndex | QPersistentModelIndex
ROW_ROLE = int(Qt.ItemDataRole.UserRole) + 1  # the row's value
KEY_ROLE = int(Qt.ItemDataRole.UserRole) + 2  # the pill colour key of a cell (mode, severity...)


class RowsModel(QAbstractTableModel, Generic[T]):
    """A table over ``rows``; ``columns`` are ``(header, text of a row)``."""

    columns: tuple[tuple[str, Callable[[Any], str]], ...] = ()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._rows: list[T] = []
        self.loaded = False

    def set_rows(self, rows: Sequence[T]) -> None:
        self.beginResetModel()
        self._rows = list(rows)
        self.loaded = True
        self.endResetModel()

    def rows(self) -> list[T]:
        return list(self._rows)

    def row(self, n: int) -> T:
        return self._rows[n]

    def find(self, predicate: Callable[[T], bool]) -> int:
        return next((n for n, row in enumerate(self._rows) if predicate(row)), -1)

    def rowCount(self, parent: Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.columns)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole \
                and 0 <= section < len(self.columns):
            return self.columns[section][0]
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        row = self._rows[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return self.columns[index.column()][1](row)
        if role == ROW_ROLE:
            return row
        return self.extra(row, index.column(), role)

    def extra(self, row: T, column: int, role: int) -> Any:
        """Other roles (colours, tooltips, pill keys) for subclasses."""
        return None


def _when(value: datetime | None) -> str:
    return timefmt.short(value) if value else "—"


def _installed(installed: schemas.InstalledPack | None) -> str:
    if installed is None:
        return "no"
    if installed.update_available:  # short, so the pack names keep their room; the tooltip says more
        return f"v{installed.version} → {installed.latest_version}"
    return f"✓ v{installed.version}"


class PackModel(RowsModel[tuple[schemas.Pack, schemas.InstalledPack | None]]):
    """Shipped packs with whether (and which version) the organisation installed each, and whether the
    sidecar ships a newer version of an installed one."""

    columns = (
        ("Pack", lambda r: r[0].name),
        ("Rules", lambda r: str(len(r[0].rules))),
        ("Installed", lambda r: _installed(r[1])),
    )
    INSTALLED_COLUMN = 2
    UPDATE_COLOR = "#e8590c"

    def extra(self, row: tuple[schemas.Pack, schemas.InstalledPack | None], column: int, role: int) -> Any:
        pack, installed = row
        outdated = installed is not None and installed.update_available
        if role == Qt.ItemDataRole.ToolTipRole:
            if column == self.INSTALLED_COLUMN and installed is not None and outdated:
                return (f"Version {installed.version} is installed; {installed.latest_version} is available.\n"
                        "Update brings the pack's rules to it: ids and switched-off rules are kept.")
            return f"{pack.name}\n{pack.description}\nVersion {pack.version}"  # the name: it may be elided
        if role == Qt.ItemDataRole.ForegroundRole and column == self.INSTALLED_COLUMN:
            return QBrush(QColor(self.UPDATE_COLOR if outdated else "#2b8a3e" if installed else theme.MUTED))
        return None


class PolicyListModel(RowsModel[schemas.PolicyDetail]):
    columns = (
        ("Policy", lambda p: p.name),
        ("Mode", lambda p: p.mode),
        ("Rules", lambda p: str(len(p.rules))),
    )
    MODE_COLUMN = 1

    def extra(self, row: schemas.PolicyDetail, column: int, role: int) -> Any:
        if role == KEY_ROLE:
            return row.mode
        if role == Qt.ItemDataRole.ForegroundRole and not row.is_active:
            return QBrush(QColor(theme.MUTED))
        if role == Qt.ItemDataRole.ToolTipRole:
            agents = ", ".join(a.name for a in row.agents) or "no agent"
            return (f"{row.name} (version {row.version}, priority {row.priority})\n{row.description}\n"
                    f"attached to: {agents}").replace("\n\n", "\n")
        return None


class RuleModel(RowsModel[schemas.RuleDetail]):
    columns = (
        ("Rule", lambda r: r.name),
        ("Severity", lambda r: r.severity),
        ("Type", lambda r: rule_conditions.TYPE_SHORT.get(r.rule_type, r.rule_type)),
        ("Looks for", lambda r: rule_conditions.summary(r.rule_type, r.condition)),
        ("Action", lambda r: r.action_override or "policy mode"),
        ("On", lambda r: "on" if r.is_active else "off"),
    )
    SEVERITY_COLUMN = 1

    def extra(self, row: schemas.RuleDetail, column: int, role: int) -> Any:
        if role == KEY_ROLE:
            return row.severity
        if role == Qt.ItemDataRole.ForegroundRole and not row.is_active:
            return QBrush(QColor(theme.MUTED))
        return None


class VersionModel(RowsModel[schemas.PolicyVersion]):
    columns = (
        ("Version", lambda v: f"v{v.number}"),
        ("Name", lambda v: v.given_name),  # blank for an unnamed version, not its number again
    )

    def extra(self, row: schemas.PolicyVersion, column: int, role: int) -> Any:
        if role == Qt.ItemDataRole.ToolTipRole:
            return f"{row.title}\nsaved {timefmt.local(row.created_at)}"
        return None


class DiffModel(RowsModel[DiffRow]):
    """Two panes in one table: left line number and text, right line number and text."""

    columns = (
        ("", lambda r: "" if r.left_no is None else str(r.left_no)),
        ("", lambda r: r.left or ""),
        ("", lambda r: "" if r.right_no is None else str(r.right_no)),
        ("", lambda r: r.right or ""),
    )
    # hues laid over the palette's base colour (theme.tint), so the tints follow the light or dark scheme
    LEFT_TINT = {Change.CHANGED: "#fab005", Change.REMOVED: "#fa5252"}
    RIGHT_TINT = {Change.CHANGED: "#fab005", Change.ADDED: "#40c057"}

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.titles = ("", "")

    def set_titles(self, left: str, right: str) -> None:
        self.titles = (left, right)
        self.headerDataChanged.emit(Qt.Orientation.Horizontal, 0, 3)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return {1: self.titles[0], 3: self.titles[1]}.get(section, "")
        return None

    def extra(self, row: DiffRow, column: int, role: int) -> Any:
        if role == Qt.ItemDataRole.BackgroundRole:
            left_side = column < 2
            present = row.left is not None if left_side else row.right is not None
            palette = QGuiApplication.palette()
            if not present:
                return palette.brush(QPalette.ColorRole.AlternateBase)
            hue = (self.LEFT_TINT if left_side else self.RIGHT_TINT).get(row.change)
            return QBrush(theme.tint(hue, palette.color(QPalette.ColorRole.Base))) if hue else None
        if role == Qt.ItemDataRole.ForegroundRole and column in (0, 2):  # line numbers
            return QGuiApplication.palette().brush(QPalette.ColorRole.PlaceholderText)
        if role == Qt.ItemDataRole.ToolTipRole and column in (1, 3):
            return row.left if column == 1 else row.right
        return None


class RuleCountModel(RowsModel[schemas.RuleCount]):
    columns = (
        ("Rule", lambda r: r.rule_name),
        ("Severity", lambda r: r.severity),
        ("Action", lambda r: r.action),
        ("Violations", lambda r: f"{r.count:,}"),
    )

    def extra(self, row: schemas.RuleCount, column: int, role: int) -> Any:
        if role == KEY_ROLE:
            return row.severity
        if role == Qt.ItemDataRole.TextAlignmentRole and column == 3:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None


class AgentCountModel(RowsModel[schemas.AgentCount]):
    columns = (
        ("Agent", lambda a: a.agent_id),
        ("Violations", lambda a: f"{a.violations:,}"),
        ("Events", lambda a: f"{a.events:,}"),
    )


class AgentModel(RowsModel[schemas.AgentDetail]):
    columns = (
        ("Agent", lambda a: a.name),
        ("Type", lambda a: a.type),
        ("Registered", lambda a: _when(a.created_at)),
    )

    def extra(self, row: schemas.AgentDetail, column: int, role: int) -> Any:
        if role == Qt.ItemDataRole.ToolTipRole:
            return row.description or None
        return None


class SeenAgentModel(RowsModel[schemas.SeenAgent]):
    """Agent ids seen in events but not registered."""

    columns = (
        ("Agent id", lambda s: s.agent_id),
        ("Events", lambda s: f"{s.event_count:,}"),
        ("Last seen", lambda s: timefmt.relative(s.last_seen_at, datetime.now(UTC)) if s.last_seen_at else "—"),
        ("", lambda s: ""),  # the row's "Register" button
    )
    BUTTON_COLUMN = 3

    def extra(self, row: schemas.SeenAgent, column: int, role: int) -> Any:
        if role == Qt.ItemDataRole.ToolTipRole:
            return f"last action: {row.last_action}\nlast seen {timefmt.local(row.last_seen_at)}"
        return None


class EventModel(RowsModel[schemas.LogEvent]):
    """An agent's recent events (or its flagged ones)."""

    columns = (
        ("Time", lambda e: timefmt.short(e.created_at) if e.created_at else "—"),
        ("Action", lambda e: e.action),
        ("Verdict", lambda e: e.enforcement_action),
        ("Flags, or the prompt", lambda e: ", ".join(_flag_names(e)) if e.compliance_flags
         else (e.prompt or e.response or "").replace("\n", " ")[:200]),
    )
    VERDICT_COLUMN = 2

    def extra(self, row: schemas.LogEvent, column: int, role: int) -> Any:
        if role == KEY_ROLE:
            return row.enforcement_action
        if role == Qt.ItemDataRole.ToolTipRole:
            return timefmt.local(row.created_at) if column == 0 else (row.prompt or None)
        if role == Qt.ItemDataRole.ForegroundRole and column == 3 and not row.compliance_flags:
            return QBrush(QColor(theme.MUTED))
        return None


def _flag_names(event: schemas.LogEvent) -> list[str]:
    """``CRITICAL_pii_detect_SSN Detection`` reads as ``SSN Detection``."""
    return list(dict.fromkeys(v.name for v in event.violations)) or list(event.compliance_flags)
