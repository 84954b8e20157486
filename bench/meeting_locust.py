"""The locust side of bench/meeting.py: who is at the meeting and what their browsers send.

Run by bench/meeting.py (`locust -f bench/meeting_locust.py --headless ...`) with MEETING_CONFIG naming a JSON
file it wrote: the compound, the open topic, the phones' card cookies, the screens, the committee's logins, the
notices and periods passers-by open, and where to write what the screens saw. Each user class behaves as the
page it sits on: the topic page's results block polls every 5 s (templates/consult/_results.html), a lobby
screen pulses every 2 s and re-fetches an area's slides and the banner when the pulse names it
(static/js/kiosk.js), the committee's results block polls every 5 s (templates/consult/_admin_results.html).
"""
import http.cookiejar
import json
import os
import random
import re
import time

import gevent
from locust import FastHttpUser, constant, events, task

CONFIG = json.loads(open(os.environ["MEETING_CONFIG"], encoding="utf-8").read())
RNG = random.Random(CONFIG.get("seed", 16))
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
VERSION = re.compile(r'data-version="(\d+)"')
TURNOUT = re.compile(r"已投\s*(\d+)\s*/\s*(\d+)\s*户")
CONSULT_EVENT = "kiosk-area-consult"
HTMX = {"HX-Request": "true"}
START = {"at": None}
# When the last phone had its topic page (seconds after START): the phones "sit on the open topic page" before the
# vote, so the vote window is counted from then, not from START, while the 200 are still arriving at 100 a second
# (an arrival is not judged; a vote sent in the middle of it measured the arrival, not the vote).
ARRIVED = {"phones": 0, "at": None}
VOTES = []  # (answered at, household, choice, first?) for every vote answered with a 303
SLIDES = []  # (screen key, received at, turnout shown) each time a screen re-fetched its consultation slide
NEXT_PHONE = iter(range(len(CONFIG["phones"])))
NEXT_SCREEN = iter(range(len(CONFIG["screens"])))
NEXT_MEMBER = iter(range(len(CONFIG["committee"])))
HOSTS = {"next": 0}


@events.test_start.add_listener
def _started(**_):
    START["at"] = time.time()


@events.test_stop.add_listener
def _stopped(**_):
    with open(CONFIG["out"], "w", encoding="utf-8") as out:
        json.dump({"started": START["at"], "stopped": time.time(), "arrived": ARRIVED["at"], "votes": VOTES,
                   "slides": SLIDES}, out)


def since_start():
    return time.time() - (START["at"] or time.time())


class Browser(FastHttpUser):
    """A browser of the meeting: sends the configured Host header and, over HTTPS, a Referer with a POST."""

    abstract = True
    wait_time = constant(0)
    insecure = True  # the bench's own throwaway certificate behind nginx
    network_timeout = 60.0
    connection_timeout = 60.0

    def __init__(self, environment):
        # Without a balancer (meeting.py --no-nginx) users take the processes in turn, as a DNS round robin would.
        if CONFIG.get("hosts"):
            self.host = CONFIG["hosts"][HOSTS["next"] % len(CONFIG["hosts"])]
            HOSTS["next"] += 1
        super().__init__(environment)

    def headers(self, extra=None, referer=None):
        found = dict(extra or {})
        if CONFIG.get("host_header"):
            found["Host"] = CONFIG["host_header"]
        if referer:
            found["Referer"] = f"{CONFIG['origin']}{referer}"
        return found

    arriving = True  # until on_start ends: the user's first pages are its arrival, a class of their own

    def named(self, name):
        """The request class: arrivals apart, since locust counts a request when it ends, and the arrivals'
        queue (every user starting within seconds) ends after the statistics are reset."""
        return f"arrival: {name}" if self.arriving else name

    def get(self, path, name, extra=None, expect=200):
        """GET path as one request class; anything but `expect` is a failure. Returns (response, text)."""
        with self.client.get(path, name=self.named(name), headers=self.headers(extra), allow_redirects=False,
                             catch_response=True) as response:
            if response.status_code != expect:
                response.failure(f"{response.status_code}, not {expect}")
            else:
                response.success()
            return response, response.text or ""

    def sleep_until(self, moment):
        """Sleep until `moment` seconds after the start of the test (the user's page timer)."""
        gevent.sleep(max(0.0, moment - since_start()))

    def give_cookie(self, name, value):
        host = re.match(r"https?://([^:/]+)", self.host).group(1)
        self.client.cookiejar.set_cookie(http.cookiejar.Cookie(
            0, name, value, None, False, host, False, False, "/", True, False, None, False, None, None, {}))


