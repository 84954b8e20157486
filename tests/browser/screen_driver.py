"""One lobby-screen browser, the same to a journey whichever engine runs it: Debian Chromium through Playwright,
or a frozen Chromium 65/78 (what lobby WebViews really are) through our CDP client.

A journey only uses what every engine can do: evaluate a JavaScript function (written for Chromium 65: no
`?.`, no `??`), tap or drag a finger at a point, navigate, take a screenshot, block a URL, and read what the
browser recorded (documents loaded, responses, script errors, console errors, CSP complaints). Waiting is
done here, by polling, so the journeys read the same on all three engines.
"""
import base64
import json
import re
import time
from pathlib import Path

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "browser"
CSP_MARKERS = ("Content Security Policy", "Content-Security-Policy", "Refused to")

# Everything a journey asks about an element, in one round trip (Chromium 65 syntax).
_QUERY = """(a) => {
  var els = Array.prototype.slice.call(document.querySelectorAll(a.sel));
  if (!els.length) return {count: 0, texts: [], visible: false};
  var el = els[0], r = el.getBoundingClientRect(), cs = getComputedStyle(el);
  var attrs = {};
  (a.attrs || []).forEach(function (name) { attrs[name] = el.getAttribute(name); });
  return {count: els.length, text: (el.innerText || el.textContent || "").trim(),
          texts: els.map(function (e) { return (e.innerText || e.textContent || "").trim(); }),
          box: {x: r.left, y: r.top, width: r.width, height: r.height},
          visible: r.width > 0 && r.height > 0 && cs.visibility !== "hidden",
          classes: (el.getAttribute("class") || "").split(/\\s+/), font: parseFloat(cs.fontSize),
          background: cs.backgroundColor, attrs: attrs, value: el.value};
}"""


