"""The Policies and Agents pages end to end against a real sidecar: install a pack, clone it into a policy, edit
a rule through its form, test it live, save a version, change, restore and see the diff; attach an agent;
register an agent id seen in events in one click; an auditor sees no edit buttons."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QPalette

from desktop import theme
from desktop.models.policies import DiffModel
from desktop.models.policy_text import Change
from desktop.views.main_window import MainWindow
from tests.desktop.conftest import Seeded, http, token_for
from tests.desktop.views.test_views import log_in, open_window  # noqa: F401 - a fixture
from tests.helpers import PASSWORD

WAIT = 10_000


def _headers(url: str, email: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token_for(url, email)}"}


def _click(qtbot: Any, button: Any) -> None:
    assert button.isVisible() and button.isEnabled(), button.text()
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def _policies_page(qtbot: Any, window: MainWindow) -> Any:
    window.show_page("policies")
    presenter = window.shell.policies
    qtbot.waitUntil(lambda: presenter.packs.rowCount() == 4 and presenter.policies.loaded, timeout=WAIT)
    return presenter


def test_install_clone_edit_test_version_restore_and_diff(qtbot: Any, open_window: Any, seeded: Seeded,
                                                          fresh_account: tuple[str, str]) -> None:
    window = open_window(seeded.url)
    log_in(qtbot, window, *fresh_account)
    presenter = _policies_page(qtbot, window)
    view = window.policies
    headers = _headers(seeded.url, fresh_account[0])

    # install the hipaa pack
    row = presenter.packs.find(lambda r: r[0].id == "hipaa")
    view.pack_table.selectRow(row)
    assert not view.uninstall_button.isEnabled()
    _click(qtbot, view.install_button)
    qtbot.waitUntil(lambda: presenter.packs.rowCount() == 4 and presenter.packs.row(row)[1] is not None, timeout=WAIT)
    shipped = len(presenter.packs.row(row)[0].rules)
    assert shipped == 9 and view.feedback.text() == "Installed the hipaa pack (9 rules) for the whole organisation."
    assert [p["packId"] for p in http(f"{seeded.url}/api/v1/compliance-rules/packs/installed", headers=headers)[1]] \
        == ["hipaa"]

    # clone it into a policy (through the dialog)
    view.pack_table.selectRow(row)
    _click(qtbot, view.clone_button)
    dialog = view.dialog
    assert dialog is not None
    dialog.name.setText("Intake HIPAA")
    dialog.mode.setCurrentIndex(dialog.mode.findData("block"))
    dialog.accept()
    qtbot.waitUntil(lambda: presenter.current is not None and presenter.current.name == "Intake HIPAA"
                    and presenter.rules.rowCount() == shipped, timeout=WAIT)
    policy_id = presenter.current.id
    assert view.policy_title.text() == "Intake HIPAA" and view.mode_pill.text() == "block"

    # edit the SSN rule through its form: it now also detects e-mail addresses
    rules_tab = view.rules_tab
    ssn_row = presenter.rules.find(lambda r: r.name == "SSN Detection")
    rules_tab.table.selectRow(ssn_row)
    editor = rules_tab.editor
    assert editor.rule_type.currentData() == "pii_detect" and editor.stack.currentWidget() is editor.form
    assert editor.form.boxes["ssn"].isChecked() and not editor.form.boxes["email"].isChecked()
    editor.form.boxes["email"].setChecked(True)
    editor.severity.setCurrentIndex(editor.severity.findData("critical"))
    _click(qtbot, rules_tab.save_button)
    qtbot.waitUntil(lambda: view.feedback.text() == "Saved the rule “SSN Detection”." and
                    "email" in (presenter.current.rule(editor.rule_id) or editor).condition.get("patterns", []),
                    timeout=WAIT)
    stored = http(f"{seeded.url}/api/v1/policies/{policy_id}", headers=headers)[1]
    ssn = next(r for r in stored["rules"] if r["name"] == "SSN Detection")
    assert ssn["condition"] == {"patterns": ["ssn", "us_itin", "email"]} and ssn["severity"] == "critical"

    # the live test box runs the rule being edited through the sidecar's dry run
    text = "Please write to jane.doe@example.com about the appointment."
    with qtbot.waitSignal(presenter.tester.result, timeout=WAIT, check_params_cb=lambda v: v is not None):
        qtbot.keyClicks(rules_tab.test_box.text, text)
    verdict = presenter.tester.last
    assert verdict.action == "block"
    match = verdict.violations[0].matches[0]
    assert (match.detector, text[match.start:match.end]) == ("email", "jane.doe@example.com")
    assert rules_tab.test_box.findings.text().startswith("CRITICAL · SSN Detection → block")
    assert rules_tab.test_box.text.extraSelections()[0].cursor.selectedText() == "jane.doe@example.com"
    events = http(f"{seeded.url}/api/v1/audit-logs?limit=1", headers=headers)[1]
    assert events["pagination"]["total"] == 0  # a dry run stores nothing

    # save a named version, change the mode, and see the two side by side
    view.tabs.setCurrentWidget(view.versions_tab)
    versions = presenter.versions
    tab = view.versions_tab
    qtbot.keyClicks(tab.version_name, "before tightening")
    _click(qtbot, tab.save_button)
    qtbot.waitUntil(lambda: versions.model.rowCount() > 0 and versions.model.row(0).name == "before tightening",
                    timeout=WAIT)
    saved = versions.model.row(0)
    view.tabs.setCurrentWidget(view.settings_tab)
    view.settings_tab.mode.setCurrentIndex(view.settings_tab.mode.findData("flag"))
    view.settings_tab.priority.setValue(20)
    _click(qtbot, view.settings_tab.save_button)
    qtbot.waitUntil(lambda: presenter.current.mode == "flag" and versions.model.row(0).number == saved.number + 1
                    and versions.left_id == saved.id and versions.diff.rowCount() > 0
                    and versions.diff.titles[1].startswith(f"v{saved.number + 1}"), timeout=WAIT)
    changed = {(r.left, r.right) for r in versions.diff.rows() if r.change is Change.CHANGED}
    assert changed == {("mode: block", "mode: flag"), ("priority: 0", "priority: 20")}
    assert view.versions_tab.summary.text().startswith("2 changed lines between v")

    # restore the saved version: the policy is back to block and the diff shows what the restore undid
    view.tabs.setCurrentWidget(view.versions_tab)
    tab.table.selectRow(versions.model.find(lambda v: v.id == saved.id))
    _click(qtbot, tab.restore_button)
    qtbot.waitUntil(lambda: presenter.current.mode == "block" and versions.model.row(0).restored_from_id == saved.id
                    and versions.diff.titles[1].startswith(f"v{saved.number + 2}"), timeout=WAIT)
    changed = {(r.left, r.right) for r in versions.diff.rows() if r.change is Change.CHANGED}
    assert changed == {("mode: flag", "mode: block"), ("priority: 20", "priority: 0")}
    assert view.version_label.text().startswith(f"version {saved.number + 2} · priority 0")
    stored = http(f"{seeded.url}/api/v1/policies/{policy_id}", headers=headers)[1]
    assert (stored["mode"], stored["priority"], stored["version"]) == ("block", 0, saved.number + 2)
    left, right = view.versions_tab.diff_left, view.versions_tab.diff_right
    assert [c for c in range(4) if not left.isColumnHidden(c)] == [0, 1]
    assert [c for c in range(4) if not right.isColumnHidden(c)] == [2, 3]
    row = next(n for n, r in enumerate(versions.diff.rows()) if r.left == "mode: flag")
    tint = left.model().index(row, 1).data(Qt.ItemDataRole.BackgroundRole).color()
    assert tint == theme.tint(DiffModel.LEFT_TINT[Change.CHANGED], left.palette().color(QPalette.ColorRole.Base))
    assert right.model().index(row, 3).data() == "mode: block"
    right.verticalScrollBar().setValue(right.verticalScrollBar().maximum())
    assert left.verticalScrollBar().value() == right.verticalScrollBar().value() > 0


def test_attach_and_detach_an_agent(qtbot: Any, open_window: Any, seeded: Seeded,
                                    fresh_account: tuple[str, str]) -> None:
    headers = _headers(seeded.url, fresh_account[0])
    status, agent, _ = http(f"{seeded.url}/api/v1/agents", "POST", {"name": "intake-bot", "type": "chat"}, headers)
    assert status == 201
    status, policy, _ = http(f"{seeded.url}/api/v1/policies/clone-pack", "POST",
                             {"packId": "secrets", "name": "No secrets", "mode": "block"}, headers)
    assert status == 201
    window = open_window(seeded.url)
    log_in(qtbot, window, *fresh_account)
    presenter = _policies_page(qtbot, window)
    view = window.policies
    qtbot.waitUntil(lambda: presenter.policies.rowCount() == 1 and len(presenter.agents) == 1, timeout=WAIT)
    view.policy_table.selectRow(0)
    qtbot.waitUntil(lambda: presenter.current is not None and presenter.current.id == policy["id"], timeout=WAIT)
    view.tabs.setCurrentWidget(view.agents_tab)
    tab = view.agents_tab
    assert tab.choice.currentData() == agent["id"] and tab.attached.count() == 0
    _click(qtbot, tab.attach_button)
    qtbot.waitUntil(lambda: [a.id for a in presenter.current.agents] == [agent["id"]], timeout=WAIT)
    assert tab.attached.item(0).text().startswith("intake-bot") and tab.choice.count() == 0
    detail = http(f"{seeded.url}/api/v1/agents/{agent['id']}", headers=headers)[1]
    assert [p["id"] for p in detail["policies"]] == [policy["id"]]
    tooltip = presenter.policies.data(presenter.policies.index(0, 0), Qt.ItemDataRole.ToolTipRole)
    assert tooltip.endswith("attached to: intake-bot")

    tab.attached.setCurrentRow(0)
    _click(qtbot, tab.detach_button)
    qtbot.waitUntil(lambda: presenter.current.agents == (), timeout=WAIT)
    assert http(f"{seeded.url}/api/v1/agents/{agent['id']}", headers=headers)[1]["policies"] == []


def test_register_an_unregistered_agent_id_in_one_click(qtbot: Any, open_window: Any, seeded: Seeded,
                                                        fresh_account: tuple[str, str]) -> None:
    headers = _headers(seeded.url, fresh_account[0])
    status, key, _ = http(f"{seeded.url}/api/v1/auth/api-keys", "POST", {"name": "agents"}, headers)
    assert status == 201
    for agent_id, prompt in (("scraper-7", "fetch page 1"), ("scraper-7", "My SSN is 123-45-6789"),
                             ("mail-triage", "sort the inbox")):
        status, _, _ = http(f"{seeded.url}/api/v1/audit-logs", "POST",
                            {"action": "tool_use", "agentId": agent_id, "prompt": prompt}, {"X-API-Key": key["key"]})
        assert status == 201
    http(f"{seeded.url}/api/v1/compliance-rules/packs", "POST", {"packId": "hipaa"}, headers)
    status, _, _ = http(f"{seeded.url}/api/v1/audit-logs", "POST",
                        {"action": "llm_call", "agentId": "scraper-7", "prompt": "SSN 123-45-6789 again"},
                        {"X-API-Key": key["key"]})
    assert status == 201

    window = open_window(seeded.url)
    log_in(qtbot, window, *fresh_account)
    window.show_page("agents")
    presenter, view = window.shell.agents, window.agents
    qtbot.waitUntil(lambda: presenter.seen.rowCount() == 2 and presenter.agents.loaded, timeout=WAIT)
    assert [presenter.seen.row(n).agent_id for n in range(2)] == ["scraper-7", "mail-triage"]
    assert presenter.seen.data(presenter.seen.index(0, 1)) == "3"
    assert presenter.agents.rowCount() == 0
    assert view.seen_hint.text().startswith("2 agent ids in events match no registered agent")

    _click(qtbot, view.register_buttons["scraper-7"])
    qtbot.waitUntil(lambda: presenter.agents.rowCount() == 1 and presenter.seen.rowCount() == 1
                    and presenter.current is not None and presenter.events.rowCount() == 3, timeout=WAIT)
    assert presenter.current.name == "scraper-7" and presenter.current.event_count == 3
    assert view.cards["events"].value.text() == "3" and view.cards["flagged"].value.text() == "1"
    qtbot.waitUntil(lambda: presenter.violations.rowCount() == 1, timeout=WAIT)
    violation = presenter.violations.row(0)
    assert violation.action == "llm_call" and violation.compliance_flags == ("CRITICAL_pii_detect_SSN Detection",)
    assert view.detail_stack.currentIndex() == 1 and view.name_label.text() == "scraper-7"
    agents = http(f"{seeded.url}/api/v1/agents", headers=headers)[1]
    assert [(a["name"], a["type"]) for a in agents] == [("scraper-7", "custom")]
    assert list(view.register_buttons) == ["mail-triage"]
    view.tabs.setCurrentWidget(view.violations_table)
    index = presenter.violations.index(0, 1)
    with qtbot.waitSignal(window.shell.logs.event_loaded, timeout=WAIT) as opened:
        centre = view.violations_table.visualRect(index).center()
        qtbot.mouseClick(view.violations_table.viewport(), Qt.MouseButton.LeftButton, pos=centre)
        qtbot.mouseDClick(view.violations_table.viewport(), Qt.MouseButton.LeftButton, pos=centre)
    assert opened.args[0].id == violation.id and window.pages.currentWidget() is window.logs
    window.show_page("agents")

    # edit it, then delete it: its events stay and its id is listed as unregistered again
    view.edit_description.setText("Crawls the partner portal")
    _click(qtbot, view.save_button)
    qtbot.waitUntil(lambda: presenter.current is not None and presenter.current.description ==
                    "Crawls the partner portal", timeout=WAIT)
    presenter.delete(presenter.current.id)
    qtbot.waitUntil(lambda: presenter.agents.rowCount() == 0 and presenter.seen.rowCount() == 2, timeout=WAIT)
    assert view.detail_stack.currentIndex() == 0


def test_an_auditor_sees_no_edit_buttons(qtbot: Any, open_window: Any, seeded: Seeded,
                                         fresh_account: tuple[str, str]) -> None:
    headers = _headers(seeded.url, fresh_account[0])
    auditor = "auditor-" + fresh_account[0]
    status, body, _ = http(f"{seeded.url}/api/v1/users", "POST",
                           {"email": auditor, "name": "Ada Auditor", "password": PASSWORD, "role": "auditor"}, headers)
    assert status == 201, body
    http(f"{seeded.url}/api/v1/policies/clone-pack", "POST", {"packId": "gdpr", "name": "GDPR"}, headers)
    window = open_window(seeded.url)
    log_in(qtbot, window, auditor, PASSWORD)
    presenter = _policies_page(qtbot, window)
    view = window.policies
    qtbot.waitUntil(lambda: presenter.policies.rowCount() == 1, timeout=WAIT)
    view.policy_table.selectRow(0)
    qtbot.waitUntil(lambda: presenter.current is not None and presenter.rules.rowCount() == 7, timeout=WAIT)
    for button in (view.install_button, view.uninstall_button, view.clone_button, view.new_button,
                   view.delete_button, view.rules_tab.save_button, view.rules_tab.new_button,
                   view.settings_tab.save_button, view.agents_tab.attach_button, view.versions_tab.restore_button,
                   view.versions_tab.save_button):
        assert button.isHidden(), button.text()
    assert not view.rules_tab.editor.name.isEnabled() and not view.settings_tab.mode.isEnabled()
    window.show_page("agents")
    qtbot.waitUntil(lambda: window.shell.agents.agents.loaded, timeout=WAIT)
    assert window.agents.register_button.isHidden() and window.agents.save_button.isHidden()
    assert window.agents.seen_table.isColumnHidden(3) and window.agents.register_buttons == {}


def test_conditions_saved_through_the_settings_form(qtbot: Any, open_window: Any, seeded: Seeded,
                                                    fresh_account: tuple[str, str]) -> None:
    headers = _headers(seeded.url, fresh_account[0])
    status, policy, _ = http(f"{seeded.url}/api/v1/policies/clone-pack", "POST",
                             {"packId": "finance", "name": "Night trading desk"}, headers)
    assert status == 201
    window = open_window(seeded.url)
    log_in(qtbot, window, *fresh_account)
    presenter = _policies_page(qtbot, window)
    view = window.policies
    qtbot.waitUntil(lambda: presenter.policies.rowCount() == 1, timeout=WAIT)
    view.policy_table.selectRow(0)
    qtbot.waitUntil(lambda: presenter.current is not None, timeout=WAIT)
    tab = view.settings_tab
    view.tabs.setCurrentWidget(tab)
    tab.window_on.setChecked(True)
    tab.start.setTime(tab.start.time().fromString("22:00", "HH:mm"))
    tab.end.setTime(tab.end.time().fromString("06:00", "HH:mm"))
    tab.timezone.setText("Europe/Paris")
    tab.days[0].setChecked(True)
    tab.days[4].setChecked(True)
    tab.agent_types.setText("chat, workflow")
    tab.metadata.setPlainText("env eq production\nusage.tokens gt 4000")
    _click(qtbot, tab.save_button)
    qtbot.waitUntil(lambda: presenter.current.version == 2, timeout=WAIT)
    stored = http(f"{seeded.url}/api/v1/policies/{policy['id']}", headers=headers)[1]["conditions"]
    assert stored == {"timeOfDay": {"start": "22:00", "end": "06:00", "timezone": "Europe/Paris"},
                      "daysOfWeek": [0, 4], "agentTypes": ["chat", "workflow"],
                      "metadata": [{"key": "env", "operator": "eq", "value": "production"},
                                   {"key": "usage.tokens", "operator": "gt", "value": 4000}]}
    assert tab.days[4].isChecked() and tab.timezone.text() == "Europe/Paris"  # shown as the sidecar stored it

    tab.timezone.setText("Mars/Olympus_Mons")
    _click(qtbot, tab.save_button)
    qtbot.waitUntil(lambda: view.feedback.text().startswith("Could not save the policy:"), timeout=WAIT)
    assert "conditions.timeOfDay.timezone" in view.feedback.text() and presenter.current.version == 2


def test_dialogs_register_an_agent_delete_a_policy_and_uninstall_a_pack(qtbot: Any, open_window: Any, seeded: Seeded,
                                                                        fresh_account: tuple[str, str]) -> None:
    headers = _headers(seeded.url, fresh_account[0])
    http(f"{seeded.url}/api/v1/compliance-rules/packs", "POST", {"packId": "secrets"}, headers)
    window = open_window(seeded.url)
    log_in(qtbot, window, *fresh_account)

    window.show_page("agents")
    agents, agents_view = window.shell.agents, window.agents
    qtbot.waitUntil(lambda: agents.agents.loaded, timeout=WAIT)
    _click(qtbot, agents_view.register_button)
    dialog = agents_view.dialog
    assert dialog is not None
    dialog.name.setText("support-bot")
    dialog.type.setText("chat")
    dialog.accept()
    qtbot.waitUntil(lambda: agents.agents.rowCount() == 1 and agents.current is not None, timeout=WAIT)
    assert (agents.current.name, agents.current.type, agents.current.event_count) == ("support-bot", "chat", 0)

    presenter = _policies_page(qtbot, window)
    view = window.policies
    _click(qtbot, view.new_button)
    view.dialog.name.setText("Empty policy")
    view.dialog.accept()
    qtbot.waitUntil(lambda: presenter.current is not None and presenter.policies.rowCount() == 1, timeout=WAIT)
    assert presenter.current.rules == () and view.rules_tab.editor.rule_id is None
    _click(qtbot, view.delete_button)
    box = view.confirm
    assert box is not None and "Empty policy" in box.text()
    with qtbot.waitSignal(presenter.message, timeout=WAIT):
        qtbot.mouseClick(next(b for b in box.buttons() if b.text() == "Delete"), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: presenter.policies.rowCount() == 0 and presenter.current is None, timeout=WAIT)
    assert view.detail_stack.currentIndex() == 0
    assert http(f"{seeded.url}/api/v1/policies", headers=headers)[1] == []

    row = presenter.packs.find(lambda r: r[0].id == "secrets")
    view.pack_table.selectRow(row)
    assert not view.install_button.isEnabled()
    _click(qtbot, view.uninstall_button)
    box = view.confirm
    with qtbot.waitSignal(presenter.message, timeout=WAIT):
        qtbot.mouseClick(next(b for b in box.buttons() if b.text() == "Uninstall"), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: presenter.packs.rowCount() == 4 and presenter.packs.row(row)[1] is None, timeout=WAIT)
    assert http(f"{seeded.url}/api/v1/compliance-rules/packs/installed", headers=headers)[1] == []
