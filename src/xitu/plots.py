"""House style and figure saving.

Every figure is saved three times under ``figures/<notebook>/``: ``<name>.png``,
``<name>.svg`` and ``<name>.csv`` — the data the figure plots, so a reader can check or redraw
it. Chinese glyphs are drawn with the Noto Sans CJK SC font shipped inside this package
(``xitu/fonts``, SIL Open Font License), so every machine draws the same. File metadata
(software version, dates) is stripped and SVG ids are salted with a fixed string, so two runs
give byte-identical files.
"""

from __future__ import annotations

import base64
import functools
import io
from importlib import resources
from pathlib import Path

import matplotlib
import matplotlib.pyplot as plt
import pandas as pd
from matplotlib import font_manager

CJK_FONT_FILE = "NotoSansCJKsc-Regular.otf"
CJK_FONT = "Noto Sans CJK SC"
# Okabe–Ito: distinguishable with colour-blindness, printable in grey.
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000"]
STANCE_COLORS = {
    "escalation": "#D55E00",
    "cooperation": "#009E73",
    "self-reliance": "#0072B2",
    "none": "#999999",
}
PNG_DPI = 150

_STYLE = {
    "font.family": "sans-serif",
    "font.sans-serif": [CJK_FONT, "DejaVu Sans"],
    "axes.unicode_minus": False,
    "font.size": 10,
    "axes.titlesize": 12,
    "axes.titleweight": "normal",  # the bundled CJK font has one weight (Regular)
    "axes.titlelocation": "left",
    "axes.labelsize": 10,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "axes.grid.axis": "both",
    "grid.color": "#dddddd",
    "grid.linewidth": 0.6,
    "axes.axisbelow": True,
    "axes.prop_cycle": matplotlib.cycler(color=PALETTE),
    "legend.frameon": False,
    "figure.figsize": (8, 4.5),
    "figure.dpi": 100,
    "figure.constrained_layout.use": True,
    "savefig.dpi": PNG_DPI,
    "svg.fonttype": "path",
    "svg.hashsalt": "xitu",
    "path.simplify": True,
    "image.cmap": "viridis",
}


def cjk_font_path() -> Path:
    """Path of the bundled CJK font."""
    return Path(str(resources.files("xitu") / "fonts" / CJK_FONT_FILE))


FONT_FAMILY = "xitu-cjk"
_CJK_RANGE = "U+2E80-9FFF, U+AC00-D7AF, U+F900-FAFF, U+FE30-FE4F, U+FF00-FFEF, U+20000-2FFFF"
#: JupyterLab's rendered Markdown and outputs: where notebook prose and tables show Chinese.
NOTEBOOK_SELECTORS = (".jp-RenderedMarkdown, .jp-RenderedHTMLCommon, .jp-RenderedText, "
                      ".jp-OutputArea-output, .jp-MarkdownOutput")


def _is_cjk(ch: str) -> bool:
    o = ord(ch)
    return 0x2E80 <= o <= 0x9FFF or 0xAC00 <= o <= 0xD7AF or 0xF900 <= o <= 0xFAFF or 0xFE30 <= o <= 0xFE4F \
        or 0xFF00 <= o <= 0xFFEF or 0x20000 <= o <= 0x2FFFF


@functools.lru_cache(maxsize=8)
def _subset_font(chars: str) -> bytes:
    """The shipped Noto Sans CJK SC cut down to ``chars`` (fontTools), as WOFF (zlib)."""
    from fontTools import subset
    from fontTools.ttLib import TTFont

    opts = subset.Options()
    opts.flavor = "woff"
    opts.layout_features = ["*"]
    font = TTFont(str(cjk_font_path()), lazy=True)
    sub = subset.Subsetter(opts)
    sub.populate(text=chars)
    sub.subset(font)
    buf = io.BytesIO()
    font.save(buf)
    return buf.getvalue()


