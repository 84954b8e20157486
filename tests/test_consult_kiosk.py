"""Issue 11, item 4: voting at the lobby screen can't be brute-forced, and the screen never holds a code or a
card after its keypad; wrong entries slow a screen down instead of locking it for everyone."""
import re
from datetime import timedelta

import pytest
import time_machine
from bs4 import BeautifulSoup
from sqlalchemy import func, select

from kiosk.consult import kiosk_votes, service
from kiosk.consult.models import Ballot, KioskCode, KioskGuess
from kiosk.database import utcnow
from kiosk.extensions import db
from kiosk.households.cards import COOKIE
from kiosk.households.service import issue
from kiosk.households.models import Household
from kiosk.screen.models import Screen

import factories
from conftest import csrf_token


def roll(compound, n=6):
    return factories.households(compound, n, area=lambda i: 9000)


def open_topic(compound, chair, **fields):
    return factories.open_topic(compound, chair, **{"title": "是否更换单元门禁", **fields})


def screen(compound, key="lobby-key-1"):
    made = Screen(compound_id=compound.id, name=key, key=key)
    db.session.add(made)
    db.session.commit()
    return made


def text(response):
    return " ".join(BeautifulSoup(response.get_data(as_text=True), "html.parser").get_text(" ").split())


def step_of(response):
    field = BeautifulSoup(response.get_data(as_text=True), "html.parser").find("input", attrs={"name": "step"})
    return field["value"] if field else None


class Keypad:
    """A lobby screen's vote pages for one topic."""

    def __init__(self, app, lobby, topic, compound="maple"):
        self.client = app.test_client()
        self.base = f"/{compound}/kiosk/{lobby.key}/vote/{topic.id}"
        self.token = csrf_token(self.client, self.base)

    def enter(self, code):
        return self.client.post(self.base, data={"csrf_token": self.token, "code": code})

    def cast(self, step, choice="yes"):
        return self.client.post(self.base + "/cast", data={"csrf_token": self.token, "step": step, "choice": choice})


def wrong(live):
    """A six-digit code that is not live."""
    n = 0
    while f"{n:06d}" in live:
        n += 1
    return f"{n:06d}"


def new_code(compound, household):
    code = kiosk_votes.issue_code(compound, household)
    db.session.commit()
    return code


# --- slowing down, never locking out -----------------------------------------------------------------------------

def test_thirty_wrong_codes_slow_the_screen_down_but_never_lock_a_resident_out(app, compound, chair):
    homes = roll(compound)
    topic = open_topic(compound, chair)
    lobby = screen(compound)
    with time_machine.travel(utcnow(), tick=False) as clock:
        keypad = Keypad(app, lobby, topic)
        code = new_code(compound, homes[0])
        waits = []
        for attempt in range(30):
            answer = keypad.enter(wrong({code}))
            if answer.status_code == 429:  # told to wait: the screen waits, then types again
                waited = int(re.search(r"请等 (\d+) 秒再试", text(answer)).group(1))
                assert answer.headers["Retry-After"] == str(waited)
                waits.append(waited)
                clock.shift(timedelta(seconds=waited))
                answer = keypad.enter(wrong({code}))
            assert answer.status_code == 400 and "投票码不对或已过期" in text(answer)
        assert waits[:5] == [1, 2, 4, 8, 16] and max(waits) == kiosk_votes.SCREEN_CAP
        # A resident who walks up now, with a fresh code, waits at most a minute, then votes.
        code = new_code(compound, homes[0])
        answer = keypad.enter(code)
        if answer.status_code == 429:
            clock.shift(timedelta(seconds=int(answer.headers["Retry-After"])))
            answer = keypad.enter(code)
        assert answer.status_code == 200 and "为 1栋101 投票" in text(answer)
        assert keypad.cast(step_of(answer)).status_code == 200
    assert db.session.scalar(select(func.count()).select_from(Ballot)) == 1


