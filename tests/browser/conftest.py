"""Browser tests: the real app served on 127.0.0.1 in a thread, driven by Playwright with
Debian's Chromium (/usr/bin/chromium; browser downloads do not work on these machines).

The live server runs the `app` fixture's application (same test database, FIXED_NOW kept,
so an event on FIXED_NOW's day is running "today") with CSRF switched on, so that the
page's real login form and its X-CSRFToken header are exercised too. Without Chromium or
the playwright package these tests are skipped with the reason; `.ci/run` fails on skips.
"""

import io
import os
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

CHROMIUM = os.environ.get("WORKSHOP_CHROMIUM", "/usr/bin/chromium")
# What works with Debian's Chromium here (see the shared browser-and-camera notes).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def pytest_collection_modifyitems(config, items):
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.browser)


@pytest.fixture
def app_config():
    # No SERVER_NAME: the live server answers on 127.0.0.1:<port>. CSRF on, as in production.
    return {"SERVER_NAME": None, "WTF_CSRF_ENABLED": True}


@pytest.fixture
def live_server(app):
    """The app on http://127.0.0.1:<free port>, served from a thread for one test."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()


@pytest.fixture(scope="session")
def playwright_driver():
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"Chromium not found at {CHROMIUM} (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("the playwright package is not installed (pip install -r requirements-dev.txt)")
    driver = sync_playwright().start()
    yield driver
    driver.stop()


@pytest.fixture
def launch_browser(playwright_driver):
    """Start headless Chromium with extra arguments (a fake camera, say); closed after."""
    browsers = []

    def launch(extra_args=()):
        browser = playwright_driver.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=[*CHROMIUM_ARGS, *extra_args]
        )
        browsers.append(browser)
        return browser

    yield launch
    for browser in browsers:
        browser.close()


@pytest.fixture
def browser_page(launch_browser):
    """A laptop-sized page in a plain Chromium; page errors fail the test."""
    browser = launch_browser()
    context = browser.new_context(viewport={"width": 1366, "height": 768})
    context.set_default_timeout(10_000)
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    yield page
    context.close()
    assert errors == [], f"JavaScript errors on the page: {errors}"


def write_y4m(png: bytes, path: Path, width: int = 640, height: int = 480) -> Path:
    """One frame of raw video (YUV 4:2:0, full range) showing ``png`` on a white canvas.

    Chromium's fake camera loops the file; writing Y4M directly needs no ffmpeg.
    """
    from PIL import Image

    canvas = Image.new("RGB", (width, height), "white")
    picture = Image.open(io.BytesIO(png)).convert("RGB")
    canvas.paste(picture, ((width - picture.width) // 2, (height - picture.height) // 2))
    y, cb, cr = canvas.convert("YCbCr").split()
    half = (width // 2, height // 2)
    cb, cr = cb.resize(half, Image.BOX), cr.resize(half, Image.BOX)
    with path.open("wb") as out:
        out.write(f"YUV4MPEG2 W{width} H{height} F10:1 Ip A1:1 C420jpeg\n".encode())
        out.write(b"FRAME\n" + y.tobytes() + cb.tobytes() + cr.tobytes())
    return path
