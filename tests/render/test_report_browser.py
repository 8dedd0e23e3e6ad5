"""The HTML report in a real browser: headless Chromium opens the file offline and must render it without a
single console message, blocked load or script error, with every section heading and every plot present.

Chromium is driven over the DevTools protocol through ``--remote-debugging-pipe`` (commands on fd 3, events
on fd 4, NUL-separated JSON): no websocket client, no port, no package beyond the browser itself. That
gives the console and error events directly: ``Runtime.consoleAPICalled`` (console.* calls),
``Runtime.exceptionThrown`` (uncaught script errors) and ``Log.entryAdded`` (what the browser itself
reports: CSP violations, failed or blocked loads, bad markup it had to fix up in SVG). The report allows no
script at all, so any of these is a failure.

Skipped only when no ``chromium`` binary is on PATH; CI (``.ci/run``) installs Debian's package.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import select
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import pytest

from reportgen.render.report_html import CSP, render_html
from reportgen.report.model import Report

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
SCREENSHOT = Path(tempfile.gettempdir()) / "report_screenshot.png"

pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="no chromium on PATH (CI installs Debian's chromium)"
)


class Browser:
    """A headless Chromium spoken to over the DevTools pipe: ``call`` sends a command and returns its result,
    keeping every event that arrives meanwhile in ``events``."""

    def __init__(self, binary: str, profile: Path, timeout: float = 120.0) -> None:
        to_browser_r, self._to_browser = os.pipe()
        self._from_browser, from_browser_w = os.pipe()

        def wire_fds() -> None:  # in the child: the protocol expects exactly fds 3 and 4
            os.dup2(to_browser_r, 3)
            os.dup2(from_browser_w, 4)

        args = ["--headless", "--disable-gpu", "--no-sandbox", "--remote-debugging-pipe", "--no-first-run"]
        args += [
            "--no-default-browser-check",
            "--hide-scrollbars",
            "--mute-audio",
            f"--user-data-dir={profile}",
        ]
        self.proc = subprocess.Popen(
            [binary, *args, "about:blank"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            pass_fds=(3, 4),
            preexec_fn=wire_fds,
        )
        os.close(to_browser_r)
        os.close(from_browser_w)
        self.deadline = time.monotonic() + timeout
        self.events: list[dict[str, Any]] = []
        self._buffer = b""
        self._next_id = 0

    def call(self, method: str, params: dict[str, Any] | None = None, session: str | None = None) -> Any:
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self._to_browser, json.dumps(message).encode() + b"\0")
        while True:
            reply = self._read()
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self.events.append(reply)

    def wait_for(self, method: str) -> None:
        """Read until an event ``method`` has arrived (it may have already)."""
        while not any(e.get("method") == method for e in self.events):
            self.events.append(self._read())

    def _read(self) -> dict[str, Any]:
        while b"\0" not in self._buffer:
            left = self.deadline - time.monotonic()
            if left <= 0 or not select.select([self._from_browser], [], [], left)[0]:
                raise TimeoutError("chromium did not answer in time")
            chunk = os.read(self._from_browser, 1 << 16)
            if not chunk:
                raise RuntimeError("chromium closed the DevTools pipe")
            self._buffer += chunk
        message, _, self._buffer = self._buffer.partition(b"\0")
        return json.loads(message)

    def close(self) -> None:
        with contextlib.suppress(RuntimeError, TimeoutError, OSError):
            self.call("Browser.close")
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        os.close(self._to_browser)
        os.close(self._from_browser)


def open_page(browser: Browser, url: str, width: int = 1280, height: int = 800) -> str:
    """A new page showing ``url`` at a laptop's viewport, loaded to the end; returns its session id."""
    target = browser.call("Target.createTarget", {"url": "about:blank"})["targetId"]
    session = browser.call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
    for domain in ("Page", "Runtime", "Log"):
        browser.call(f"{domain}.enable", session=session)
    browser.call(
        "Emulation.setDeviceMetricsOverride",
        {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False},
        session=session,
    )
    browser.call("Page.navigate", {"url": url}, session=session)
    browser.wait_for("Page.loadEventFired")
    return session


def evaluate(browser: Browser, session: str, expression: str) -> Any:
    result = browser.call(
        "Runtime.evaluate", {"expression": expression, "returnByValue": True}, session=session
    )
    return result["result"].get("value")


