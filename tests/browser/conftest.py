"""Fixtures for real-browser tests: a live waitress server per backend, Debian Chromium, seeded data.

- `live` is one server per test module and database backend (SQLite copy of the migrated template,
  and PostgreSQL when KIOSK_TEST_DATABASE_URL is set); each test makes its own compound, so tests
  never see each other's notices. `live.stop()` takes the server away (listener and open connections)
  and `live.start()` brings it back on the same port, for the lobby screen's outage tests.
- `chromium` is one headless Debian Chromium for the whole session; `visitor(...)` opens a fresh
  browser context (its own cookies) and records Content-Security-Policy complaints and page errors.
- `open_screen(path)` opens the lobby screen on the engine of the `screen_engine` parameter: Debian Chromium
  through Playwright, or the frozen Chromium 65 / 78 of lobby WebViews through our CDP driver
  (screen_driver.py, old_chromium.py); test_screen_*journey*.py run every screen journey on all three.
- Without Chromium or Playwright the tests are skipped, or fail when CI=true; likewise without the old
  Chromium builds that scripts/old-chromium.sh unpacks into .cache/old-chromium/.
"""
import itertools
import os
import shutil
import threading
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import pytest

from kiosk.auth.models import Membership, Role, User
from kiosk.compounds.models import Compound
from kiosk.database import utcnow
from kiosk.extensions import db
from kiosk.notices.models import Category, Notice, Status

from conftest import IN_CI, PASSWORD, _truncate_postgres, make_app, password_hash

try:
    from playwright.sync_api import expect
except ImportError:  # pragma: no cover - the `pw` fixture skips (or fails in CI) before expect is needed
    expect = None

CHROMIUM = os.environ.get("KIOSK_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync"]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "browser"
# What Chromium writes to the console when the Content-Security-Policy blocks something.
CSP_MARKERS = ("Content Security Policy", "Content-Security-Policy", "Refused to")

__all__ = ["PASSWORD", "expect", "log_in", "screenshot"]


def _no_browser(reason):
    """Skip a browser test for a missing browser, or fail it in CI where the browser must be there."""
    message = f"CHROMIUM: {reason}"
    if IN_CI:
        pytest.fail(message + " (CI=true: browser tests must run in CI)")
    pytest.skip(reason=message)


