"""A small Chrome DevTools Protocol client for the frozen Chromium builds that lobby WebViews are (65, 78).

Why not Playwright or puppeteer: current Playwright speaks a newer protocol than Chromium 65/78 do, and
puppeteer-core 1.20 (which does speak it) would put the journeys in JavaScript, in another process, apart
from the live-server fixtures they need. The handful of commands the journeys use (Runtime.evaluate,
Input.dispatchTouchEvent, Page.navigate, Network events) exist unchanged since Chromium 65, so a few dozen
lines over `websocket-client` are enough.

One `Connection` is one websocket: the browser's (targets, contexts) or one page's. Old Chromium has no flat
sessions, so every page gets its own websocket at /devtools/page/<targetId>.
"""
import itertools
import json
import threading
from collections import defaultdict

import websocket


class CDPError(RuntimeError):
    """The browser answered a command with an error, or not at all in time."""


class Connection:
    """A websocket to one DevTools target; `send` waits for the answer, `on` subscribes to events."""

    def __init__(self, url, timeout=15):
        # suppress_origin: newer Chromium refuses foreign Origin headers, old ones ignore it; send none.
        self.ws = websocket.create_connection(url, timeout=timeout, suppress_origin=True, enable_multithread=True)
        self.ws.settimeout(None)
        self.timeout = timeout
        self._ids = itertools.count(1)
        self._waiting = {}
        self._lock = threading.Lock()
        self._listeners = defaultdict(list)
        self.closed = False
        self._reader = threading.Thread(target=self._read, name="cdp-reader", daemon=True)
        self._reader.start()

    def send(self, method, params=None, timeout=None):
        """Send a command and return its result; raise CDPError on an error answer or a time-out."""
        if self.closed:
            raise CDPError(f"{method}: the connection is closed")
        number = next(self._ids)
        done = threading.Event()
        slot = {"done": done}
        with self._lock:
            self._waiting[number] = slot
        self.ws.send(json.dumps({"id": number, "method": method, "params": params or {}}))
        if not done.wait(timeout or self.timeout):
            with self._lock:
                self._waiting.pop(number, None)
            raise CDPError(f"{method}: no answer in {timeout or self.timeout} s")
        if "error" in slot:
            raise CDPError(f"{method}: {slot['error'].get('message')} {slot['error'].get('data', '')}".strip())
        return slot.get("result", {})

    def on(self, method, callback):
        """Call callback(params) for every event named method (e.g. "Runtime.exceptionThrown")."""
        self._listeners[method].append(callback)

    def _read(self):
        while True:
            try:
                raw = self.ws.recv()
            except Exception:  # noqa: BLE001 - the browser closed the socket or went away: stop reading
                break
            if not raw:
                break
            message = json.loads(raw)
            if "id" in message:
                with self._lock:
                    slot = self._waiting.pop(message["id"], None)
                if slot is not None:
                    slot.update({k: message[k] for k in ("result", "error") if k in message})
                    slot["done"].set()
                continue
            for callback in list(self._listeners.get(message.get("method"), ())):
                try:
                    callback(message.get("params", {}))
                except Exception:  # noqa: BLE001 - a faulty listener must not stop the reader thread
                    pass
        self.closed = True
        with self._lock:
            waiting, self._waiting = self._waiting, {}
        for slot in waiting.values():
            slot["error"] = {"message": "the connection closed"}
            slot["done"].set()

    def close(self):
        """Close the websocket (the target itself stays open)."""
        self.closed = True
        try:
            self.ws.close()
        except Exception:  # noqa: BLE001 - already closed
            pass
