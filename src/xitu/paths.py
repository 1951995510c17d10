"""Where things live. Every path is derived from the project root, which is found by walking
up from the working directory to the folder holding ``pyproject.toml`` and ``data/``, or set
explicitly with the ``XITU_ROOT`` environment variable."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


def find_root(start: Path | None = None) -> Path:
    """Return the project root (``XITU_ROOT`` if set, else the nearest parent with
    ``pyproject.toml`` and ``data/``; falls back to the source checkout of this package)."""
    env = os.environ.get("XITU_ROOT")
    if env:
        return Path(env).resolve()
    here = (start or Path.cwd()).resolve()
    for p in (here, *here.parents):
        if (p / "pyproject.toml").is_file() and (p / "data").is_dir():
            return p
    pkg_root = Path(__file__).resolve().parents[2]
    if (pkg_root / "pyproject.toml").is_file():
        return pkg_root
    raise FileNotFoundError(
        f"cannot find the xitu project root from {here}: no parent holds pyproject.toml and "
        "data/. Run from inside the project or set XITU_ROOT."
    )


@dataclass(frozen=True)
class Paths:
    """The project's folders, all under one root."""

    root: Path

    @classmethod
    def default(cls) -> "Paths":
        return cls(find_root())

    @property
    def raw(self) -> Path:
        return self.root / "data" / "raw"

    @property
    def processed(self) -> Path:
        return self.root / "data" / "processed"

    @property
    def lexicon(self) -> Path:
        return self.root / "data" / "lexicon"

    @property
    def labels(self) -> Path:
        return self.root / "data" / "labels"

    @property
    def figures(self) -> Path:
        return self.root / "figures"

    @property
    def notebooks(self) -> Path:
        return self.root / "notebooks"

    @property
    def cache(self) -> Path:
        return self.root / ".cache"

    @property
    def build(self) -> Path:
        return self.root / "build"


def cache_dir(kind: str, root: Path | None = None) -> Path:
    """Where xitu caches ``kind`` (``jieba``, ``embeddings``): ``$XITU_CACHE/<kind>`` when set,
    else the ``.cache/<kind>`` of the project ``root`` (or of the project found from the
    working directory), else ``~/.cache/xitu/<kind>`` outside any project."""
    env = os.environ.get("XITU_CACHE")
    if env:
        return Path(env) / kind
    if root is not None:
        return Paths(Path(root)).cache / kind
    try:
        return Paths.default().cache / kind
    except FileNotFoundError:
        return Path.home() / ".cache" / "xitu" / kind
