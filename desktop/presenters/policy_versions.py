"""A policy's versions: the list, saving a named version, restoring one, and two versions side by side."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from desktop.api import schemas
from desktop.api.client import Call, SidecarClient
from desktop.api.errors import ApiError
from desktop.models import policy_text
from desktop.models.policies import DiffModel, VersionModel


class VersionsPresenter(QObject):
    """Signals:
        versions_changed(): the list was (re)loaded; ``left_id``/``right_id`` say what is compared.
        diff_changed(int): the diff model holds a new comparison; the number of changed rows.
        saved(object): a version was saved or restored (the new :class:`schemas.PolicyVersion`).
        failed(str): a sentence.
    """

    versions_changed = Signal()
    diff_changed = Signal(int)
    saved = Signal(object)
    failed = Signal(str)

    def __init__(self, client: SidecarClient, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._client = client
        self.model = VersionModel(self)
        self.diff = DiffModel(self)
        self.policy_id: str | None = None
        self.left_id: str | None = None
        self.right_id: str | None = None
        self._left_pinned = False  # the user chose the left version; otherwise it follows the one before newest
        self._full: dict[str, schemas.PolicyVersion] = {}
        self._list_call: Call | None = None
        self._fetching: set[str] = set()

    def load(self, policy_id: str | None) -> None:
        """Load (or reload) the versions of ``policy_id``; None clears everything."""
        if policy_id != self.policy_id:
            self.left_id = self.right_id = None
            self._left_pinned = False
            self._full.clear()
        self.policy_id = policy_id
        if policy_id is None:
            self.model.set_rows([])
            self.diff.set_rows([])
            self.versions_changed.emit()
            return
        call = self._client.list_versions(policy_id)
        self._list_call = call
        call.done.connect(self._listed)
        call.failed.connect(self._failed)

    def _listed(self, listing: schemas.Listing) -> None:
        if self.sender() is not self._list_call:
            return
        versions = sorted(listing.items, key=lambda v: v.number, reverse=True)
        self.model.set_rows(versions)
        ids = [v.id for v in versions]
        if self.right_id not in ids or self.right_id != (ids[0] if ids else None):
            self.right_id = ids[0] if ids else None  # the right pane follows the newest version
        if self.left_id not in ids or not self._left_pinned:
            self.left_id = ids[1] if len(ids) > 1 else self.right_id
            self._left_pinned = False
        self.versions_changed.emit()
        self._compare(self.left_id, self.right_id)

    def version(self, version_id: str | None) -> schemas.PolicyVersion | None:
        return next((v for v in self.model.rows() if v.id == version_id), None)

    def compare(self, left_id: str | None, right_id: str | None) -> None:
        """Show ``left_id`` against ``right_id`` (each fetched once with its snapshot); the left one stays
        chosen across reloads."""
        self._left_pinned = True
        self._compare(left_id, right_id)

    def _compare(self, left_id: str | None, right_id: str | None) -> None:
        self.left_id, self.right_id = left_id, right_id
        for version_id in (left_id, right_id):
            if version_id and version_id not in self._full and version_id not in self._fetching \
                    and self.policy_id is not None:
                self._fetching.add(version_id)
                call = self._client.get_version(self.policy_id, version_id)
                call.done.connect(self._fetched)
                call.failed.connect(self._failed)
        self._render()

    def _fetched(self, version: schemas.PolicyVersion) -> None:
        self._fetching.discard(version.id)
        if version.policy_id == self.policy_id:
            self._full[version.id] = version
            self._render()

    def _render(self) -> None:
        left, right = self._full.get(self.left_id or ""), self._full.get(self.right_id or "")
        if left is None or right is None or left.snapshot is None or right.snapshot is None:
            return
        rows = policy_text.side_by_side(policy_text.render(left.snapshot), policy_text.render(right.snapshot))
        self.diff.set_titles(left.title, right.title)
        self.diff.set_rows(rows)
        self.diff_changed.emit(policy_text.changed_count(rows))

    def save(self, name: str) -> None:
        if self.policy_id is None:
            return
        call = self._client.save_version(self.policy_id, name.strip())
        call.done.connect(self._saved)
        call.failed.connect(self._failed)

    def restore(self, version_id: str) -> None:
        """Make the policy as it was in ``version_id`` (the sidecar saves that as a new version)."""
        if self.policy_id is None:
            return
        call = self._client.restore_version(self.policy_id, version_id)
        call.done.connect(self._restored)
        call.failed.connect(self._failed)

    def _saved(self, version: schemas.PolicyVersion) -> None:
        self._full[version.id] = version
        self.saved.emit(version)
        self.load(self.policy_id)

    def _restored(self, version: schemas.PolicyVersion) -> None:
        self._full[version.id] = version
        if version.restored_from_id:
            self.left_id, self._left_pinned = self.right_id, True  # what was replaced, against what replaced it
        self.saved.emit(version)
        self.load(self.policy_id)

    def _failed(self, error: ApiError) -> None:
        self.failed.emit(error.message)