class ScreenDriver:
    """What a journey does to the lobby screen's browser. Subclasses provide the primitives."""

    engine = "?"
    major = 0

    def __init__(self, base_url, width, height, name):
        self.base_url = base_url
        self.width, self.height = width, height
        self.name = name
        self.documents = []  # URLs of full document loads (a reload shows up here)
        self.responses = []  # (url, status) of every response, in order
        self.page_errors = []
        self.console_errors = []
        self.csp_violations = []

    # -- primitives -------------------------------------------------------------------------------------
    def goto(self, path):
        raise NotImplementedError

    def js(self, source, arg=None):
        """Evaluate `source`, a JavaScript function of one argument, with `arg` (JSON); return its JSON value."""
        raise NotImplementedError

    def tap_at(self, x, y):
        raise NotImplementedError

    def drag(self, x, y, dy, steps=12):
        """Drag one finger from (x, y) by dy px with real touch events, as a resident scrolls a notice."""
        raise NotImplementedError

    def scroll_by_finger(self, selector, dy, beyond=200, tries=3):
        """Drag a finger up the element until it has scrolled past `beyond` px, as a resident would swipe again
        if the first swipe did not move it: on a loaded machine old headless Chromium sometimes drops the first
        gesture of a freshly opened reader (the scroller is not yet composited). Fails if no swipe scrolls."""
        probe = f"() => document.querySelector({selector!r}).scrollTop > {int(beyond)}"
        for attempt in range(tries):
            box = self.box(selector)
            self.drag(box["x"] + box["width"] / 2, box["y"] + box["height"] * 0.7, dy)
            try:
                return self.until(lambda: self.js(probe), timeout=3, what=f"{selector} to scroll under the finger")
            except AssertionError:
                if attempt == tries - 1:
                    raise

    def screenshot(self, path):
        raise NotImplementedError

    def block(self, url_part):
        """Make every request whose URL contains url_part fail, as a script that never arrives would."""
        raise NotImplementedError

    def cookies(self):
        """{name: value} of the cookies this browser holds for the site."""
        raise NotImplementedError

    def close(self):
        raise NotImplementedError

    def pause(self, seconds):
        """Let time pass (and the browser's events reach our records)."""
        time.sleep(seconds)

    # -- built on them ----------------------------------------------------------------------------------
    def until(self, check, timeout=5.0, what="the condition", interval=0.1):
        """Poll check() until it returns something truthy; return that, or fail naming what was awaited."""
        deadline = time.monotonic() + timeout
        value = None
        while True:
            try:
                value = check()
            except RuntimeError:  # CDPError too: a navigation in between, ask again
                value = None
            if value:
                return value
            if time.monotonic() >= deadline:
                raise AssertionError(f"[{self.engine}] waited {timeout:g} s for {what}; last saw {value!r}")
            self.pause(interval)

    def query(self, selector, attrs=()):
        """The first match's count, text, texts of all matches, box, visibility, classes, font size, attrs."""
        return self.js(_QUERY, {"sel": selector, "attrs": list(attrs)})

    def count(self, selector):
        return self.query(selector)["count"]

    def text(self, selector):
        return self.query(selector).get("text")

    def visible(self, selector):
        return self.query(selector)["visible"]

    def box(self, selector):
        return self.query(selector).get("box")

    def attr(self, selector, name):
        found = self.query(selector, [name])
        return found["attrs"][name] if found["count"] else None

    def has_class(self, selector, name):
        found = self.query(selector)
        return found["count"] > 0 and name in found["classes"]

    def font_px(self, selector):
        return self.query(selector)["font"]

    def wait_count(self, selector, n, timeout=5.0):
        return self.until(lambda: self.count(selector) == n, timeout, f"{n} × {selector}")

    def wait_visible(self, selector, timeout=5.0):
        return self.until(lambda: self.visible(selector), timeout, f"{selector} to show")

    def wait_hidden(self, selector, timeout=5.0):
        return self.until(lambda: not self.visible(selector), timeout, f"{selector} to hide")

    def wait_text(self, selector, expected, timeout=5.0):
        """Wait until the element's text equals expected (a str), contains it ("…" prefix), or matches (a regex)."""
        def ok():
            text = self.text(selector) or ""
            if isinstance(expected, re.Pattern):
                return expected.search(text)
            return text == expected
        self.until(ok, timeout, f"{selector} to read {expected!r}")
        return self.text(selector)

    def wait_contains(self, selector, part, timeout=5.0):
        self.until(lambda: part in (self.text(selector) or ""), timeout, f"{selector} to contain {part!r}")

    def wait_class(self, selector, name, present=True, timeout=5.0):
        self.until(lambda: self.has_class(selector, name) == present, timeout,
                   f"{selector} {'to get' if present else 'to lose'} class {name}")

    def body_has(self, name):
        return self.js("(n) => document.body.classList.contains(n)", name)

    def wait_body(self, name, present=True, timeout=5.0):
        self.until(lambda: self.body_has(name) == present, timeout,
                   f"body {'to get' if present else 'to lose'} class {name}")

    def tap(self, selector):
        """Tap the middle of the first element matching selector (scrolled into view first)."""
        box = self.js("""(s) => { var el = document.querySelector(s); if (!el) return null;
            el.scrollIntoView({block: "nearest"}); var r = el.getBoundingClientRect();
            return {x: r.left + r.width / 2, y: r.top + r.height / 2, w: r.width, h: r.height}; }""", selector)
        assert box and box["w"] > 0 and box["h"] > 0, f"[{self.engine}] nothing visible to tap at {selector}"
        self.tap_at(box["x"], box["y"])

    def tap_text(self, selector, text):
        """Tap the element matching selector whose whole text is `text` (e.g. a button by its label)."""
        index = self.js("""(a) => Array.prototype.map.call(document.querySelectorAll(a.sel),
            function (e) { return (e.innerText || e.textContent || "").trim(); }).indexOf(a.text)""",
                        {"sel": selector, "text": text})
        assert index >= 0, f"[{self.engine}] no {selector} reading {text!r}"
        self.js("""(a) => { document.querySelectorAll(a.sel)[a.i].setAttribute("data-tap-me", "1"); }""",
                {"sel": selector, "i": index})
        try:
            self.tap("[data-tap-me]")
        finally:
            self.js("""() => { var el = document.querySelector("[data-tap-me]");
                if (el) el.removeAttribute("data-tap-me"); }""")

    def mark(self):
        """Mark this document; a full reload wipes the mark."""
        self.js("() => { window.__kioskMarker = 'first-load'; }")

    def not_reloaded(self):
        return self.js("() => window.__kioskMarker === 'first-load'")

    def wait_response(self, part, since, status=None, timeout=5.0):
        """Wait for a response whose URL contains part (and with this status), after index `since` of the log."""
        def seen():
            return any(part in url and (status is None or code == status) for url, code in self.responses[since:])
        self.until(seen, timeout, f"a response from …{part}{'' if status is None else f' with {status}'}")

    def shot(self, name, backend):
        """Save a screenshot under test-artifacts/browser/<name>-<engine>-<backend>.png."""
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / f"{name}-{self.engine}-{backend}.png"
        self.screenshot(path)
        return path

    def assert_clean(self, allow=None):
        """No CSP violation, no uncaught script error, no console error (except what `allow` matches)."""
        assert self.csp_violations == [], f"[{self.engine}] CSP violations:\n" + "\n".join(self.csp_violations)
        assert self.page_errors == [], f"[{self.engine}] uncaught page errors:\n" + "\n".join(self.page_errors)
        errors = [e for e in self.console_errors if not (allow and allow.search(e))]
        assert errors == [], f"[{self.engine}] console errors:\n" + "\n".join(errors)

    def _record_console(self, text, is_error, source=""):
        if any(marker in text for marker in CSP_MARKERS):
            self.csp_violations.append(text)
        elif is_error:
            self.console_errors.append(f"{text} [{source}]")


