"""The notebook widget, driven through its button click handlers and key-box observer, and
the 04-label notebook executed headless."""
from __future__ import annotations

import html
import json
import shutil
from pathlib import Path

import pytest

from xitu.label_widget import LabelWidget, labelling_app, md_inline
from xitu.labelling import LabellingSession, read_codebook
from xitu.labels import read_log, replay
from xitu.paths import Paths

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def segments(seed_corpus):
    return seed_corpus.segments_with_articles()


@pytest.fixture
def widget(segments, tmp_path):
    s = LabellingSession("w1", segments, tmp_path, order="corpus", show_guess=False)
    return LabelWidget(s, codebook=read_codebook(ROOT / "data" / "labels" / "CODEBOOK.md"), goal=5)


def current_log(folder, name="w1") -> dict:
    cur = replay(read_log(Path(folder) / f"{name}.jsonl").entries)
    return dict(zip(cur.segment_id, cur.label))


def test_buttons_write_labels_and_move_on(widget, segments, tmp_path):
    ids = list(segments.segment_id)
    assert ids[0] in widget.card.value and "全球稀土产业链格局重塑" in widget.card.value  # segment id, title
    assert segments.text[0] in html.unescape(widget.card.value)
    assert set(widget.buttons) == {"escalation", "cooperation", "self-reliance", "none"}
    assert widget.undo_button.disabled  # nothing to undo yet
    widget.buttons["escalation"].click()
    assert current_log(tmp_path) == {ids[0]: "escalation"}
    assert f"saved escalation for {ids[0]}" in widget.message.value
    assert ids[1] in widget.card.value and "Group 1: Policy Impact" in widget.card.value
    assert widget.progress_bar.value == 1 and widget.progress_bar.max == 5
    assert "1 / 5 this session" in widget.progress_text.value
    widget.buttons["none"].click()
    widget.skip_button.click()
    assert ids[2] not in widget.card.value and ids[3] in widget.card.value
    assert not (tmp_path / "w1.jsonl").read_text().count(ids[2])  # skip writes nothing
    widget.undo_button.click()
    assert ids[1] in widget.card.value and "shown again after undo" in widget.card.value
    assert current_log(tmp_path) == {ids[0]: "escalation"}
    assert widget.progress_bar.value == 1


def test_keyboard_shortcuts_through_the_keys_box(widget, segments, tmp_path):
    ids = list(segments.segment_id)
    widget.keys_box.value = "c"
    assert widget.keys_box.value == ""  # the box clears itself after each key
    widget.keys_box.value = "S"  # case does not matter
    widget.keys_box.value = "k"
    widget.keys_box.value = "n"
    assert current_log(tmp_path) == {ids[0]: "cooperation", ids[1]: "self-reliance", ids[3]: "none"}
    widget.keys_box.value = "u"
    assert current_log(tmp_path) == {ids[0]: "cooperation", ids[1]: "self-reliance"}
    assert ids[3] in widget.card.value
    widget.keys_box.value = "z"
    assert "does nothing" in widget.message.value
    assert len(current_log(tmp_path)) == 2


def test_finish_disables_labelling(widget, tmp_path):
    widget.buttons["cooperation"].click()
    widget.finish_button.click()
    assert "Session finished" in widget.card.value and "finished: 1 label(s)" in widget.message.value
    assert all(b.disabled for b in widget.buttons.values()) and widget.keys_box.disabled
    widget.on_label("none")  # a late click is refused with a message, nothing written
    assert "not saved" in widget.message.value and len(current_log(tmp_path)) == 1


def test_stale_click_writes_nothing(widget, tmp_path):
    widget._shown = "some-other-segment"  # the page showed an older segment
    widget.buttons["none"].click()
    assert "not saved" in widget.message.value and "no longer the one shown" in widget.message.value
    assert not (tmp_path / "w1.jsonl").exists()


def test_name_prompt_refuses_odd_names_then_starts(segments, tmp_path):
    opened = []

    def opener(name):
        s = LabellingSession(name, segments, tmp_path, order="corpus", show_guess=False)
        opened.append(name)
        return s

    w = LabelWidget(open_session=opener)
    assert w.session is None and not w.buttons
    w.name_box.value = "no spaces please"
    w.start_button.click()
    assert "refused" in w.message.value and w.session is None and not w.start_button.disabled
    w.name_box.value = "  w2 "
    w.start_button.click()
    assert opened == ["w2"] and set(w.buttons) == {"escalation", "cooperation", "self-reliance", "none"}
    w.buttons["self-reliance"].click()
    assert current_log(tmp_path, "w2") == {segments.segment_id[0]: "self-reliance"}


def test_codebook_panel(widget):
    acc = widget.codebook_panel
    titles = list(acc.titles)
    assert titles[:4] == ["escalation  [e]", "cooperation  [c]", "self-reliance  [s]", "none  [n]"]
    assert "decision rules for the hard cases" in titles and titles[-1] == "keyboard shortcuts"
    assert "export controls imposed" in acc.children[0].value
    assert "<b>Label the point, not every word.</b>" in acc.children[4].value


def test_md_inline_escapes_html():
    assert md_inline("**a** <b> `x` *i*") == "<b>a</b> &lt;b&gt; <code>x</code> <i>i</i>"


