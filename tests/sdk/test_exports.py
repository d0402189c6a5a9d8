"""The package's public surface: ``__all__`` is complete and sorted; the distribution stands alone."""

from __future__ import annotations

import ast
from pathlib import Path

import agentaudit
from tests.helpers import ROOT

SDK = ROOT / "sdk" / "python" / "agentaudit"


def test_all_is_complete_and_sorted() -> None:
    submodules = {"integrations", "langchain", "openai"}  # the last two: the older client's, once imported
    public = {name for name in dir(agentaudit) if not name.startswith("_")} - {"annotations"} - submodules
    hidden = {"TimeoutError"}  # the older client's name: importable, kept out of star imports (it shadows a builtin)
    assert set(agentaudit.__all__) == (public - hidden) | {"__version__"}
    assert agentaudit.__all__ == sorted(agentaudit.__all__)


def test_the_sdk_imports_only_the_standard_library_and_itself() -> None:
    allowed_third_party = {"langchain_core": "integrations/langchain.py", "agents": "integrations/openai_agents.py",
                           "openai": "openai.py"}  # agentaudit.openai: the older client's module
    for path in SDK.rglob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else (
                [node.module or ""] if isinstance(node, ast.ImportFrom) and node.level == 0 else [])
            for name in names:
                top = name.split(".")[0]
                if top in ("agentaudit", "__future__") or top in __import__("sys").stdlib_module_names:
                    continue
                assert allowed_third_party.get(top) == path.relative_to(SDK).as_posix(), f"{path}: imports {name}"


def test_modules_stay_small() -> None:
    sizes = {p.relative_to(SDK).as_posix(): len(p.read_text().splitlines()) for p in SDK.rglob("*.py")}
    assert max(sizes.values()) <= 400, sizes


def test_version_matches_the_distribution() -> None:
    text = (SDK.parent / "pyproject.toml").read_text()
    assert f'version = "{agentaudit.__version__}"' in text and Path(agentaudit.__file__).parent == SDK
