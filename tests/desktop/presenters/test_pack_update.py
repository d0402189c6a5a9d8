"""Updating an outdated pack through the policies presenter, against a real sidecar."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt

from desktop.api import schemas
from desktop.models.policies import PackModel
from desktop.presenters.policies import PoliciesPresenter, upgrade_text
from tests.desktop.conftest import Seeded, http, outdated_pack, token_for
from tests.desktop.presenters.test_presenters import logged_in

WAIT = 10_000


def _hipaa(presenter: PoliciesPresenter) -> tuple[int, tuple[schemas.Pack, schemas.InstalledPack | None]]:
    row = presenter.packs.find(lambda r: r[0].id == "hipaa")
    return row, presenter.packs.row(row)


def _loaded(qtbot: Any, presenter: PoliciesPresenter, version: str) -> int:
    """Wait for the packs to show hipaa installed at ``version``; its row."""
    def shown() -> bool:
        if presenter.packs.rowCount() != 4:
            return False
        installed = _hipaa(presenter)[1][1]
        return installed is not None and installed.version == version
    qtbot.waitUntil(shown, timeout=WAIT)
    return _hipaa(presenter)[0]


def test_an_outdated_pack_is_shown_and_updated(qtbot: Any, seeded: Seeded, fresh_account: tuple[str, str]) -> None:
    email, password = fresh_account
    outdated_pack(seeded, email, password)
    presenter = PoliciesPresenter(logged_in(qtbot, seeded.url, email, password))
    presenter.reload_packs()
    row = _loaded(qtbot, presenter, "1.0.0")
    installed = _hipaa(presenter)[1][1]
    assert installed is not None and installed.update_available and installed.latest_version == "1.1.0"
    cell = presenter.packs.index(row, PackModel.INSTALLED_COLUMN)
    assert cell.data() == "v1.0.0 → 1.1.0"
    assert cell.data(Qt.ItemDataRole.ToolTipRole).startswith("Version 1.0.0 is installed; 1.1.0 is available.")

    with qtbot.waitSignal(presenter.message, timeout=WAIT) as said:
        presenter.upgrade_pack("hipaa")
    assert said.args == ["HIPAA (PHI) updated to 1.1.0: 1 rule changed, 0 added, 0 removed."]
    row = _loaded(qtbot, presenter, "1.1.0")
    installed = _hipaa(presenter)[1][1]
    assert installed is not None and not installed.update_available
    assert presenter.packs.index(row, PackModel.INSTALLED_COLUMN).data() == "✓ v1.1.0"
    headers = {"Authorization": f"Bearer {token_for(seeded.url, email, password)}"}
    rules = http(f"{seeded.url}/api/v1/compliance-rules?packId=hipaa", headers=headers)[1]
    assert "Old rule" not in {r["name"] for r in rules} and len(rules) == 9

    with qtbot.waitSignal(presenter.message, timeout=WAIT) as said:
        presenter.upgrade_pack("hipaa")
    assert said.args == ["HIPAA (PHI) is already at 1.1.0; nothing changed."]


def test_a_refused_update_says_why(qtbot: Any, seeded: Seeded, fresh_account: tuple[str, str]) -> None:
    presenter = PoliciesPresenter(logged_in(qtbot, seeded.url, *fresh_account))
    with qtbot.waitSignal(presenter.failed, timeout=WAIT) as said:
        presenter.upgrade_pack("gdpr")
    assert said.args == ["Could not update the pack: pack gdpr is not installed"]


def test_update_sentences_and_version_order() -> None:
    done = schemas.PackUpgrade("secrets", "1.0.0", "1.1.0", added=2, updated=1, removed=0, rules=())
    assert upgrade_text("Secrets", done) == "Secrets updated to 1.1.0: 1 rule changed, 2 added, 0 removed."
    assert upgrade_text("Secrets", schemas.PackUpgrade("secrets", "1.0.0", "1.1.0", 0, 3, 1, ())) == \
        "Secrets updated to 1.1.0: 3 rules changed, 0 added, 1 removed."
    newer = schemas.InstalledPack("x", "X", "1.9.0", "1.10.0", None, 1)
    assert newer.update_available
    for version, latest in (("1.1.0", "1.1.0"), ("1.2.0", "1.1.0"), ("1.0.0", None)):
        assert not schemas.InstalledPack("x", "X", version, latest, None, 1).update_available
