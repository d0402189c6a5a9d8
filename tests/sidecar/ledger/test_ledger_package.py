"""The ledger package stays pure (no I/O, no app layers) and exports a complete, sorted API."""

from __future__ import annotations

import ast
from pathlib import Path

import sidecar.ledger as ledger

PACKAGE = Path(ledger.__file__).parent
ALLOWED_IMPORTS = {
    "__future__", "base64", "binascii", "collections", "dataclasses", "datetime", "enum", "hashlib", "heapq",
    "itertools", "re", "typing", "cryptography", "orjson",
}  # fmt: skip
FORBIDDEN_CALLS = {"open", "print", "input", "exec", "eval"}


def _modules() -> list[Path]:
    return sorted(PACKAGE.glob("*.py"))


def test_only_pure_dependencies_are_imported() -> None:
    for path in _modules():
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                roots = {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                roots = {node.module.split(".")[0]}
            else:
                continue
            assert roots <= ALLOWED_IMPORTS, f"{path.name}:{node.lineno} imports {roots - ALLOWED_IMPORTS}"


def test_no_io_builtins_are_called() -> None:
    for path in _modules():
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                assert node.func.id not in FORBIDDEN_CALLS, f"{path.name}:{node.lineno} calls {node.func.id}()"


def test_every_module_has_a_docstring_and_future_annotations() -> None:
    for path in _modules():
        tree = ast.parse(path.read_text(), str(path))
        assert ast.get_docstring(tree), path.name
        futures = [n for n in tree.body if isinstance(n, ast.ImportFrom) and n.module == "__future__"]
        assert futures and futures[0].names[0].name == "annotations", path.name


def test_all_is_sorted_and_complete() -> None:
    public = {name for name in vars(ledger) if not name.startswith("_")}
    submodules = {path.stem for path in _modules()} - {"__init__"}

    assert ledger.__all__ == sorted(ledger.__all__, key=lambda name: (not name.isupper(), name))
    assert public - submodules - {"annotations"} == set(ledger.__all__)
