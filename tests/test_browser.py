"""The dashboard in a real headless Chromium: every page in English and Chinese renders its
charts without an exception; screenshots go to tests/_artifacts/.

Needs Debian's ``chromium`` (``apt-get install chromium fonts-wqy-microhei``) and the
``playwright`` Python package, which drives that browser through ``executable_path``
(no downloaded browser). Skipped with a reason when either is missing.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import pytest

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = Path(__file__).resolve().parent / "_artifacts"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"

sync_api = pytest.importorskip(
    "playwright.sync_api", reason="playwright is not installed (pip install playwright)"
)
if not Path(CHROMIUM).is_file():
    pytest.skip(
        "Debian's chromium is not installed (apt-get install chromium)", allow_module_level=True
    )

#: url path -> (number of Vega charts to wait for, text the Chinese title contains): the
#: root and every page at its own path (a shared link to /problem must work too).
PAGES = {
    "": (1, "遗忘"),
    "problem": (1, "遗忘"),
    "decay": (1, "衰减曲线"),
    "remedies": (2, "补救方法"),
    "landscape": (2, "参数全景"),
    "your_model": (0, "你的模型"),
    "training": (0, "训练实验室"),
    "hear": (2, "听见"),
}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_healthy(url: str, proc: subprocess.Popen, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"streamlit exited with code {proc.returncode}")
        with contextlib.suppress(OSError):
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return
        time.sleep(0.25)
    raise TimeoutError(f"streamlit did not answer {url} within {timeout:.0f} s")


@pytest.fixture(scope="module")
def results_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The server's results root (``longdep dashboard --results DIR``)."""
    return tmp_path_factory.mktemp("results")


@pytest.fixture(scope="module")
def server(results_dir: Path) -> Iterator[str]:
    port = _free_port()
    log = ARTIFACTS / "streamlit.log"
    ARTIFACTS.mkdir(exist_ok=True)
    cmd = [
        sys.executable, "-m", "streamlit", "run", "dashboard/app.py",
        "--server.headless", "true", "--server.port", str(port),
        "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false",
    ]  # fmt: skip
    with open(log, "wb") as out:
        env = {**os.environ, "LONGDEP_RESULTS": str(results_dir)}
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(f"{base}/_stcore/health", proc)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"],
        )
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1440, "height": 900}, locale="en-US")
    pg = context.new_page()
    yield pg
    context.close()


def _settle(page, charts: int) -> None:
    """Wait until the app has finished its run and drawn ``charts`` Vega charts."""
    page.wait_for_selector('[data-testid="stMainBlockContainer"] h1', timeout=60_000)
    if charts:
        page.wait_for_function(
            "n => document.querySelectorAll('.vega-embed canvas, .vega-embed svg.marks')"
            ".length >= n",
            arg=charts,
            timeout=60_000,
        )
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')"
        " || !document.querySelector('[data-testid=\"stStatusWidget\"]').innerText"
        ".toLowerCase().includes('running')",
        timeout=60_000,
    )


def _screenshot(page, name: str) -> None:
    """The whole page: Streamlit scrolls inside its main block, so grow the viewport to
    the content's height first."""
    height = page.evaluate(
        "() => { const m = document.querySelector('[data-testid=\"stMain\"]');"
        " return m ? m.scrollHeight : document.body.scrollHeight; }"
    )
    page.set_viewport_size({"width": 1440, "height": max(900, min(int(height), 8000))})
    page.wait_for_timeout(500)  # let Vega re-lay out the charts at the new width
    page.screenshot(path=str(ARTIFACTS / name), full_page=True)
    page.set_viewport_size({"width": 1440, "height": 900})


def _no_exception(page) -> None:
    errors = page.locator('[data-testid="stException"]')
    assert errors.count() == 0, errors.first.inner_text()


def _visible_texts(page) -> dict[str, str]:
    """The visible text of the main area with each tab open in turn, every expander
    opened first (what a reader can see, rendered by Streamlit's Markdown renderer)."""
    main = page.locator('[data-testid="stMain"]')
    for summary in main.locator('[data-testid="stExpander"] summary').all():
        summary.click()
    tabs = main.get_by_role("tab").all()
    if not tabs:
        return {"": main.inner_text()}
    texts = {}
    for tab in tabs:
        tab.click()
        page.wait_for_timeout(200)
        texts[tab.inner_text()] = main.inner_text()
    return texts


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("path", list(PAGES))
def test_page_renders_its_charts_without_exception(server, page, path, lang):
    charts, zh_title = PAGES[path]
    page.goto(f"{server}/{path}?lang={lang}")
    _settle(page, charts)
    _no_exception(page)
    assert "page not found" not in page.locator("body").inner_text().lower()
    assert urlparse(page.url).path == f"/{path}"  # answered at its own path, not redirected
    title = page.locator('[data-testid="stMainBlockContainer"] h1').first.inner_text()
    if lang == "zh":
        assert zh_title in title
    else:
        assert not any("\u4e00" <= ch <= "\u9fff" for ch in title), title
    name = path or "root"
    _screenshot(page, f"{name}-{lang}.png")
    # Markdown that the renderer did not take for emphasis shows its asterisks.
    for tab, text in _visible_texts(page).items():
        assert "**" not in text, (tab, [line for line in text.splitlines() if "**" in line])


