"""A real JupyterLab in headless Chromium: open 04-label.ipynb, run it, start a session,
click a label button and type a shortcut, and find both labels in the (temporary) log.

Needs Debian's chromium (``apt-get install -y chromium``) and Playwright for Python (dev.lock);
Playwright drives the system browser, it never downloads one. The server listens on
127.0.0.1 only, on a free port, with a random token; the project is a temporary copy
(``XITU_ROOT``), so no label reaches ``data/labels`` of the repository.
"""
from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason="Debian's chromium is not installed (/usr/bin/chromium missing): apt-get install -y chromium")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_project(tmp: Path) -> Path:
    root = tmp / "proj"
    (root / "data" / "labels").mkdir(parents=True)
    (root / "notebooks").mkdir()
    shutil.copytree(ROOT / "data" / "raw", root / "data" / "raw")
    shutil.copytree(ROOT / "data" / "lexicon", root / "data" / "lexicon")
    shutil.copy(ROOT / "data" / "labels" / "CODEBOOK.md", root / "data" / "labels")
    shutil.copy(ROOT / "notebooks" / "04-label.ipynb", root / "notebooks")
    import nbformat  # a Chinese Markdown cell, as a researcher's notes would have

    nb = nbformat.read(root / "notebooks" / "04-label.ipynb", as_version=4)
    cell = nbformat.v4.new_markdown_cell("### 稀土笔记：出口管制")
    cell["id"] = "zh-note"
    nb.cells.insert(1, cell)
    nbformat.write(nb, str(root / "notebooks" / "04-label.ipynb"))
    if (ROOT / ".cache" / "jieba").is_dir():
        shutil.copytree(ROOT / ".cache" / "jieba", root / ".cache" / "jieba")
    (root / "pyproject.toml").write_text("[project]\nname = 'scratch'\n")
    return root


def wait_until(cond, timeout: float, what: str, poll: float = 0.2):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        v = cond()
        if v:
            return v
        time.sleep(poll)
    raise TimeoutError(f"timed out after {timeout:.0f}s waiting for {what}")


@pytest.fixture
def lab(tmp_path):
    """A JupyterLab server on a temporary project copy; yields (url base, token, root)."""
    root = make_project(tmp_path)
    port, token = free_port(), secrets.token_hex(16)
    env = {**os.environ, "XITU_ROOT": str(root), "PYTHONHASHSEED": "0",
           "JUPYTER_CONFIG_DIR": str(tmp_path / "jcfg"), "JUPYTER_RUNTIME_DIR": str(tmp_path / "jrt"),
           "JUPYTER_DATA_DIR": str(tmp_path / "jdata"), "IPYTHONDIR": str(tmp_path / "ipy"),
           "JUPYTER_PLATFORM_DIRS": "1"}
    log = open(tmp_path / "jupyterlab.log", "w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
         "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}",
         f"--ServerApp.root_dir={root / 'notebooks'}", "--LabApp.expose_app_in_browser=True",
         "--LabApp.news_url=", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
         f"--LabApp.workspaces_dir={tmp_path / 'workspaces'}", "--LabApp.extension_manager=readonly",
         "--ServerApp.allow_remote_access=False", *(["--allow-root"] if os.geteuid() == 0 else [])],
        cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"

    def up():
        if proc.poll() is not None:
            raise RuntimeError("JupyterLab exited:\n" + (tmp_path / "jupyterlab.log").read_text())
        try:
            with urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2) as r:
                return r.status == 200
        except OSError:
            return False

    try:
        wait_until(up, 60, "the JupyterLab server")
        yield base, token, root
    finally:
        if proc.poll() is None:  # the server and its kernels: the process group it leads
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=5)
        try:
            os.killpg(proc.pid, signal.SIGKILL)  # a kernel left behind in the group
        except ProcessLookupError:
            pass
        log.close()


CJK_CHECK = r"""async (where) => {
    const card = where === 'markdown'
        ? [...document.querySelectorAll('.jp-RenderedMarkdown')].find(e => e.textContent.includes('稀土笔记'))
        : (document.querySelector('.xitu-label .widget-html-content')
           || [...document.querySelectorAll('.widget-html-content')].pop());  // (without the served font)
    const span = document.createElement('span');
    span.textContent = '稀土';
    card.appendChild(span);
    const family = getComputedStyle(span).fontFamily;
    await document.fonts.load('32px ' + family, '稀土');
    await document.fonts.ready;
    const draw = (ch) => {
        const c = document.createElement('canvas');
        c.width = 48; c.height = 48;
        const g = c.getContext('2d');
        g.font = '32px ' + family;
        g.fillStyle = '#000';
        g.fillText(ch, 4, 36);
        return Array.from(g.getImageData(0, 0, 48, 48).data).join(',');
    };
    const a = draw('稀'), b = draw('土');
    const t1 = draw('\u{10FFFD}'), t2 = draw('\u{10FFFC}');
    const loaded = [...document.fonts].some(f => f.family.replace(/"/g, '') === 'xitu-cjk' && f.status === 'loaded');
    span.remove();
    return {family, loaded, check: document.fonts.check('16px "xitu-cjk"', '稀土'),
            differ: a !== b, inked: /[1-9]/.test(a), tofu_same: t1 === t2};
}"""


