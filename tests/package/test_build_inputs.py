"""packaging/build.py rebuilds only when an input of the bundle changed: what counts as one, and what does not."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

from tests.helpers import ROOT


def _build_module() -> ModuleType:
    # loaded by path: a directory named packaging/ must not be imported as (or instead of) the packaging library
    spec = importlib.util.spec_from_file_location("agentaudit_build", ROOT / "packaging" / "build.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _tree(root: Path) -> None:
    for name, text in {"agentaudit_cli.py": "cli", "agentaudit.spec": "spec", "pyproject.toml": "[project]",
                       "sidecar/api/app.py": "app", "sidecar/compliance/packs/hipaa.json": "{}",
                       "desktop/app.py": "desktop", "packaging/icons/agentaudit-16.png": "png",
                       "tests/test_x.py": "test", "bench/x.py": "bench", "README.md": "readme"}.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)


def test_sources_spec_and_data_are_inputs_but_caches_tests_and_docs_are_not(tmp_path: Path) -> None:
    build = _build_module()
    _tree(tmp_path)
    first = build.fingerprint(tmp_path)
    assert [p.relative_to(tmp_path).as_posix() for p in build.input_files(tmp_path)] == [
        "agentaudit_cli.py", "agentaudit.spec", "pyproject.toml", "sidecar/api/app.py",
        "sidecar/compliance/packs/hipaa.json", "desktop/app.py", "packaging/icons/agentaudit-16.png"]
    (tmp_path / "sidecar" / "api" / "__pycache__").mkdir()
    (tmp_path / "sidecar" / "api" / "__pycache__" / "app.cpython-311.pyc").write_bytes(b"\0")
    (tmp_path / "tests" / "test_x.py").write_text("changed")
    (tmp_path / "README.md").write_text("changed")
    assert build.fingerprint(tmp_path) == first
    for changed in ("sidecar/compliance/packs/hipaa.json", "agentaudit.spec", "desktop/app.py"):
        original = (tmp_path / changed).read_text()
        (tmp_path / changed).write_text(original + " ")
        assert build.fingerprint(tmp_path) != first, changed
        (tmp_path / changed).write_text(original)
    assert build.fingerprint(tmp_path) == first
    (tmp_path / "desktop" / "new.py").write_text("")
    assert build.fingerprint(tmp_path) != first


def test_a_build_is_due_without_the_executable_or_with_a_stale_stamp(tmp_path: Path) -> None:
    build = _build_module()
    _tree(tmp_path)
    assert not build.up_to_date(tmp_path)
    exe = build.executable(tmp_path / "dist" / "agentaudit")
    exe.parent.mkdir(parents=True)
    exe.write_text("")
    (tmp_path / "build").mkdir()
    (tmp_path / "build" / "agentaudit.inputs").write_text(build.fingerprint(tmp_path) + "\n")
    assert build.up_to_date(tmp_path)
    (tmp_path / "sidecar" / "api" / "app.py").write_text("edited")
    assert not build.up_to_date(tmp_path)
