"""The labelling widget of ``notebooks/04-label.ipynb`` (ipywidgets 8), on
:class:`xitu.labelling.LabellingSession`.

It shows one segment with its article (date, source, title), its ``Group`` heading and the
classifier's guess when asked for (``show_guess=True``); a button per label, *skip*, *undo* and *finish*; a progress bar towards
a goal for the session; and the codebook's definitions and decision rules in an accordion.

Keyboard shortcuts (no JavaScript needed): click into the **keys** box under the buttons
and type ``e`` escalation, ``c`` cooperation, ``s`` self-reliance, ``n`` none, ``k`` skip,
``u`` undo. Each key acts once and the box clears itself. (ipywidgets 8 has no key events
on buttons; a text box receives keystrokes without interfering with JupyterLab's own
shortcuts.)

Every label is appended to ``data/labels/<annotator>.jsonl`` and fsynced before the next
segment appears (the message line says ``saved … ``); undo appends a retraction.
"""

from __future__ import annotations

import html
import re
import weakref
from pathlib import Path
from typing import Callable

import ipywidgets as W

from xitu.labels import LabelError
from xitu.labelling import Codebook, LabellingSession, SessionError

WIDGET_SELECTORS = (".xitu-label, .xitu-label .widget-html-content, .xitu-label button, .xitu-label input, "
                    ".xitu-label .lm-AccordionPanel-title, .xitu-label .jupyter-widget-Collapse-header")


def cjk_font_css(text: str) -> str:
    """The package's CJK font served to the widget's text (class ``xitu-label``), cut down to
    the Chinese characters of ``text``: see :func:`xitu.plots.cjk_font_css`."""
    from xitu.plots import cjk_font_css as css

    return css(text, WIDGET_SELECTORS, fallback="var(--jp-ui-font-family, sans-serif)")


BUTTON_STYLES = {"escalation": "danger", "cooperation": "success", "self-reliance": "info", "none": ""}


def md_inline(text: str) -> str:
    """Escape ``text`` for HTML and render the codebook's inline Markdown (``**bold**``,
    ``*italic*``, ```code```)."""
    t = html.escape(text)
    t = re.sub(r"`([^`]+)`", r"<code>\1</code>", t)
    t = re.sub(r"\*\*(.+?)\*\*", r"<b>\1</b>", t)
    t = re.sub(r"(?<![\w*])\*(?!\s)(.+?)(?<!\s)\*(?![\w*])", r"<i>\1</i>", t)
    return t


def codebook_accordion(codebook: Codebook | None, keys: dict[str, str]) -> W.Accordion:
    """An accordion with each label's definition, the decision rules and the shortcuts."""
    children, titles = [], []
    cb = codebook or Codebook({}, [])
    for k, lab in keys.items():
        children.append(W.HTML(f"<div style='max-width:60em'>{md_inline(cb.definitions.get(lab, '(no definition found)'))}</div>"))
        titles.append(f"{lab}  [{k}]")
    if cb.rules:
        items = "".join(f"<li>{md_inline(r)}</li>" for r in cb.rules)
        children.append(W.HTML(f"<ol style='max-width:60em'>{items}</ol>"))
        titles.append("decision rules for the hard cases")
    keys_html = "".join(f"<li><code>{k}</code> {lab}</li>" for k, lab in keys.items())
    children.append(W.HTML(
        "<p>Click into the <b>keys</b> box, then type:</p>"
        f"<ul>{keys_html}<li><code>k</code> skip (this session only, nothing written)</li>"
        "<li><code>u</code> undo (retracts your last label of this session and shows it again)</li></ul>"))
    titles.append("keyboard shortcuts")
    acc = W.Accordion(children=children, titles=tuple(titles))
    acc.selected_index = None
    return acc


