"""The phone check runs on Chromium 65, as frozen lobby WebViews and old phones have it: the page's script is
ES2017 at most, and a real headless Chromium 65 recomputes a period and says it matches the paper.

Chromium 65 is not a Debian package: `npm pack chrome-aws-lambda@1.0.0`, untar, `brotli -d -c
package/bin/chromium-65.0.3312.0.br > chromium; chmod +x chromium` (the recipe in TESTING.md), then point
KIOSK_OLD_CHROMIUM at it. Without it the browser run is skipped (it is an opt-in extra, like the benchmarks);
the syntax check below always runs. Current Playwright does not speak Chromium 65's DevTools protocol, and the
headless --dump-dom with a virtual time budget proved flaky with fetch and WebCrypto there: the test talks to
DevTools itself.
"""
import base64
import json
import os
import re
import socket
import struct
import subprocess
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from .test_ledger_phone_check import build_ledger

OLD_CHROMIUM = os.environ.get("KIOSK_OLD_CHROMIUM", "")
SCRIPT = Path(__file__).resolve().parents[2] / "static" / "js" / "ledger.js"
# Syntax newer than ES2017, which Chromium 65 can't parse: the whole file would fail, not just one line.
NEWER = {
    "optional chaining ?.": r"\?\.(?!\d)",
    "nullish ??": r"\?\?",
    "spread or rest in an object literal": r"\{\s*\.\.\.",
    "optional catch binding": r"catch\s*\{",
    "async iteration": r"for\s+await|async\s+function\s*\*",
    "regex lookbehind or named group": r"\(\?<",
    "BigInt literal": r"\b\d+n\b",
    "private class members": r"(\.|\s)#\w",
    "logical assignment": r"(\|\||&&|\?\?)=",
    "numeric separator": r"\d_\d",
}


def code_only(source):
    """The script without its comments and string literals (they may say anything)."""
    source = re.sub(r"/\*.*?\*/", "", source, flags=re.S)
    source = re.sub(r'"(?:\\.|[^"\\])*"|\'(?:\\.|[^\'\\])*\'', '""', source)
    return re.sub(r"//[^\n]*", "", source)


def test_the_phone_check_script_uses_nothing_newer_than_es2017():
    code = code_only(SCRIPT.read_text(encoding="utf-8"))
    found = [name for name, pattern in NEWER.items() if re.search(pattern, code, flags=re.M)]
    assert found == [], f"static/js/ledger.js uses syntax Chromium 65 can't parse: {found}"
    assert "crypto.subtle.digest(\"SHA-256\"" in SCRIPT.read_text(encoding="utf-8")  # WebCrypto, no library


class DevTools:
    """Just enough of the DevTools protocol over a WebSocket (no library speaks Chromium 65's) to navigate and
    evaluate: a client frame is masked, a server frame is not."""

    def __init__(self, port):
        targets = json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}/json", timeout=10))
        path = urlsplit(next(t for t in targets if t["type"] == "page")["webSocketDebuggerUrl"]).path
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=30)
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
                          f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
                          .encode())
        reply = b""
        while b"\r\n\r\n" not in reply:
            reply += self.sock.recv(1024)
        assert b" 101 " in reply.split(b"\r\n")[0], reply
        self.next_id = 0

    def _read(self, n):
        data = b""
        while len(data) < n:
            chunk = self.sock.recv(n - len(data))
            assert chunk, "DevTools closed the connection"
            data += chunk
        return data

    def _receive(self):
        message = b""
        while True:
            head = self._read(2)
            length = head[1] & 0x7F
            if length == 126:
                length = struct.unpack(">H", self._read(2))[0]
            elif length == 127:
                length = struct.unpack(">Q", self._read(8))[0]
            message += self._read(length)
            if head[0] & 0x80:
                return json.loads(message)

    def call(self, method, **params):
        self.next_id += 1
        payload = json.dumps({"id": self.next_id, "method": method, "params": params}).encode()
        mask = os.urandom(4)
        length = len(payload)
        header = bytes([0x81]) + (bytes([0x80 | length]) if length < 126 else
                                  bytes([0x80 | 126]) + struct.pack(">H", length))
        self.sock.sendall(header + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload)))
        while True:
            message = self._receive()
            if message.get("id") == self.next_id:
                return message.get("result", {})

    def evaluate(self, expression):
        return self.call("Runtime.evaluate", expression=expression, returnByValue=True)["result"].get("value")


@pytest.mark.browser
def test_chromium_65_recomputes_a_period_and_it_matches_the_paper(live):
    if not OLD_CHROMIUM or not Path(OLD_CHROMIUM).exists():
        pytest.skip("OLD_CHROMIUM: set KIOSK_OLD_CHROMIUM to a Chromium 65 binary (see this module's docstring)")
    account = live.new_compound(name="梧桐小区")
    january, _february = build_ledger(live, account)
    from kiosk.extensions import db
    from kiosk.ledger.models import Period

    with live.app.app_context():
        period = db.session.get(Period, january)
        url = f"{live.base_url}/{account.slug}/ledger/check/{january}?n={period.head_number}&h={period.head_hash}"
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    browser = subprocess.Popen([OLD_CHROMIUM, "--headless", "--no-sandbox", "--single-process", "--no-zygote",
                                "--disable-gpu", f"--remote-debugging-port={port}", "about:blank"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                tools = DevTools(port)
                break
            except OSError:
                assert time.monotonic() < deadline, "Chromium 65 did not open its DevTools port"
                time.sleep(0.3)
        assert "HeadlessChrome/65." in tools.evaluate("navigator.userAgent")
        tools.call("Page.navigate", url=url)
        state = "[data-ledger-check]"
        while tools.evaluate(f"(document.querySelector('{state}') || {{}}).getAttribute ? "
                             f"document.querySelector('{state}').getAttribute('data-done') : null") != "true":
            assert time.monotonic() < deadline + 30, "the phone check did not finish on Chromium 65"
            time.sleep(0.3)
        shown = tools.evaluate("Array.prototype.map.call(document.querySelectorAll('[data-ledger-check] "
                               "[data-show]'), function (p) { return p.hidden ? '' : p.textContent; }).join(' ')")
    finally:
        browser.terminate()
        browser.wait(timeout=10)
    assert "第 1 至 3 号共 3 笔记录（本期 3 笔）在手机上重新计算，结果与公示表上的核对码一致" in shown, shown
    assert "本期收入 ¥8,600.00，支出 ¥1,730.00" in shown