class Phone(Browser):
    """A household's phone at the meeting, its card opened before: on the open topic page, the results block
    polled every 5 s; some time in the vote window it votes (and perhaps changes its vote later)."""

    fixed_count = len(CONFIG["phones"])

    def on_start(self):
        self.index = next(NEXT_PHONE)
        card = CONFIG["phones"][self.index]
        self.household, self.token = card["household"], card["token"]
        self.give_cookie(CONFIG["cookie"], self.token)
        self.topic = f"/{CONFIG['slug']}/topics/{CONFIG['topic_id']}"
        window = CONFIG["vote_window"]
        self.plan = []  # (when, counted from ARRIVED, choice) of this phone's votes, in order
        if self.index < CONFIG["voters"]:
            when = RNG.uniform(window[0], window[1])
            choice = RNG.choices(("yes", "no", "abstain"), (60, 30, 10))[0]
            self.plan.append((when, choice))
            if self.index < CONFIG["changers"]:
                later = RNG.uniform(when + 5, max(when + 6, CONFIG["change_by"]))
                self.plan.append((later, RNG.choice([c for c in ("yes", "no", "abstain") if c != choice])))
        self.open_page()
        self.arriving = False
        ARRIVED["phones"] += 1
        if ARRIVED["phones"] == self.fixed_count:
            ARRIVED["at"] = since_start()
        self.next_poll = since_start() + RNG.uniform(0, 5)

    def open_page(self):
        _, text = self.get(self.topic, "phone (card): topic page")
        found = CSRF.search(text)
        self.csrf = found.group(1) if found else ""

    @task
    def next_step(self):
        arrived = ARRIVED["at"]
        if self.plan and arrived is not None and arrived + self.plan[0][0] <= self.next_poll:
            when, choice = self.plan.pop(0)
            self.sleep_until(arrived + when)
            self.vote(choice)
            return
        self.sleep_until(self.next_poll)
        self.next_poll += 5
        self.get(self.topic + "/results", "phone (card): results fragment, every 5 s", HTMX)

    def vote(self, choice):
        first = not any(v[1] == self.household for v in VOTES)
        with self.client.post(self.topic + "/vote", data={"csrf_token": self.csrf, "choice": choice},
                              name="phone (card): vote (POST, 303)", allow_redirects=False, catch_response=True,
                              headers=self.headers(referer=self.topic)) as response:
            answered = time.time()
            if response.status_code != 303:
                response.failure(f"{response.status_code}, not 303")
                return
            response.success()
        VOTES.append((answered, self.household, choice, first))
        self.open_page()  # the browser follows the 303 to the topic page


