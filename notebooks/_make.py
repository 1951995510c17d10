"""Helpers to write the pipeline notebooks from plain Python lists of cells.

Notebooks are stored without outputs; each has a cell tagged ``parameters`` (papermill).
Usage from a builder script: ``write_notebook(path, [md("# Title"), params(), code("...")])``.
"""
from __future__ import annotations

import nbformat

PARAMS = '''# Parameters (papermill overrides these; see xitu.pipeline)
root = None         # project root; None: found from the working directory
figures_dir = None  # None: figures/<this notebook>
seed = 20261123'''


def md(src: str):
    return nbformat.v4.new_markdown_cell(src.strip("\n"))


def code(src: str):
    return nbformat.v4.new_code_cell(src.strip("\n"))


def params(extra: str = ""):
    c = nbformat.v4.new_code_cell((PARAMS + ("\n" + extra.strip("\n") if extra else "")))
    c.metadata["tags"] = ["parameters"]
    return c


def write_notebook(path, cells) -> None:
    nb = nbformat.v4.new_notebook()
    nb.cells = cells
    nb.metadata["kernelspec"] = {"display_name": "Python 3", "language": "python", "name": "python3"}
    nb.metadata["language_info"] = {"name": "python"}
    for i, c in enumerate(nb.cells):
        c["id"] = f"cell-{i:02d}"
    nbformat.write(nb, str(path))
