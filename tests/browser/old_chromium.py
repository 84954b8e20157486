"""The frozen Chromium builds lobby WebViews really are, as test engines: where they are and how to start one.

`scripts/old-chromium.sh` (run by `./scripts/test`) unpacks them from pinned npm tarballs into
.cache/old-chromium/<engine>/chromium. Each journey starts its own browser process (0.3 s here) with a fresh
profile: in --single-process mode these builds crash when asked for a second browser context.
"""
import os
import re
import shutil
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from .cdp import Connection

ROOT = Path(__file__).resolve().parents[2]
CACHE = Path(os.environ.get("KIOSK_OLD_CHROMIUM_DIR", ROOT / ".cache" / "old-chromium"))
# The flags that make these builds run here as root, without a display or a GPU.
FLAGS = ["--headless", "--no-sandbox", "--single-process", "--no-zygote", "--disable-gpu",
         "--disable-dev-shm-usage", "--no-first-run", "--disable-background-networking", "--mute-audio",
         "--hide-scrollbars", "--remote-debugging-port=0"]
LISTENING = re.compile(r"DevTools listening on (ws://\S+)")


@dataclass(frozen=True)
class Engine:
    """One old Chromium build: its name in test ids, the npm package that carries it, the version it reports."""

    name: str
    package: str
    version: str

    @property
    def major(self):
        return int(self.version.split(".")[0])

    @property
    def executable(self):
        return CACHE / self.name / "chromium"


# Keep in step with scripts/old-chromium.sh (which pins the tarballs' sha256).
ENGINES = {
    "chrome65": Engine("chrome65", "chrome-aws-lambda@1.0.0", "65.0.3312.0"),
    "chrome78": Engine("chrome78", "chrome-aws-lambda@1.20.4", "78.0.3882.0"),
}


def missing_reason(engine):
    """Why this engine cannot run here, or None when it can."""
    if not engine.executable.exists():
        return (f"{engine.executable} not found: ./scripts/old-chromium.sh unpacks Chromium {engine.version} "
                f"from the npm package {engine.package} (./scripts/test runs it)")
    if not os.access(engine.executable, os.X_OK):
        return f"{engine.executable} is not executable"
    return None


class Browser:
    """One running old Chromium process with a throwaway profile; `connect_page()` gives its first tab."""

    def __init__(self, engine, width=1080, height=1920, timeout=20):
        self.engine = engine
        self.profile = tempfile.mkdtemp(prefix=f"kiosk-{engine.name}-")
        env = dict(os.environ, TZ="Asia/Shanghai", LANG="zh_CN.UTF-8", LANGUAGE="zh_CN")
        self.process = subprocess.Popen(
            [str(engine.executable), *FLAGS, f"--user-data-dir={self.profile}", f"--window-size={width},{height}",
             "--lang=zh-CN", "about:blank"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
        self.url = self._wait_for_devtools(timeout)
        self.port = int(self.url.split(":")[2].split("/")[0])
        self.connection = Connection(self.url)
        self.version = self.connection.send("Browser.getVersion")["product"]

    def _wait_for_devtools(self, timeout):
        """Read stderr until the DevTools line; keep draining it afterwards so the browser never blocks."""
        found = threading.Event()
        holder = {}

        def drain():
            for raw in self.process.stderr:
                line = raw.decode("utf-8", "replace")
                match = LISTENING.search(line)
                if match and not found.is_set():
                    holder["url"] = match.group(1)
                    found.set()
            found.set()

        threading.Thread(target=drain, name=f"{self.engine.name}-stderr", daemon=True).start()
        if not found.wait(timeout) or "url" not in holder:
            self.close()
            raise RuntimeError(f"Chromium {self.engine.version} did not open its DevTools port in {timeout} s")
        return holder["url"]

    def connect_page(self, timeout=10):
        """A connection to the browser's first tab (about:blank), once the browser has opened it (on a busy
        machine the DevTools port answers a moment before the tab exists)."""
        deadline = time.monotonic() + timeout
        while True:
            pages = [t for t in self.connection.send("Target.getTargets")["targetInfos"] if t["type"] == "page"]
            if pages or time.monotonic() >= deadline:
                break
            time.sleep(0.1)
        if not pages:
            raise RuntimeError(f"Chromium {self.engine.version} opened no tab in {timeout} s")
        return Connection(f"ws://127.0.0.1:{self.port}/devtools/page/{pages[0]['targetId']}")

    def close(self):
        """Stop this browser process (only this one) and remove its profile."""
        if getattr(self, "connection", None) is not None:
            self.connection.close()
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        shutil.rmtree(self.profile, ignore_errors=True)