def test_notice_and_broken_log_are_shown(segments, tmp_path):
    (tmp_path / "w3.jsonl").write_bytes(b'{"action": "label", "annot')  # a half-written line
    s = LabellingSession("w3", segments, tmp_path, order="corpus", show_guess=False)
    w = LabelWidget(s)
    assert "half-written last line" in w.header.value


def test_app_on_a_project_copy_with_classifier(tmp_path):
    root = tmp_path
    (root / "data" / "labels").mkdir(parents=True)
    for sub in ("raw", "lexicon"):
        shutil.copytree(ROOT / "data" / sub, root / "data" / sub)
    for f in (ROOT / "data" / "labels").glob("*"):
        shutil.copy(f, root / "data" / "labels")
    paths = Paths(root)
    before = {f.name: f.read_bytes() for f in paths.labels.glob("*.jsonl")}
    app = labelling_app(None, paths, goal=3)
    assert app.session is None and "Who is labelling?" in app.widget.children[0].value
    app = labelling_app("fresh", paths, goal=3, order="entropy", pool="own", show_guess=True)
    s = app.session
    assert s.model is not None and "least certain first (entropy)" in app.header.value
    assert "classifier guess: <b>" in app.guess.value
    app.buttons["escalation"].click()
    assert {f.name: f.read_bytes() for f in paths.labels.glob("*.jsonl") if f.name != "fresh.jsonl"} == before
    assert [e["label"] for e in read_log(paths.labels / "fresh.jsonl").entries] == ["escalation"]


def test_notebook_executes_headless_and_makes_no_label(tmp_path):
    """What the pipeline does with 04-label.ipynb: run it without anyone at the keyboard."""
    import nbformat
    from nbclient import NotebookClient

    root = tmp_path / "proj"
    (root / "data" / "labels").mkdir(parents=True)
    for sub in ("raw", "lexicon"):
        shutil.copytree(ROOT / "data" / sub, root / "data" / sub)
    shutil.copy(ROOT / "data" / "labels" / "CODEBOOK.md", root / "data" / "labels")
    nb = nbformat.read(ROOT / "notebooks" / "04-label.ipynb", as_version=4)
    params = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(params) == 1 and "annotator = None" in params[0].source
    params[0].source += f"\nroot = {str(root)!r}"
    NotebookClient(nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(root)}}).execute()
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    assert not [o for o in outputs if o.output_type == "error"]
    widget_views = [o for o in outputs if "application/vnd.jupyter.widget-view+json" in o.get("data", {})]
    assert widget_views, "the widget is displayed"
    assert "0 current labels" in "".join(o.get("text", "") for o in outputs)
    assert list((root / "data" / "labels").glob("*.jsonl")) == []
    json.dumps(nb)  # the executed notebook is plain JSON


def test_second_window_is_refused_and_rerunning_the_cell_takes_over(tmp_path, segments, monkeypatch):
    """Two windows, one annotator (issue 12, item 8): a terminal session holds the log, so the
    widget refuses to start and says why; re-running the notebook cell in the same kernel
    finishes the earlier widget instead of being locked out by it."""
    root = tmp_path
    (root / "data" / "labels").mkdir(parents=True)
    paths = Paths(root)
    terminal = LabellingSession("w9", segments, paths.labels, order="corpus", show_guess=False)
    import xitu.label_widget as LW
    import xitu.labelling as LG
    monkeypatch.setattr(LG, "load_segments", lambda paths=None: segments)  # the corpus is already parsed
    app = labelling_app(None, paths, goal=3, order="corpus", show_guess=False)
    try:
        app.name_box.value = "w9"
        app.on_start()
        assert app.session is None and "annotator w9: another session holds" in app.message.value
        terminal.close()
        app.on_start()
        assert app.session is not None and not app.session.closed
        again = labelling_app("w9", paths, goal=3, order="corpus", show_guess=False)  # the cell re-run
        assert again.session is not None and not again.session.closed
        assert app.session.closed and "newer labelling widget" in app.message.value
    finally:
        LW._OPEN.clear()


def test_the_widget_serves_the_cjk_font_for_the_chinese_it_shows(segments, tmp_path):
    """Chinese renders as boxes without a CJK font (issue 12, item 14): the widget embeds the
    shipped Noto Sans CJK SC, cut down to the characters of its segments, as 'xitu-cjk'."""
    import base64
    import io
    import re as _re

    from fontTools.ttLib import TTFont

    s = LabellingSession("w7", segments, tmp_path, order="corpus", show_guess=False, language="zh")
    w = LabelWidget(s, codebook=read_codebook(ROOT / "data" / "labels" / "CODEBOOK.md"))
    css = w.font_style.value
    assert w.widget.children[0] is w.font_style and "xitu-label" in w.widget._dom_classes
    assert '@font-face{font-family:"xitu-cjk"' in css and 'font-family:"xitu-cjk", var(--jp-ui-font-family' in css
    data = base64.b64decode(_re.search(r"base64,([A-Za-z0-9+/=]+)\)", css).group(1))
    cmap = TTFont(io.BytesIO(data)).getBestCmap()
    shown = {ch for ch in s.current.text + s.current.title if ord(ch) >= 0x4E00 and ord(ch) <= 0x9FFF}
    assert shown and all(ord(ch) in cmap for ch in shown)  # every Chinese character shown has its glyph
    assert len(data) < 600_000 and ord("A") not in cmap  # a subset, Latin left to JupyterLab's font
    s.close()
