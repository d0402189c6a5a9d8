"""The compliance package is pure: no I/O libraries and no other sidecar packages."""

from __future__ import annotations

import ast
from pathlib import Path

import sidecar.compliance

PACKAGE = Path(sidecar.compliance.__file__).parent
FORBIDDEN = ("aiohttp", "peewee", "sqlite3", "socket", "requests", "urllib", "http", "subprocess", "asyncio")


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_no_io_or_other_sidecar_imports() -> None:
    for path in sorted(PACKAGE.glob("*.py")):
        for name in _imports(path):
            root = name.split(".")[0]
            assert root not in FORBIDDEN, f"{path.name} imports {name}"
            if name.startswith("sidecar."):
                assert name.startswith("sidecar.compliance"), f"{path.name} imports {name}"


def test_modules_are_small_and_documented() -> None:
    for path in sorted(PACKAGE.glob("*.py")):
        text = path.read_text(encoding="utf-8")
        assert len(text.splitlines()) < 400, path.name
        assert ast.get_docstring(ast.parse(text)), path.name
        if path.name != "__init__.py":
            assert "from __future__ import annotations" in text, path.name