class LabelWidget:
    """The labelling front end. Give it a ``session``, or an ``open_session(name)`` callable:
    it then first asks for the annotator's name.

    Display it as the last expression of a cell (or with ``display``). The handlers
    (:meth:`on_label`, :meth:`on_skip`, :meth:`on_undo`, :meth:`on_finish`,
    :meth:`on_key`, :meth:`on_start`) are plain methods, so tests can drive them directly.
    """

    def __init__(self, session: LabellingSession | None = None, *,
                 open_session: Callable[[str], LabellingSession] | None = None,
                 codebook: Codebook | None = None, goal: int = 20, annotator: str = ""):
        if session is None and open_session is None:
            raise ValueError("give a session or an open_session(name) function")
        self.session = session
        self.open_session = open_session
        self.codebook = codebook
        self.goal = max(1, int(goal))
        self.widget = W.VBox(layout=W.Layout(width="100%"))
        self.widget.add_class("xitu-label")  # the served CJK font applies to this class
        self.font_style = W.HTML()  # <style> with the CJK font, filled when the session starts
        self.message = W.HTML()
        self.name_box = W.Text(value=annotator or "", description="annotator", placeholder="your name, e.g. alice",
                               continuous_update=True)
        self.start_button = W.Button(description="start labelling", button_style="primary", icon="play")
        self.start_button.on_click(lambda _b: self.on_start())
        self.buttons: dict[str, W.Button] = {}
        if session is not None:
            self._build()
        else:
            self.widget.children = [W.HTML("<b>Who is labelling?</b> Your labels go to "
                                           "<code>data/labels/&lt;name&gt;.jsonl</code>."),
                                    W.HBox([self.name_box, self.start_button]), self.message]

    # ----------------------------------------------------------------- display

    def _repr_mimebundle_(self, **kwargs):
        return self.widget._repr_mimebundle_(**kwargs)

    def _say(self, text: str, kind: str = "info") -> None:
        color = {"info": "#333", "ok": "#1a7f37", "error": "#b42318", "warn": "#9a6700"}[kind]
        self.message.value = f"<span style='color:{color}'>{html.escape(text)}</span>"

    def on_start(self) -> None:
        """Open the session for the name typed in (bad names are refused with a message)."""
        name = self.name_box.value.strip()
        self._say(f"opening a session for {name!r}: reading the corpus and training the classifier…")
        self.start_button.disabled = True
        try:
            self.session = self.open_session(name)
        except (LabelError, SessionError, ValueError, FileNotFoundError) as e:
            self.start_button.disabled = False
            self._say(str(e), "error")
            return
        except Exception as e:  # shown in the widget; a notebook callback would only log it
            self.start_button.disabled = False
            self._say(f"could not open the session: {type(e).__name__}: {e}", "error")
            return
        self._build()

    def _build(self) -> None:
        s = self.session
        s.on_status = lambda msg: self._say(msg, "info")
        self._shown: str | None = None
        self.header = W.HTML()
        self.card = W.HTML(layout=W.Layout(border="1px solid #ccc", padding="0.5em 1em", width="100%"))
        self.guess = W.HTML()
        self.buttons = {}
        for k, lab in s.keys.items():
            b = W.Button(description=f"{lab} [{k}]", button_style=BUTTON_STYLES.get(lab, ""),
                         tooltip=f"label this segment {lab} (key {k})", layout=W.Layout(width="auto"))
            b.on_click(lambda _b, lab=lab: self.on_label(lab))
            self.buttons[lab] = b
        self.skip_button = W.Button(description="skip [k]", icon="forward", tooltip="put aside for this session")
        self.undo_button = W.Button(description="undo [u]", icon="undo", tooltip="retract your last label of this session")
        self.finish_button = W.Button(description="finish", icon="stop", tooltip="end this session")
        self.skip_button.on_click(lambda _b: self.on_skip())
        self.undo_button.on_click(lambda _b: self.on_undo())
        self.finish_button.on_click(lambda _b: self.on_finish())
        self.keys_box = W.Text(value="", description="keys", continuous_update=True,
                               placeholder="click here, then type " + " ".join(s.keys) + " · k skip · u undo",
                               layout=W.Layout(width="32em"))
        self.keys_box.observe(self.on_key, names="value")
        self.progress_bar = W.IntProgress(value=0, min=0, max=self.goal, description="this session",
                                          bar_style="success")
        self.progress_text = W.HTML()
        self.codebook_panel = codebook_accordion(self.codebook, s.keys)
        cb = self.codebook or Codebook({}, [])
        shown = [s.candidates[c].fillna("").astype(str).str.cat() for c in ("text", "title", "section", "heading")
                 if c in s.candidates.columns]
        self.font_style.value = cjk_font_css("".join(shown) + "".join(cb.definitions.values()) + "".join(cb.rules))
        self.widget.children = [
            self.font_style, self.header, self.card, self.guess,
            W.HBox(list(self.buttons.values()) + [self.skip_button, self.undo_button, self.finish_button],
                   layout=W.Layout(flex_flow="row wrap")),
            self.keys_box, W.HBox([self.progress_bar, self.progress_text]), self.message,
            self.codebook_panel,
        ]
        if s.notice:
            self._say(s.notice, "warn")
        else:
            self._say("ready: click a label or type its key into the keys box")
        self.refresh()

    def refresh(self) -> None:
        """Redraw the header, the segment, the guess and the progress from the session."""
        s = self.session
        probs = "".join(f"<li><code>{html.escape(p)}</code></li>" for p in s.problem_lines())
        self.header.value = (f"<div style='font-size:90%;color:#555'>{html.escape(s.describe())}</div>"
                             + (f"<div style='color:#9a6700'>log lines not used:<ul>{probs}</ul></div>" if probs else ""))
        item = s.current
        done = item is None or s.closed
        for b in [*self.buttons.values(), self.skip_button, self.finish_button]:
            b.disabled = done
        self.undo_button.disabled = s.closed or not s.history
        self.keys_box.disabled = s.closed
        pr = s.progress()
        self.progress_bar.max = max(self.goal, pr.session_labelled)
        self.progress_bar.value = pr.session_labelled
        self.progress_text.value = (f"&nbsp;{pr.session_labelled} / {self.goal} this session · "
                                    f"{pr.own_total} by you in all · {pr.remaining} left"
                                    + (f" · {pr.skipped} skipped" if pr.skipped else ""))
        if s.closed:
            self.card.value = ("<b>Session finished.</b> Every label is in "
                               f"<code>{html.escape(str(s.log))}</code>. Rerun everything (<code>make</code>) "
                               "to retrain the classifier and redraw the figures.")
            self.guess.value = ""
            return
        if item is None:
            self.card.value = "<b>Nothing left to label</b> with these filters and this pool."
            self.guess.value = ""
            return
        meta = " · ".join(html.escape(x) for x in (item.published or "undated", item.source) if x)
        ctx = f"<div style='color:#555'><b>{html.escape(item.context)}</b></div>" if item.context else ""
        self.card.value = (
            f"<div style='color:#555;font-size:90%'>{meta}</div>"
            f"<div style='font-weight:bold'>{html.escape(item.title)}</div>{ctx}"
            f"<p style='font-size:120%;line-height:1.5'>{html.escape(item.text)}</p>"
            f"<div style='color:#888;font-size:80%'>{html.escape(item.segment_id)} · {html.escape(item.language)}"
            f" · {html.escape(item.why)}</div>")
        if item.guess is not None:
            probs = ", ".join(f"{k} {v:.2f}" for k, v in sorted(item.probabilities.items(), key=lambda kv: -kv[1]))
            self.guess.value = f"classifier guess: <b>{html.escape(item.guess)}</b> <span style='color:#888'>({probs})</span>"
        elif s.model is not None and not s.show_guess:
            self.guess.value = ("<span style='color:#888'>classifier guess hidden: read the segment first "
                                "(<code>show_guess=True</code> shows it)</span>")
        else:
            self.guess.value = "<span style='color:#888'>no classifier guess yet</span>"
        self._shown = item.segment_id

    # ----------------------------------------------------------------- handlers

    def _act(self, fn: Callable[[], str | None]) -> None:
        try:
            msg = fn()
        except (LabelError, SessionError, OSError) as e:
            self._say(f"not saved: {e}", "error")
        else:
            if msg:
                self._say(msg, "ok")
        self.refresh()

    def on_label(self, label: str) -> None:
        """Label the segment shown (the label is on disk before the next segment appears)."""
        def do():
            before = self.session.retrained
            e = self.session.label(label, segment_id=self._shown)
            msg = f"saved {e['label']} for {e['segment_id']}"
            if self.session.retrained != before:
                msg += f" · retrained: {self.session.model_status}"
            if self.session.notice:
                msg += f" · {self.session.notice}"
            return msg
        self._act(do)

    def on_skip(self) -> None:
        """Put the segment shown aside for this session."""
        def do():
            sid = self._shown
            self.session.skip(sid)
            return f"skipped {sid} (this session only, nothing written)"
        self._act(do)

    def on_undo(self) -> None:
        """Retract this session's last label and show that segment again."""
        def do():
            self.session.undo()
            return self.session.notice
        self._act(do)

    def on_finish(self) -> None:
        """End the session."""
        def do():
            pr = self.session.close()
            return f"finished: {pr.session_labelled} label(s) saved this session"
        self._act(do)

    def on_key(self, change) -> None:
        """A keystroke in the keys box: act on the last character typed, then clear the box."""
        new = change["new"] if isinstance(change, dict) else change
        if not new:
            return
        ch = new.strip()[-1:].lower()
        self.keys_box.value = ""
        s = self.session
        if s is None or not ch:
            return
        if ch in s.keys:
            self.on_label(s.keys[ch])
        elif ch == "k":
            self.on_skip()
        elif ch == "u":
            self.on_undo()
        else:
            self._say(f"key {ch!r} does nothing: " + " ".join(f"{k}={lab}" for k, lab in s.keys.items())
                      + " k=skip u=undo", "warn")