@pytest.fixture(scope="session")
def pw(request):
    """The Playwright driver: pytest-playwright's session fixture when that plugin is loaded, else our own."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:  # pragma: no cover - depends on the machine
        _no_browser(f"the playwright package is not installed ({exc}); pip install -e '.[test]'")
    if request.config.pluginmanager.hasplugin("playwright"):
        # Two sync Playwright drivers cannot run in one thread: share the plugin's if it is there.
        yield request.getfixturevalue("playwright")
        return
    driver = sync_playwright().start()
    yield driver
    driver.stop()


@pytest.fixture(scope="session")
def chromium(pw):
    """Headless Debian Chromium (never Playwright's downloaded browsers)."""
    if not Path(CHROMIUM).exists():
        _no_browser(f"{CHROMIUM} not found; apt-get install chromium fonts-noto-cjk or set KIOSK_CHROMIUM")
    try:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
    except Exception as exc:  # pragma: no cover - depends on the machine
        _no_browser(f"{CHROMIUM} did not start: {exc}")
    yield browser
    browser.close()


@pytest.fixture(scope="session")
def devices(pw):
    """Playwright's device descriptors (viewport, user agent, touch) by name, e.g. devices["Pixel 5"]."""
    return pw.devices


class LiveSite:
    """A running server and ways to put data into its database the way the app would have it."""

    _numbers = itertools.count(1)

    def __init__(self, app, backend):
        self.app = app
        self.backend = backend
        self.server = self.thread = None
        self.port = 0
        self.start()

    @property
    def base_url(self):
        return f"http://127.0.0.1:{self.port}"

    def start(self):
        """Serve the app (again) on the same port, so a browser that was already open reconnects by itself."""
        assert self.server is None, "the live server is already running"
        self.server, self.thread = _serve(self.app, self.port)
        self.port = self.server.effective_port

    def stop(self):
        """Stop serving as a power cut or a crash would: refuse new connections and drop the open ones."""
        if self.server is None:
            return
        from waitress import wasyncore

        server, thread = self.server, self.thread
        self.server = self.thread = None
        # Close the listener and every kept-alive connection inside the server's own loop thread (closing
        # them from here would race its select()); the loop ends when its map is empty.
        server.trigger.pull_trigger(lambda: wasyncore.close_all(server._map, ignore_all=True))
        thread.join(timeout=5)
        server.task_dispatcher.shutdown(cancel_pending=True, timeout=5)

    def new_compound(self, name="枫叶小区", role=Role.member):
        """Create a compound and a committee account (password PASSWORD, no forced change); return both."""
        n = next(self._numbers)
        slug, username = f"b{n}-{self.backend[:2]}", f"weiyuan{n}"
        with self.app.app_context():
            compound = Compound(slug=slug, name=name, community="东湖社区", district="湘江街道")
            user = User(username=username, display_name="王委员", password_hash=password_hash(self.app),
                        must_change_password=False)
            db.session.add_all([compound, user])
            db.session.flush()
            db.session.add(Membership(user_id=user.id, compound_id=compound.id, role=Role(role)))
            db.session.commit()
        return Seeded(slug=slug, name=name, username=username, site=self)

    def add_notice(self, slug, title, body="", category="notice", urgent=False, pinned=False,
                   status="published", published_minutes_ago=60):
        """Put a notice straight into the database; return its id."""
        with self.app.app_context():
            compound = db.session.scalar(db.select(Compound).where(Compound.slug == slug))
            notice = Notice(compound_id=compound.id, title=title, body=body, category=Category(category),
                            urgent=urgent, pinned=pinned, status=Status(status),
                            published_at=utcnow() - timedelta(minutes=published_minutes_ago)
                            if status == "published" else None)
            db.session.add(notice)
            db.session.commit()
            return notice.id

    def notice_by_title(self, slug, title):
        """Return (id, status, urgent) of the compound's notice with this title, or None."""
        with self.app.app_context():
            row = db.session.execute(
                db.select(Notice.id, Notice.status, Notice.urgent).join(Compound, Compound.id == Notice.compound_id)
                .where(Compound.slug == slug, Notice.title == title)).first()
            return None if row is None else (row.id, Status(row.status), row.urgent)

    def add_screen(self, slug, name="1号楼大堂", **fields):
        """Register a lobby screen (orientation, dwell_seconds, idle_seconds, night_start/end); return its key."""
        from kiosk.screen.models import Orientation, Screen

        if "orientation" in fields:
            fields["orientation"] = Orientation(fields["orientation"])
        with self.app.app_context():
            compound = db.session.scalar(db.select(Compound).where(Compound.slug == slug))
            screen = Screen(compound_id=compound.id, name=name, **fields)
            db.session.add(screen)
            db.session.commit()
            return screen.key

    def publish_notice(self, slug, username, title, body="", category="notice", urgent=False, pinned=False):
        """Publish a notice the way the admin form does (audit, version bump, change row); return its id."""
        from kiosk.notices import service

        with self.app.app_context():
            compound = db.session.scalar(db.select(Compound).where(Compound.slug == slug))
            actor = db.session.scalar(db.select(User).where(User.username == username))
            fields = {"title": title, "body": body, "category": Category(category), "urgent": urgent,
                      "pinned": pinned}
            notice = service.save(compound, actor, None, fields, publish=True)
            db.session.commit()
            return notice.id


@dataclass
class Seeded:
    """A compound made for one test, with its committee account."""

    slug: str
    name: str
    username: str
    site: LiveSite

    @property
    def home(self):
        return f"/{self.slug}/"

    @property
    def admin(self):
        return f"/admin/{self.slug}/notices/"

    def add_notice(self, title, **kwargs):
        return self.site.add_notice(self.slug, title, **kwargs)

    def publish_notice(self, title, **kwargs):
        return self.site.publish_notice(self.slug, self.username, title, **kwargs)

    def add_screen(self, **fields):
        """Register a lobby screen; return its URL path /<compound>/screen/<key>."""
        return f"/{self.slug}/screen/{self.site.add_screen(self.slug, **fields)}"


def _serve(app, port=0):
    from waitress.server import create_server

    server = create_server(app, host="127.0.0.1", port=port, threads=8)
    thread = threading.Thread(target=server.run, name="kiosk-live-server", daemon=True)
    thread.start()
    return server, thread


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def live(request, tmp_path_factory, sqlite_template):
    """A live server on a real database file (SQLite) or a real PostgreSQL, one per module and backend."""
    folder = tmp_path_factory.mktemp(f"live-{request.param}")
    if request.param == "postgresql":
        url = request.getfixturevalue("postgres_schema")
        _truncate_postgres(url)
    else:
        path = folder / "kiosk.sqlite3"
        shutil.copyfile(sqlite_template, path)
        url = f"sqlite:///{path}"
    app = make_app(folder, url)
    site = LiveSite(app, request.param)
    yield site
    site.stop()
    with app.app_context():
        db.engine.dispose()


@dataclass
class Visitor:
    """One person's browser: a fresh context (own cookies) with a page, and what its console said."""

    context: object
    page: object
    console_errors: list = field(default_factory=list)
    csp_violations: list = field(default_factory=list)
    page_errors: list = field(default_factory=list)

    def _on_console(self, message):
        text = message.text
        if any(marker in text for marker in CSP_MARKERS):
            self.csp_violations.append(f"{message.page.url if message.page else '?'}: {text}")
        elif message.type == "error":
            source = (message.location or {}).get("url", "")
            self.console_errors.append(f"{text} [{source}]")

    def assert_clean(self):
        """The pages ran without CSP violations, uncaught script errors or console errors."""
        assert self.csp_violations == [], "Content-Security-Policy violations:\n" + "\n".join(self.csp_violations)
        assert self.page_errors == [], "uncaught page errors:\n" + "\n".join(self.page_errors)
        # htmx reports failed swaps and requests with console.error; a 404 for a resource shows up here too.
        assert self.console_errors == [], "console errors:\n" + "\n".join(self.console_errors)


@pytest.fixture
def visitor(chromium, live):
    """Open a browser context on the live server: visitor(**new_context_options) -> Visitor."""
    opened = []

    def open_(**options):
        options.setdefault("locale", "zh-CN")
        options.setdefault("timezone_id", "Asia/Shanghai")
        context = chromium.new_context(base_url=live.base_url, **options)
        context.set_default_timeout(10_000)
        page = context.new_page()
        person = Visitor(context=context, page=page)
        context.on("console", person._on_console)
        page.on("pageerror", lambda error: person.page_errors.append(str(error)))
        opened.append(context)
        return person

    yield open_
    for context in opened:
        context.close()


def screenshot(page, name, live):
    """Save a full-page screenshot under test-artifacts/browser/ (for people to look at)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}-{live.backend}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def log_in(page, account, tap=True):
    """Log in through the real login form as the compound's committee account; land on its notice list."""
    page.goto("/admin/login")
    page.get_by_label("用户名").fill(account.username)
    page.get_by_label("密码", exact=True).fill(PASSWORD)
    button = page.get_by_role("button", name="登录")
    button.tap() if tap else button.click()
    expect(page).to_have_url(account.site.base_url + account.admin)


# The lobby screen's journeys run on three engines: today's Debian Chromium (Playwright) and the frozen
# Chromium 65 and 78 that lobby WebViews really are (our CDP driver). The phones stay on Debian Chromium.
SCREEN_ENGINES = ["chromium", "chrome78", "chrome65"]
SCREEN_SIZES = {"portrait": (1080, 1920), "landscape": (1920, 1080)}


def pytest_collection_modifyitems(config, items):
    """Run each browser journey once, on SQLite: the database is not what a browser tests, and each pass costs
    seconds to minutes (every database rule is tested on both engines without a browser). A journey where the
    engine does matter (many phones writing at once) says so with @pytest.mark.both_engines; the old Chromium
    engines run on SQLite even then."""
    keep, drop = [], []
    for item in items:
        params = item.callspec.params if hasattr(item, "callspec") else {}
        old_engine = params.get("screen_engine", "chromium") != "chromium"
        on_postgres = params.get("live") == "postgresql"
        wanted = item.get_closest_marker("both_engines") is not None and not old_engine
        (drop if on_postgres and not wanted else keep).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


@pytest.fixture
def fast_poll(live, monkeypatch):
    """Screens opened in this test poll every journeys.POLL seconds (the app reads POLL_SECONDS per request)."""
    from .journeys import POLL

    monkeypatch.setitem(live.app.config, "POLL_SECONDS", POLL)


@pytest.fixture(params=SCREEN_ENGINES)
def screen_engine(request):
    """The engine the lobby screen runs on in this journey."""
    return request.param


@pytest.fixture
def open_screen(screen_engine, live, request):
    """open_screen(path, orientation="portrait", ready=True) -> a ScreenDriver on the live server's screen page.

    ready: wait until a slide shows and htmx runs, then mark the document (a reload would wipe the mark).
    """
    from .old_chromium import ENGINES, missing_reason
    from .screen_driver import CdpScreen, PlaywrightScreen

    opened = []

    def open_(path, orientation="portrait", ready=True, before=None):
        width, height = SCREEN_SIZES[orientation]
        if screen_engine == "chromium":
            driver = PlaywrightScreen(request.getfixturevalue("chromium"), live.base_url, width, height)
        else:
            engine = ENGINES[screen_engine]
            reason = missing_reason(engine)
            if reason:
                _no_browser(reason)
            driver = CdpScreen(engine, live.base_url, width, height)
        opened.append(driver)
        if before:
            before(driver)
        driver.goto(path)
        if ready:
            driver.wait_count("#loop .slide.is-current", 1)
            driver.until(lambda: driver.js("() => window.htmx !== undefined"), 5, "htmx to run")
            driver.mark()
        return driver

    yield open_
    for driver in opened:
        driver.close()