class Screen(Browser):
    """A lobby screen as static/js/kiosk.js runs it: the loop page once, then a pulse every 2 s with the version
    it knows; a 200 with a new pulse element names the changed areas in HX-Trigger, and each named area's
    slides are fetched again, and the urgent banner. Records the turnout the consultation slide shows each time
    it arrives."""

    fixed_count = len(CONFIG["screens"])

    def on_start(self):
        screen = CONFIG["screens"][next(NEXT_SCREEN)]
        self.key, self.id = screen["key"], screen["id"]
        self.base = f"/{CONFIG['slug']}/screen/{self.key}"
        _, text = self.get(self.base, "screen: loop page")
        self.version = int(VERSION.search(text).group(1))
        self.record(text)
        self.arriving = False
        self.next_pulse = since_start() + RNG.uniform(0, 2)

    def record(self, text):
        """Note the turnout the meeting topic's slide shows (the slide with the topic's data-slide-id)."""
        at = time.time()
        mark = text.find(f'data-slide-id="consult-{CONFIG["topic_id"]}"')
        found = TURNOUT.search(text, mark) if mark >= 0 else None
        if found:
            SLIDES.append((self.key, at, int(found.group(1))))

    @task
    def pulse(self):
        self.sleep_until(self.next_pulse)
        self.next_pulse += 2
        response, text = self.get(f"/{CONFIG['slug']}/pulse?v={self.version}&s={self.id}", "screen: pulse, every 2 s",
                                  HTMX)
        if response.status_code != 200 or not text.strip():
            return  # nothing changed
        found = VERSION.search(text)
        if found:
            self.version = int(found.group(1))
        try:
            areas = list(json.loads(response.headers.get("HX-Trigger") or "{}"))
        except ValueError:
            areas = [a.strip() for a in (response.headers.get("HX-Trigger") or "").split(",")]
        for event in areas:
            area = event.removeprefix("kiosk-area-")
            if event == CONSULT_EVENT:
                _, slides = self.get(f"{self.base}/slides/{area}", "screen: consultation slides, when told", HTMX)
                self.record(slides)
            elif event.startswith("kiosk-area-"):
                self.get(f"{self.base}/slides/{area}", "screen: other area's slides, when told", HTMX)
        if any(event.startswith("kiosk-area-") for event in areas):
            # The urgent banner listens for every area's event (templates/screen/_banner.html's hx-trigger).
            self.get(f"{self.base}/banner", "screen: banner, when told", HTMX)


class Committee(Browser):
    """A committee member's phone on the topic's admin page: logged in, the results block polled every 5 s."""

    fixed_count = len(CONFIG["committee"])

    def on_start(self):
        member = CONFIG["committee"][next(NEXT_MEMBER)]
        _, text = self.get("/admin/login", "committee: log in page")
        token = CSRF.search(text).group(1)
        with self.client.post("/admin/login", data={"csrf_token": token, "username": member["username"],
                                                    "password": member["password"]},
                              name=self.named("committee: log in (POST)"), allow_redirects=False, catch_response=True,
                              headers=self.headers(referer="/admin/login")) as response:
            if response.status_code not in (302, 303):
                response.failure(f"log in answered {response.status_code}")
            else:
                response.success()
        self.page = f"/admin/{CONFIG['slug']}/topics/{CONFIG['topic_id']}"
        self.get(self.page, "committee: topic page")
        self.arriving = False
        self.next_poll = since_start() + RNG.uniform(0, 5)

    @task
    def refresh(self):
        self.sleep_until(self.next_poll)
        self.next_poll += 5
        self.get(self.page + "/results", "committee: results fragment, every 5 s", HTMX)


class PasserBy(Browser):
    """Someone with no card cookie browsing on the phone: the home page, a notice, the ledger, a period."""

    fixed_count = CONFIG["passers_by"]

    def wait_time(self):
        return RNG.uniform(3, 10)  # reading before the next tap

    def get(self, path, name, extra=None, expect=200):
        """A tap; the first is the passer-by's arrival: it opens a new TLS connection while the 200 phones
        arrive (through nginx it took as long as theirs, 4-7 s, and was 30 of the ~270 passers-by's taps)."""
        try:
            return super().get(path, name, extra, expect)
        finally:
            self.arriving = False

    @task(3)
    def home(self):
        self.get(f"/{CONFIG['slug']}/", "passer-by: phone home")

    @task(3)
    def notice(self):
        self.get(f"/{CONFIG['slug']}/n/{RNG.choice(CONFIG['notices'])}", "passer-by: notice")

    @task(2)
    def ledger(self):
        self.get(f"/{CONFIG['slug']}/ledger/", "passer-by: ledger home")

    @task(2)
    def period(self):
        self.get(f"/{CONFIG['slug']}/ledger/{RNG.choice(CONFIG['periods'])}", "passer-by: ledger period page")