def test_wrong_entries_are_counted_across_the_compounds_screens(app, compound, chair, monkeypatch):
    homes = roll(compound)
    topic = open_topic(compound, chair)
    lobbies = [screen(compound, f"lobby-key-{n}") for n in range(8)]
    with time_machine.travel(utcnow(), tick=False) as clock:
        keypads = [Keypad(app, lobby, topic) for lobby in lobbies]
        code = new_code(compound, homes[0])
        # Eight screens, five free wrong entries each: the compound's 30 run out first.
        statuses = [keypad.enter(wrong({code})).status_code for keypad in keypads for _ in range(5)]
        assert statuses[:30] == [400] * 30 and set(statuses[30:]) == {429}
        answer = keypads[7].enter(code)
        assert answer.status_code == 429 and "请等 20 秒再试" in text(answer)
        clock.shift(timedelta(seconds=20))
        assert keypads[7].enter(code).status_code == 200  # then it goes on, for everyone


def test_wrong_entries_are_counted_across_the_server(app, compound, chair, make_compound, monkeypatch):
    monkeypatch.setattr(kiosk_votes, "SERVER_FREE", 4)
    oak = make_compound("oak", "橡树小区")
    roll(compound)
    oak_home = roll(oak, 1)[0]
    maple_keypad = Keypad(app, screen(compound, "maple-lobby"), open_topic(compound, chair))
    oak_keypad = Keypad(app, screen(oak, "oak-lobby"), open_topic(oak, chair), "oak")
    code = new_code(oak, oak_home)
    for _ in range(4):
        assert maple_keypad.enter(wrong({code})).status_code == 400
    assert oak_keypad.enter(code).status_code == 429  # another compound, but the same server


def test_a_bad_nonce_at_the_ballot_counts_as_a_wrong_entry(app, compound, chair):
    homes = roll(compound)
    topic = open_topic(compound, chair)
    lobby = screen(compound)
    keypad = Keypad(app, lobby, topic)
    for n in range(kiosk_votes.SCREEN_FREE):
        answer = keypad.cast(f"made-up-nonce-{n}")
        assert answer.status_code == 400 and "已经过期或用过了" in text(answer)
    assert db.session.scalar(select(func.count()).select_from(KioskGuess)) == kiosk_votes.SCREEN_FREE
    assert keypad.enter(new_code(compound, homes[0])).status_code == 429
    assert db.session.scalar(select(func.count()).select_from(Ballot)) == 0


def test_brute_force_is_hopeless_by_the_numbers():
    """The comment in kiosk_votes.py, checked against its constants: with 20 live codes in a compound, the
    expected number of guesses to hit one takes nearly a week at the compound's slowest pace."""
    window_minutes = kiosk_votes.GUESS_WINDOW.total_seconds() / 60
    per_window = kiosk_votes.COMPOUND_FREE + window_minutes * 60 / kiosk_votes.COMPOUND_SPACING
    per_hour = per_window * 60 / window_minutes
    live_codes = 20
    expected_guesses = kiosk_votes.CODE_SPACE / live_codes
    assert per_hour == 300 and expected_guesses == 50_000
    assert expected_guesses / per_hour > 166  # about 167 hours of non-stop guessing
    # A household keeps at most one live code, for five minutes, and gets six an hour.
    assert kiosk_votes.CODE_LIFETIME == timedelta(minutes=5) and kiosk_votes.CODES_PER_HOUR == 6


# --- codes and keypad steps -----------------------------------------------------------------------------------------