def test_upload_example_weights_draws_a_decay_curve(server, page):
    from longdep.dashboard.uploads import example_npz

    ARTIFACTS.mkdir(exist_ok=True)
    f = ARTIFACTS / "example_lstm.npz"
    f.write_bytes(example_npz())
    page.goto(f"{server}/your_model?lang=en")
    _settle(page, 0)
    page.locator('[data-testid="stFileUploader"] input[type="file"]').first.set_input_files(str(f))
    page.wait_for_selector('[data-testid="stAlertContentSuccess"]', timeout=60_000)
    _settle(page, 1)
    _no_exception(page)
    assert "LSTM" in page.locator('[data-testid="stAlertContentSuccess"]').first.inner_text()
    _screenshot(page, "your_model-upload.png")


def test_bad_upload_shows_an_error_not_a_traceback(server, page):
    ARTIFACTS.mkdir(exist_ok=True)
    f = ARTIFACTS / "broken.safetensors"
    f.write_bytes(b"\xff" * 64)
    page.goto(f"{server}/your_model?lang=zh")
    _settle(page, 0)
    page.locator('[data-testid="stFileUploader"] input[type="file"]').first.set_input_files(str(f))
    page.wait_for_selector('[data-testid="stAlertContentError"]', timeout=60_000)
    _no_exception(page)
    assert "safetensors" in page.locator('[data-testid="stAlertContentError"]').inner_text()


def test_garbage_renamed_npz_is_explained_in_chinese_without_numpy_advice(server, page):
    ARTIFACTS.mkdir(exist_ok=True)
    f = ARTIFACTS / "garbage.npz"
    f.write_bytes(bytes(range(256)) * 4)
    page.goto(f"{server}/your_model?lang=zh")
    _settle(page, 0)
    page.locator('[data-testid="stFileUploader"] input[type="file"]').first.set_input_files(str(f))
    page.wait_for_selector('[data-testid="stAlertContentError"]', timeout=60_000)
    _no_exception(page)
    message = page.locator('[data-testid="stAlertContentError"]').inner_text()
    assert "zip 压缩包" in message and "garbage.npz" in message
    assert "pickle" not in message.lower()


def test_browser_locale_zh_defaults_to_chinese(server, browser):
    context = browser.new_context(viewport={"width": 1440, "height": 900}, locale="zh-CN")
    try:
        pg = context.new_page()
        pg.goto(f"{server}/decay")
        _settle(pg, 1)
        assert "衰减曲线" in pg.locator("h1").first.inner_text()
        _no_exception(pg)
    finally:
        context.close()


def test_language_selector_switches_to_chinese(server, page):
    page.goto(f"{server}/decay")
    _settle(page, 1)
    page.locator('[data-testid="stSidebar"] [data-testid="stSelectbox"]').first.click()
    page.get_by_role("option", name="中文").click()
    page.wait_for_function(
        "() => document.querySelector('h1') && document.querySelector('h1').innerText"
        ".includes('衰减曲线')",
        timeout=30_000,
    )
    assert "lang=zh" in page.url
    _no_exception(page)


def test_training_lab_trains_and_runs_the_presets_in_the_browser(server, page):
    page.goto(f"{server}/training?lang=en")
    _settle(page, 0)
    page.locator('[data-testid="stFormSubmitButton"] button').click()
    _settle(page, 2)  # the loss and gradient-norm charts, drawn after the first model
    # one metric per model once all four are trained
    page.wait_for_function(
        "() => document.querySelectorAll('[data-testid=\"stMetric\"]').length == 4",
        timeout=120_000,
    )
    _no_exception(page)
    _screenshot(page, "training-live.png")
    for tab, button, charts, shot in (
        ("Gradient clipping", "Run the clipping comparison", 2, "training-clipping.png"),
        ("Pre-training", "Run the pre-training comparison", 1, "training-pretrain.png"),
    ):
        page.get_by_role("tab", name=tab).click()
        page.get_by_role("button", name=button).click()
        # charts of the open tab only (the other tabs' charts may stay in the page, hidden)
        page.wait_for_function(
            "n => [...document.querySelectorAll('.vega-embed')]"
            ".filter(e => e.offsetParent !== null && e.querySelector('canvas, svg.marks'))"
            ".length >= n",
            arg=charts,
            timeout=120_000,
        )
        _settle(page, 0)
        _no_exception(page)
        _screenshot(page, shot)


def test_training_lab_opens_a_longdep_train_folder(server, page, tmp_path, results_dir):
    from longdep import trainlab

    cfg = tmp_path / "tiny.toml"
    cfg.write_text(
        'task = "copy"\nlength = 10\nhidden = 16\nsteps = 60\nmodels = ["vanilla", "lru"]\n'
    )
    trainlab.run_train(trainlab.load_train_config(cfg), results_dir / "out", quiet=True)
    page.goto(f"{server}/training?lang=zh")
    _settle(page, 0)
    page.get_by_role("tab", name="longdep train 的结果").click()
    box = page.locator('[data-testid="stTextInput"] input').first
    box.fill("out")  # relative to the server's results root
    box.press("Enter")
    page.wait_for_selector('[data-testid="stAlertContentSuccess"]', timeout=60_000)
    _settle(page, 2)
    _no_exception(page)
    _screenshot(page, "training-folder-zh.png")