def problems(events: list[dict[str, Any]]) -> list[str]:
    """Every console message, uncaught exception and browser log entry (warnings and errors) seen."""
    out = []
    for e in events:
        method, params = e.get("method"), e.get("params", {})
        if method == "Runtime.consoleAPICalled":
            out.append(f"console.{params.get('type')}: {params.get('args')}")
        elif method == "Runtime.exceptionThrown":
            out.append(f"uncaught: {params.get('exceptionDetails')}")
        elif method == "Log.entryAdded" and params.get("entry", {}).get("level") in ("warning", "error"):
            entry = params["entry"]
            out.append(f"log {entry.get('level')} ({entry.get('source')}): {entry.get('text')}")
    return out


@pytest.fixture
def browser(tmp_path: Path):
    assert CHROMIUM is not None
    b = Browser(CHROMIUM, tmp_path / "profile")
    yield b
    b.close()


def test_report_renders_in_chromium_without_console_errors(
    rich_report: Report, browser: Browser, tmp_path: Path
) -> None:
    page = tmp_path / "report.html"
    page.write_text(render_html(rich_report), encoding="utf-8")
    session = open_page(browser, page.as_uri())

    headings = evaluate(browser, session, "[...document.querySelectorAll('h2')].map(h => h.textContent)")
    for section in rich_report.sections:
        assert section.title in headings
    assert headings[-3:] == ["Appendix A: Findings", "Appendix B: Fact check", "Appendix C: Manifest"]
    figures = sum(len(s.figures) for s in rich_report.sections)
    assert evaluate(browser, session, "document.querySelectorAll('figure.plot svg').length") == figures
    # each plot laid out with a real size, not collapsed to nothing
    sizes = evaluate(
        browser,
        session,
        "[...document.querySelectorAll('figure.plot svg')].map(s => s.getBoundingClientRect().height)",
    )
    assert all(h > 50 for h in sizes), sizes
    # the hostile run name was shown as text, never run as a script
    assert evaluate(browser, session, "document.scripts.length") == 0
    assert "<script>alert(1)</script>" in evaluate(browser, session, "document.body.innerText")
    # every in-page link lands on an element
    dangling = evaluate(
        browser,
        session,
        "[...document.querySelectorAll('a[href^=\"#\"]')]"
        ".map(a => a.getAttribute('href').slice(1)).filter(id => !document.getElementById(id))",
    )
    assert dangling == []
    # nothing wider than the viewport: wide tables scroll inside their own box
    assert evaluate(browser, session, "document.documentElement.scrollWidth") <= 1280

    full = evaluate(browser, session, "document.documentElement.scrollHeight")
    shot = browser.call(
        "Page.captureScreenshot",
        {
            "format": "png",
            "captureBeyondViewport": True,
            "clip": {"x": 0, "y": 0, "width": 1280, "height": full, "scale": 1},
        },
        session=session,
    )
    SCREENSHOT.write_bytes(base64.b64decode(shot["data"]))
    assert problems(browser.events) == []


@pytest.mark.parametrize(
    ("head", "body", "expected"),
    [
        ("", "<script>console.error('boom')</script>", "console.error"),
        ("", "<script>undefinedFunction()</script>", "uncaught"),
        (
            f'<meta http-equiv="Content-Security-Policy" content="{CSP}">',
            "<script>1</script>",
            "Security Policy",
        ),
        (
            f'<meta http-equiv="Content-Security-Policy" content="{CSP}">',
            '<img src="https://x.invalid/a.png">',
            "img",
        ),
    ],
    ids=["console-error", "uncaught-exception", "script-blocked-by-csp", "remote-image-blocked"],
)
def test_console_errors_are_caught(
    browser: Browser, tmp_path: Path, head: str, body: str, expected: str
) -> None:
    """The negative twins: each of these pages must be reported, so a clean run of the test above means
    something (the last two are what the report's own CSP does to anything it must not load or run)."""
    page = tmp_path / "bad.html"
    page.write_text(f"<!DOCTYPE html><html><head>{head}</head><body>{body}<p>x</p></body></html>")
    open_page(browser, page.as_uri())
    found = problems(browser.events)
    assert any(expected in p for p in found), found
