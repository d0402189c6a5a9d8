"""API keys: list, create (the secret is shown once, with ready-to-paste snippets) and revoke."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from desktop.api import schemas
from desktop.api.client import SidecarClient
from desktop.api.errors import ApiError
from desktop.models.keys import ApiKeyTableModel


def python_snippet(base_url: str, key: str) -> str:
    """Ready-to-paste code for the public ``agentaudit-client`` package."""
    return (
        "# pip install agentaudit-client\n"
        "from agentaudit import AgentAudit\n\n"
        f'audit = AgentAudit(api_key="{key}",\n'
        f'                   base_url="{base_url}/api/v1", agent_id="my-agent")\n'
        'audit.log(action="llm_call", prompt="Summarise the report", response="Revenue grew 4%",\n'
        '          metadata={"model": "gpt-4o", "tokens": 340}, trace_id="run-1")\n'
    )


def curl_snippet(base_url: str, key: str) -> str:
    return (
        f"curl -X POST {base_url}/api/v1/audit-logs \\\n"
        f'  -H "X-API-Key: {key}" \\\n'
        '  -H "Content-Type: application/json" \\\n'
        """  -d '{"action": "llm_call", "agentId": "my-agent", "prompt": "hello"}'\n"""
    )


def new_key_problem(name: str, scopes: list[str]) -> str | None:
    """What stops a key from being created with this name and these scopes, as a sentence; None when nothing."""
    if not name.strip():
        return "Give the key a name, e.g. the agent that will use it."
    if not scopes:
        return "Choose at least one scope."
    return None


class KeysPresenter(QObject):
    """Signals:
        created(object): a :class:`schemas.CreatedApiKey` (its secret is never kept here).
        revoked(str): the key id.
        failed(str): a sentence.
    """

    created = Signal(object)
    revoked = Signal(str)
    failed = Signal(str)

    def __init__(self, client: SidecarClient, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._client = client
        self.model = ApiKeyTableModel(client, self)
        self.model.failed.connect(lambda error: self.failed.emit(f"Could not list the keys: {error.message}"))

    @property
    def base_url(self) -> str:
        return self._client.base_url

    def refresh(self) -> None:
        self.model.reload()

    def create(self, name: str, scopes: list[str]) -> None:
        problem = new_key_problem(name, scopes)
        if problem is not None:
            self.failed.emit(problem)
            return
        call = self._client.create_api_key(name.strip(), [s for s in schemas.SCOPES if s in scopes])
        call.done.connect(self._created)
        call.failed.connect(lambda error: self.failed.emit(f"Could not create the key: {_say(error)}"))

    def _created(self, created: schemas.CreatedApiKey) -> None:
        self.created.emit(created)
        self.model.reload()

    def revoke(self, key_id: str) -> None:
        call = self._client.revoke_api_key(key_id)
        call.done.connect(lambda _none: self._revoked(key_id))
        call.failed.connect(lambda error: self.failed.emit(f"Could not revoke the key: {_say(error)}"))

    def _revoked(self, key_id: str) -> None:
        self.model.remove(key_id)
        self.revoked.emit(key_id)


def _say(error: ApiError) -> str:
    if error.details:
        return "; ".join(f"{d.field}: {d.message}" for d in error.details)
    return error.message