def cjk_font_css(text: str, selectors: str = NOTEBOOK_SELECTORS,
                 fallback: str = "var(--jp-content-font-family, sans-serif)") -> str:
    """A ``<style>`` serving the package's Noto Sans CJK SC (``src/xitu/fonts``) to the browser
    as the font family ``xitu-cjk``, cut down to the Chinese characters of ``text`` (a few
    hundred kB instead of 16 MB), and making it the first family of ``selectors`` (then
    ``fallback``, JupyterLab's own font for Latin text): on a
    machine without a CJK font, Chinese then renders instead of empty boxes. Latin text keeps
    JupyterLab's font (the face covers only CJK code points). Empty if ``text`` has no
    Chinese, or if the font cannot be read (nothing else depends on it)."""
    chars = "".join(sorted({ch for ch in text if _is_cjk(ch)}))
    if not chars:
        return ""
    try:
        data = _subset_font(chars)
    except Exception:  # a missing or broken font must not stop a notebook
        return ""
    b64 = base64.b64encode(data).decode("ascii")
    return ("<style>"
            f"@font-face{{font-family:\"{FONT_FAMILY}\";src:url(data:font/woff;base64,{b64}) format(\"woff\");"
            f"unicode-range:{_CJK_RANGE};font-display:block}}"
            f"{selectors}{{font-family:\"{FONT_FAMILY}\", {fallback}, sans-serif}}"
            "</style>")


def show_notebook_fonts(notebook: str | Path) -> None:
    """In a running notebook, serve the CJK font for the Chinese of ``notebook``'s own cells
    (Markdown prose and code) to JupyterLab's rendered Markdown and outputs. Does nothing
    outside IPython or when the notebook holds no Chinese."""
    try:
        from IPython import get_ipython
        from IPython.display import HTML, display
    except ImportError:  # pragma: no cover
        return
    if get_ipython() is None:
        return
    try:
        text = Path(notebook).read_text(encoding="utf-8")
    except OSError:
        return
    css = cjk_font_css(text)
    if css:
        display(HTML(css))


def apply_style() -> None:
    """Register the bundled CJK font and set the house style (idempotent)."""
    path = str(cjk_font_path())
    if not any(f.fname == path for f in font_manager.fontManager.ttflist):
        font_manager.fontManager.addfont(path)
    matplotlib.rcParams.update(_STYLE)


def figure(*args, **kwargs):
    """``plt.subplots`` in the house style."""
    apply_style()
    return plt.subplots(*args, **kwargs)


def save_figure(fig, data: pd.DataFrame, name: str, folder: str | Path, close: bool = True) -> dict[str, Path]:
    """Save ``fig`` as PNG and SVG and ``data`` as CSV, all named ``name`` in ``folder``.

    Output is byte-identical across runs with the same inputs and library versions. The CSV
    is formula-safe (:func:`xitu.io.excel_safe`: a text cell starting with ``= + - @`` gets a
    leading ``'``).
    Returns the three paths.
    """
    if not name or any(c in name for c in "/\\ "):
        raise ValueError(f"figure name {name!r}: use a plain file stem such as 'articles_per_day'")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = {ext: folder / f"{name}.{ext}" for ext in ("png", "svg", "csv")}
    fig.savefig(paths["png"], format="png", dpi=PNG_DPI, metadata={"Software": None})
    fig.savefig(paths["svg"], format="svg", metadata={"Date": None, "Creator": None})
    # 4 significant digits: what a reader needs, and far above the last-bit noise of
    # floating point on different CPUs, BLAS kernels and thread counts. Formula-safe like every
    # table people open in a spreadsheet (a topic named "-1 · outliers" would be a formula).
    from xitu.io import write_csv

    write_csv(data, paths["csv"], safe=True, float_format="%.4g")
    if close:
        plt.close(fig)
    return paths


def barh(series: pd.Series, title: str, xlabel: str = "", color: str | None = None, ax=None, top_down: bool = True):
    """Horizontal bar chart of a labelled series (largest on top); returns ``(fig, ax)``."""
    if ax is None:
        fig, ax = figure(figsize=(7, max(2.2, 0.32 * len(series) + 1)))
    else:
        fig = ax.figure
    s = series.iloc[::-1] if top_down else series
    ax.barh([str(i) for i in s.index], s.values, color=color or PALETTE[0])
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.grid(axis="y", visible=False)
    return fig, ax


def wrap(text: str, width: int = 28) -> str:
    """Wrap a label for a tick: by words for English, by characters for Chinese."""
    import textwrap

    if " " in text:
        return "\n".join(textwrap.wrap(text, width))
    return "\n".join(text[i:i + width] for i in range(0, len(text), width))
