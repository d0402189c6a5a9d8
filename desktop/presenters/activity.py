"""The activity log: who changed what, filtered by actor, action and target type, a page at a time."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from desktop.api import schemas
from desktop.api.client import Call, SidecarClient
from desktop.api.errors import ApiError
from desktop.models.activity import ActivityTableModel, detail_ids
from desktop.presenters.reports import say

PAGE_SIZE = 50


class ActivityPresenter(QObject):
    """Signals:
        page_changed(int, int): (offset, total) after a page arrived.
        loading_changed(bool).
        failed(str): a sentence for the user.
    """

    page_changed = Signal(int, int)
    loading_changed = Signal(bool)
    failed = Signal(str)

    def __init__(self, client: SidecarClient, *, page_size: int = PAGE_SIZE, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._client = client
        self.model = ActivityTableModel(self)
        self.page_size = page_size
        self.filter = schemas.ActivityFilter()
        self.offset = 0
        self.total = 0
        self.loading = False
        self._pending: Call | None = None
        self._pending_offset = 0
        self._agents: dict[str, str] = {}  # agent id -> name, kept across pages
        self._agents_call: Call | None = None

    @property
    def has_next(self) -> bool:
        return self.offset + self.page_size < self.total

    @property
    def has_previous(self) -> bool:
        return self.offset > 0

    def apply(self, flt: schemas.ActivityFilter) -> None:
        """New filters: back to the first page."""
        self.filter = flt
        self._load(0)

    def refresh(self) -> None:
        self._load(self.offset)

    def clear(self) -> None:
        """Forget the rows and filters (logout)."""
        self._pending = None
        self.filter, self.offset, self.total = schemas.ActivityFilter(), 0, 0
        self._agents, self._agents_call = {}, None
        self.model.set_rows([])
        self.page_changed.emit(0, 0)

    def next_page(self) -> None:
        if self.has_next:
            self._load(self.offset + self.page_size)

    def previous_page(self) -> None:
        if self.has_previous:
            self._load(max(0, self.offset - self.page_size))

    def _load(self, offset: int) -> None:
        call = self._client.list_activity(self.filter, limit=self.page_size, offset=offset)
        self._pending, self._pending_offset = call, offset
        self.loading = True
        self.loading_changed.emit(True)
        call.done.connect(self._loaded)  # bound methods: a lambda holding the call would keep it alive for ever
        call.failed.connect(self._failed)

    def _loaded(self, listing: schemas.Listing) -> None:
        if self.sender() is not self._pending:
            return  # an older request answered after a newer one was made
        self._pending = None
        self.offset, self.total = self._pending_offset, listing.total
        self.model.set_rows(listing.items)
        self._name_ids()
        self.loading = False
        self.loading_changed.emit(False)
        self.page_changed.emit(self.offset, listing.total)

    def _names(self) -> dict[str, str]:
        """What the ids in the page's details are called: the page's own named targets, and agents."""
        names = {entry.target_id: entry.target_name for entry in self.model.rows()
                 if entry.target_id and entry.target_name}
        names.update(self._agents)
        return names

    def _name_ids(self) -> None:
        """Name the ids in the page's details; an agent not yet known costs one listing of the agents for the
        whole page (never a request per row)."""
        names = self._names()
        self.model.set_names(names)
        unknown = {ident for entry in self.model.rows() for ident in detail_ids(entry.details)} - names.keys()
        if any(ident.startswith("agent_") for ident in unknown) and self._agents_call is None:
            self._agents_call = self._client.list_agents()
            self._agents_call.done.connect(self._agents_loaded)
            self._agents_call.failed.connect(self._agents_failed)

    def _agents_loaded(self, listing: schemas.Listing) -> None:
        if self.sender() is not self._agents_call:
            return
        self._agents_call = None
        self._agents.update({agent.id: agent.name for agent in listing.items if agent.name})
        self.model.set_names(self._names())

    def _agents_failed(self, _error: ApiError) -> None:
        if self.sender() is self._agents_call:
            self._agents_call = None  # the ids stay; the next page may ask again

    def _failed(self, error: ApiError) -> None:
        if self.sender() is not self._pending:
            return
        self._pending = None
        self.loading = False
        self.loading_changed.emit(False)
        if error.status == 403:
            self.failed.emit("Your role cannot read the activity log (owners, admins and auditors can).")
        else:
            self.failed.emit(f"Could not load the activity: {say(error)}")