class PlaywrightScreen(ScreenDriver):
    """Debian Chromium (current) through Playwright, in its own browser context."""

    def __init__(self, browser, base_url, width, height, name="chromium"):
        super().__init__(base_url, width, height, name)
        self.context = browser.new_context(base_url=base_url, viewport={"width": width, "height": height},
                                           has_touch=True, locale="zh-CN", timezone_id="Asia/Shanghai")
        self.context.set_default_timeout(10_000)
        self.page = self.context.new_page()
        self.engine = "chromium"
        self.major = int(browser.version.split(".")[0])
        self.page.on("console", lambda m: self._record_console(m.text, m.type == "error",
                                                               (m.location or {}).get("url", "")))
        self.page.on("pageerror", lambda error: self.page_errors.append(str(error)))
        self.page.on("request", lambda r: self.documents.append(r.url) if r.resource_type == "document" else None)
        self.page.on("response", lambda r: self.responses.append((r.url, r.status)))

    def goto(self, path):
        self.page.goto(path)

    def pause(self, seconds):
        # Playwright's sync API delivers events (responses, console) only while it is called: wait inside it.
        self.page.wait_for_timeout(seconds * 1000)

    def js(self, source, arg=None):
        from playwright.sync_api import Error

        try:
            return self.page.evaluate(source, arg)
        except Error as error:  # e.g. "Execution context was destroyed" during a reload
            raise RuntimeError(str(error)) from error

    def tap_at(self, x, y):
        self.page.touchscreen.tap(x, y)

    def drag(self, x, y, dy, steps=12):
        session = self.context.new_cdp_session(self.page)
        try:
            _touch_drag(session.send, x, y, dy, steps)
        finally:
            session.detach()

    def screenshot(self, path):
        self.page.screenshot(path=str(path))

    def block(self, url_part):
        self.page.route(lambda url: url_part in url, lambda route: route.abort())

    def cookies(self):
        return {c["name"]: c["value"] for c in self.context.cookies()}

    def close(self):
        self.context.close()