def labels_in(log: Path) -> list[dict]:
    if not log.exists():
        return []
    return [json.loads(x) for x in log.read_text(encoding="utf-8").splitlines() if x.strip()]


def test_jupyterlab_renders_the_widget_and_a_click_writes_a_label(lab, tmp_path):
    from playwright.sync_api import sync_playwright

    base, token, root = lab
    log = root / "data" / "labels" / "browser1.jsonl"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, timeout=30_000)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.set_default_timeout(60_000)
        try:
            page.goto(f"{base}/lab/tree/04-label.ipynb?token={token}", wait_until="domcontentloaded")
            page.wait_for_function("() => window.jupyterapp && window.jupyterapp.shell.currentWidget"
                                   " && window.jupyterapp.shell.currentWidget.sessionContext", timeout=60_000)
            # wait for the kernel, then Run → Run All Cells
            page.wait_for_function("""() => {
                const w = window.jupyterapp.shell.currentWidget;
                const k = w.sessionContext.session && w.sessionContext.session.kernel;
                return k && k.status === 'idle';
            }""", timeout=60_000)
            page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
            page.get_by_text("Who is labelling?").wait_for(timeout=60_000)
            page.get_by_placeholder("your name, e.g. alice").fill("browser1")
            page.get_by_role("button", name="start labelling").click()
            button = page.get_by_role("button", name="escalation [e]")
            button.wait_for(timeout=60_000)
            page.wait_for_function("() => [...document.querySelectorAll('button')].some("
                                   "b => b.textContent.includes('escalation [e]') && !b.disabled)", timeout=30_000)
            shown = page.locator(".widget-html").filter(has_text=re.compile(r"a[0-9a-f]{12}-[0-9a-f]{8}")).first
            first_id = re.search(r"(a[0-9a-f]{12}-[0-9a-f]{8})", shown.inner_text()).group(1)
            button.click()
            wait_until(lambda: len(labels_in(log)) >= 1, 30, "the clicked label in the log")
            page.get_by_text(f"saved escalation for {first_id}").wait_for(timeout=30_000)
            # the keyboard shortcut: type 'c' into the keys box
            page.get_by_placeholder(re.compile("click here, then type")).press_sequentially("c")
            wait_until(lambda: len(labels_in(log)) >= 2, 30, "the typed label in the log")
            page.get_by_text("2 / 20 this session").wait_for(timeout=30_000)
            for where in ("widget", "markdown"):
                glyphs = page.evaluate(CJK_CHECK, where)
                # Chinese is not tofu (issue 12, item 14), in the widget and in the notebook's
                # Markdown: the text uses the served font, it loads, and two different Chinese
                # characters draw differently (missing glyphs all draw the same box); a code
                # point no font has stays a box, so the check can fail
                assert glyphs["family"].startswith('"xitu-cjk"') or glyphs["family"].startswith("xitu-cjk"), \
                    (where, glyphs)
                assert glyphs["loaded"] and glyphs["check"], (where, glyphs)
                assert glyphs["differ"] and glyphs["inked"], (where, glyphs)
                assert glyphs["tofu_same"], (where, glyphs)  # the comparison itself can see tofu
            if os.environ.get("XITU_SCREENSHOT"):  # to look at the widget: XITU_SCREENSHOT=path.png
                page.get_by_text("keyboard shortcuts").scroll_into_view_if_needed()
                page.screenshot(path=os.environ["XITU_SCREENSHOT"])
        except Exception:
            page.screenshot(path=str(tmp_path / "jupyterlab.png"))
            raise
        finally:
            browser.close()
    entries = labels_in(log)
    assert [(e["annotator"], e["label"], e["action"]) for e in entries] == [
        ("browser1", "escalation", "label"), ("browser1", "cooperation", "label")]
    assert entries[0]["segment_id"] == first_id and entries[1]["segment_id"] != first_id
    assert not (ROOT / "data" / "labels" / "browser1.jsonl").exists()
