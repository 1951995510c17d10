"""House style: byte-identical output, CJK glyphs drawn with the bundled font."""
from __future__ import annotations

import warnings

import pandas as pd
import pytest

from xitu import plots


def _draw(folder):
    fig, ax = plots.figure()
    ax.bar(["稀土管控", "稀土技術", "exports"], [3, 1, 2])
    ax.set_title("中文标题 and English")
    return plots.save_figure(fig, pd.DataFrame({"q": ["稀土管控"], "n": [3]}), "demo", folder)


def test_two_saves_are_byte_identical(tmp_path):
    a = _draw(tmp_path / "a")
    b = _draw(tmp_path / "b")
    for ext in ("png", "svg", "csv"):
        assert a[ext].read_bytes() == b[ext].read_bytes(), ext
    assert b"Software" not in a["png"].read_bytes()
    assert b"<dc:date>" not in a["svg"].read_bytes()


def test_chinese_glyphs_found_in_the_bundled_font(tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # matplotlib warns "Glyph ... missing from font(s)"
        _draw(tmp_path)
    from matplotlib import font_manager

    found = font_manager.findfont(font_manager.FontProperties(family=plots.CJK_FONT), fallback_to_default=False)
    assert found == str(plots.cjk_font_path())


def test_bad_figure_name_is_refused(tmp_path):
    fig, _ = plots.figure()
    with pytest.raises(ValueError, match="plain file stem"):
        plots.save_figure(fig, pd.DataFrame(), "a/b", tmp_path)


def test_figure_tables_are_formula_safe(tmp_path):
    """Issue 12.12 for the tables behind the figures: a topic named "-1 · outliers" or a title
    "=SUM(…)" would run as a formula in a spreadsheet; numbers stay numbers."""
    import matplotlib.pyplot as plt
    import pandas as pd

    from xitu.plots import save_figure

    fig, ax = plt.subplots()
    paths = save_figure(fig, pd.DataFrame({"topic_name": ["-1 · outliers", "0 · 稀土"], "title": ["=SUM(A1)", "ok"],
                                           "share": [-0.5, 0.25]}), "t", tmp_path)
    text = paths["csv"].read_text(encoding="utf-8")
    assert "'-1 · outliers" in text and "'=SUM(A1)" in text and "-0.5" in text and "'-0.5" not in text