#: The widget of each (labels folder, annotator) opened by :func:`labelling_app` in this kernel.
_OPEN: dict[tuple[str, str], "weakref.ref[LabelWidget]"] = {}


def _finish_earlier_widget(folder, name: str) -> None:
    """Re-running the notebook's cell in the same kernel makes a new widget while the old
    one (kept alive by the output history) still holds the annotator's log: finish the old
    one (it says so) so the new one can start. Another kernel or a terminal is never touched:
    their sessions hold the lock and the new one is refused."""
    old = _OPEN.pop((str(folder), name), None)
    w = old() if old else None
    if w is not None and w.session is not None and not w.session.closed:
        w.session.close()
        w.refresh()
        w._say("finished: a newer labelling widget for the same annotator was opened in this notebook", "warn")


def labelling_app(annotator: str | None = None, paths=None, goal: int = 20, **options) -> LabelWidget:
    """The notebook's widget on the project's data. Without ``annotator`` it asks for a
    name first. ``options`` go to :class:`~xitu.labelling.LabellingSession` (order, pool,
    query, since, until, language, retrain_every, seed, show_guess)."""
    from xitu.labelling import load_segments, open_session, read_codebook
    from xitu.paths import Paths

    paths = paths or Paths.default()
    codebook = read_codebook(paths.labels / "CODEBOOK.md")
    cache: dict = {}

    def opener(name: str) -> LabellingSession:
        if "segments" not in cache:
            cache["segments"] = load_segments(paths)
        _finish_earlier_widget(paths.labels, name)
        session = open_session(name, paths, segments=cache["segments"], **options)
        _OPEN[(str(paths.labels), name)] = weakref.ref(w)
        return session

    w = LabelWidget(open_session=opener, codebook=codebook, goal=goal, annotator=annotator or "")
    if annotator:
        w.on_start()
    return w
