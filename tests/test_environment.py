"""Pins agree across pyproject.toml, environment.yml and the lock files."""
from __future__ import annotations

import re
import tomllib


def _pins(lines):
    out = {}
    for line in lines:
        m = re.match(r"^\s*-?\s*\"?([A-Za-z0-9_.\-]+)==([^\s\"#,]+)", line)
        if m:
            out[m.group(1).lower().replace("_", "-")] = m.group(2)
    return out


def test_environment_yml_matches_pyproject(root):
    py = tomllib.loads((root / "pyproject.toml").read_text())
    pyproject = _pins(py["project"]["dependencies"] + py["project"]["optional-dependencies"]["dev"])
    env = _pins((root / "environment.yml").read_text().splitlines())
    assert env == pyproject


def test_lock_files_agree_with_pyproject(root):
    py = tomllib.loads((root / "pyproject.toml").read_text())
    runtime = _pins((root / "requirements/runtime.lock").read_text().splitlines())
    dev = _pins((root / "requirements/dev.lock").read_text().splitlines())
    for name, version in _pins(py["project"]["dependencies"]).items():
        assert runtime.get(name) == version, f"{name}: pyproject {version}, runtime.lock {runtime.get(name)}"
    for name, version in _pins(py["project"]["optional-dependencies"]["dev"]).items():
        assert dev.get(name) == version, f"{name}: pyproject {version}, dev.lock {dev.get(name)}"
    assert not set(runtime) & set(dev), "a package is pinned in both lock files"
    assert "torch" not in runtime and "sentence-transformers" not in runtime


def test_installed_versions_match_runtime_lock(root):
    from importlib import metadata

    runtime = _pins((root / "requirements/runtime.lock").read_text().splitlines())
    for name in ("bertopic", "jieba", "pandas", "scikit-learn", "matplotlib", "umap-learn"):
        assert metadata.version(name) == runtime[name]