def test_a_household_holds_one_live_code_and_asks_for_a_few_an_hour(app, compound, chair):
    homes = roll(compound)
    topic = open_topic(compound, chair)
    keypad = Keypad(app, screen(compound), topic)
    token = issue(compound, chair, [homes[2]])[0][1]
    db.session.commit()
    phone = app.test_client()
    phone.set_cookie(COOKIE, token)
    codes = []
    for _ in range(kiosk_votes.CODES_PER_HOUR):
        page = phone.post("/maple/my/code", data={"csrf_token": csrf_token(phone, "/maple/my/code")})
        assert page.status_code == 200
        codes.append("".join(re.search(r"(\d{3}) (\d{3})", text(page)).groups()))
    live = db.session.scalar(select(func.count()).select_from(KioskCode).where(
        KioskCode.household_id == homes[2].id, KioskCode.used_at.is_(None), KioskCode.expires_at > utcnow()))
    assert live == 1
    assert keypad.enter(codes[0]).status_code == 400  # replaced by the newer ones
    too_many = phone.post("/maple/my/code", data={"csrf_token": csrf_token(phone, "/maple/my/code")})
    assert too_many.status_code == 429 and "请过一会儿再来" in text(too_many)
    assert too_many.headers["Retry-After"]
    assert "为 1栋103 投票" in text(keypad.enter(codes[-1]))


def test_a_code_expires_in_minutes(app, compound, chair):
    homes = roll(compound)
    topic = open_topic(compound, chair)
    with time_machine.travel(utcnow(), tick=False) as clock:
        keypad = Keypad(app, screen(compound), topic)
        code = new_code(compound, homes[0])
        clock.shift(kiosk_votes.CODE_LIFETIME + timedelta(seconds=1))
        assert keypad.enter(code).status_code == 400


def test_a_keypad_step_works_once_on_its_screen_for_its_topic_for_a_few_minutes(app, compound, chair):
    homes = roll(compound)
    topic = open_topic(compound, chair)
    other_topic = open_topic(compound, chair, title="是否更换路灯")
    here, there = screen(compound, "lobby-here"), screen(compound, "lobby-there")
    with time_machine.travel(utcnow(), tick=False) as clock:
        keypad = Keypad(app, here, topic)
        answer = keypad.enter(new_code(compound, homes[0]))
        step = step_of(answer)
        assert step and len(step) >= 24
        assert Keypad(app, there, topic).cast(step).status_code == 400  # another screen
        assert Keypad(app, here, other_topic).cast(step).status_code == 400  # another topic
        clock.shift(kiosk_votes.STEP_LIFETIME + timedelta(seconds=1))
        assert keypad.cast(step).status_code == 400  # too late: the code is spent, ask for a new one
        answer = keypad.enter(new_code(compound, homes[0]))
        assert keypad.cast(step_of(answer), "no").status_code == 200
        assert keypad.cast(step_of(answer), "yes").status_code == 400  # once
    assert [b.choices for b in db.session.scalars(select(Ballot))] == [["no"]]


def test_a_wrong_pick_keeps_the_same_step_and_asks_again(app, compound, chair):
    homes = roll(compound)
    topic = open_topic(compound, chair)
    keypad = Keypad(app, screen(compound), topic)
    step = step_of(keypad.enter(new_code(compound, homes[0])))
    again = keypad.client.post(keypad.base + "/cast", data={"csrf_token": keypad.token, "step": step})
    assert again.status_code == 400 and "请选一项" in text(again) and step_of(again) == step
    assert keypad.cast(step, "abstain").status_code == 200


@pytest.mark.parametrize(("case", "status", "sentence"), [
    ("not_elector", 403, "不在这个议题的表决名单上"),
    ("already", 409, "本户已经投过票，这个议题不能改票"),
    ("closed", 409, "投票已经截止"),
])
def test_the_keypad_answers_with_the_right_status_and_a_calm_sentence(app, compound, chair, case, status, sentence):
    homes = roll(compound)
    topic = open_topic(compound, chair, allow_change=False)
    keypad = Keypad(app, screen(compound), topic)
    household = homes[0]
    if case == "not_elector":
        household = Household(compound_id=compound.id, building="9", entrance="", room="901", area_centi=9000)
        db.session.add(household)
        db.session.commit()
    elif case == "already":
        service.cast(compound, topic, household, ["yes"])
    code = new_code(compound, household)
    if case == "closed":
        topic.closes_at = utcnow() - timedelta(seconds=1)
        db.session.commit()
    answer = keypad.enter(code)
    assert answer.status_code == status and sentence in text(answer)
    assert db.session.scalar(select(func.count()).select_from(KioskGuess)) == 0  # not a guess