class CdpScreen(ScreenDriver):
    """A frozen Chromium (65 or 78) process of its own, driven over the DevTools protocol."""

    def __init__(self, engine, base_url, width, height):
        from .old_chromium import Browser

        super().__init__(base_url, width, height, engine.name)
        self.engine = engine.name
        self.major = engine.major
        self.browser = Browser(engine, width, height)
        self.page = self.browser.connect_page()
        self._loaded = 0
        self._requests = {}
        self.page.on("Page.loadEventFired", self._on_load)
        self.page.on("Runtime.exceptionThrown", self._on_exception)
        self.page.on("Runtime.consoleAPICalled", self._on_console_api)
        self.page.on("Log.entryAdded", self._on_log)
        self.page.on("Network.requestWillBeSent", self._on_request)
        self.page.on("Network.responseReceived", self._on_response)
        self.page.on("Network.loadingFailed", self._on_failed)
        for domain in ("Page", "Runtime", "Network", "Log"):
            self.page.send(f"{domain}.enable")
        self.page.send("Emulation.setDeviceMetricsOverride",
                       {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False})
        self.page.send("Emulation.setTouchEmulationEnabled", {"enabled": True, "maxTouchPoints": 1})

    # CDP events -> the journey's records
    def _on_load(self, params):
        self._loaded += 1

    def _on_exception(self, params):
        details = params.get("exceptionDetails", {})
        exception = details.get("exception") or {}
        self.page_errors.append(f"{exception.get('description') or details.get('text')} "
                                f"[{details.get('url', '')}:{details.get('lineNumber', '')}]")

    def _on_console_api(self, params):
        text = " ".join(str(a.get("value", a.get("description", ""))) for a in params.get("args", []))
        self._record_console(text, params.get("type") == "error")

    def _on_log(self, params):
        entry = params.get("entry", {})
        self._record_console(entry.get("text", ""), entry.get("level") == "error", entry.get("url", ""))

    def _on_request(self, params):
        self._requests[params["requestId"]] = params["request"]["url"]
        if params.get("type") == "Document":
            self.documents.append(params["request"]["url"])

    def _on_response(self, params):
        self.responses.append((params["response"]["url"], params["response"]["status"]))

    def _on_failed(self, params):
        url = self._requests.get(params.get("requestId"), "?")
        if not params.get("canceled"):
            self.console_errors.append(f"Failed to load resource: {params.get('errorText')} [{url}]")

    # primitives
    def goto(self, path):
        loaded = self._loaded
        url = path if path.startswith("http") else self.base_url + path
        answer = self.page.send("Page.navigate", {"url": url})
        if answer.get("errorText"):
            raise AssertionError(f"[{self.engine}] could not open {url}: {answer['errorText']}")
        self.until(lambda: self._loaded > loaded, 15, f"{url} to load")

    def js(self, source, arg=None):
        expression = f"({source})({json.dumps(arg, ensure_ascii=False)})"
        answer = self.page.send("Runtime.evaluate", {"expression": expression, "returnByValue": True})
        if "exceptionDetails" in answer:
            details = answer["exceptionDetails"]
            raise RuntimeError(f"[{self.engine}] script failed: "
                               f"{(details.get('exception') or {}).get('description') or details.get('text')}")
        return answer.get("result", {}).get("value")

    def tap_at(self, x, y):
        point = {"x": x, "y": y, "radiusX": 1, "radiusY": 1, "force": 1}
        self.page.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [point]})
        self.page.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})

    def drag(self, x, y, dy, steps=12):
        _touch_drag(self.page.send, x, y, dy, steps)

    def screenshot(self, path):
        data = self.page.send("Page.captureScreenshot", {"format": "png"}, timeout=30)["data"]
        Path(path).write_bytes(base64.b64decode(data))

    def block(self, url_part):
        self.page.send("Network.setBlockedURLs", {"urls": [f"*{url_part}*"]})

    def cookies(self):
        return {c["name"]: c["value"] for c in self.page.send("Network.getAllCookies")["cookies"]}

    def close(self):
        self.page.close()
        self.browser.close()


def _touch_drag(send, x, y, dy, steps):
    """touchStart / touchMove… / touchEnd: the scrolling path a finger takes (synthetic scroll gestures don't)."""
    send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [{"x": x, "y": y}]})
    for i in range(1, steps + 1):
        send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [{"x": x, "y": y + dy * i / steps}]})
    # Hold still before lifting, so the page does not fling on (a tap during a fling only stops the fling).
    for _ in range(3):
        time.sleep(0.06)
        send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [{"x": x, "y": y + dy}]})
    send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
