"""Voting at the lobby screen: one-time codes from the household's phone, the keypad step, and the guess throttle.

A phone asks for a six-digit code; the screen's keypad takes the code (or a scanned household card) once, and
answers with the ballot and a random nonce that stands for this keypad step. The ballot form carries only the
nonce: after the keypad the screen never holds a code or a card, and a step works once, on its screen, for its
topic, for a few minutes.

Wrong entries at the keypad are counted per screen, per compound and across the server, and answered with a
growing wait ("请等 N 秒再试"), never with a lock-out: a screen is one address, and a lock-out there would keep
every resident away from it. The arithmetic that makes guessing hopeless anyway:

- a household holds at most one live code (a new one replaces the old), for CODE_LIFETIME (5 minutes), and
  may ask for CODES_PER_HOUR (6) an hour; so the live codes L of a compound are the households that asked in
  the last 5 minutes: a handful, say 20 during a busy meeting. One guess hits with probability L / 1,000,000.
- a compound allows COMPOUND_FREE (30) wrong entries per GUESS_WINDOW (15 minutes); past that, one every
  COMPOUND_SPACING (20 s) whichever screen they come from: at most 30 + 900/20 = 75 per window, 300 an hour.
- so the expected number of guesses to hit any live code is 1,000,000 / 20 = 50,000, which takes
  50,000 / 300 = about 167 hours, nearly a week of non-stop guessing at the lobby, while the compound's keypads
  make everyone wait up to 20 s; with the usual one or two live codes it is months. And the prize is a
  single ballot for an unknown household, which that household replaces by voting again (or notices,
  where changes are not allowed). test_consult_kiosk.py checks these numbers against the constants.
- each screen: SCREEN_FREE (5) wrong entries per window are free (people mistype), then the wait after the
  screen's last wrong entry doubles from 1 s up to SCREEN_CAP (60 s).
- across the server: SERVER_FREE (300) per window, then one every SERVER_SPACING (2 s).
"""
import hashlib
import math
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, func, select, update

from ..database import utcnow, writing
from ..extensions import db
from ..households.models import Household
from .models import Ballot, KioskCode, KioskGuess, KioskStep

CODE_LIFETIME = timedelta(minutes=5)
CODES_PER_HOUR = 6
STEP_LIFETIME = timedelta(minutes=3)
GUESS_WINDOW = timedelta(minutes=15)
SCREEN_FREE, SCREEN_CAP = 5, 60
COMPOUND_FREE, COMPOUND_SPACING = 30, 20
SERVER_FREE, SERVER_SPACING = 300, 2
CODE_SPACE = 10 ** 6
CARD_IN_TEXT = re.compile(r"/h/([A-Za-z0-9_-]{10,100})")  # a scanned card's URL, typed in by the scanner


class TooManyCodes(Exception):
    """A household asked for more codes in an hour than CODES_PER_HOUR."""


def _code_hash(compound, code):
    return hashlib.sha256(f"{compound.id}:{code}".encode()).hexdigest()


def _nonce_hash(nonce):
    return hashlib.sha256(f"kiosk-step:{nonce}".encode()).hexdigest()


def issue_code(compound, household, now=None):
    """A fresh six-digit code for the household, replacing its live one; the caller commits.
    Raises TooManyCodes after CODES_PER_HOUR in an hour."""
    now = now or utcnow()
    issued = db.session.scalar(select(func.count()).select_from(KioskCode).where(
        KioskCode.household_id == household.id, KioskCode.expires_at > now - timedelta(hours=1) + CODE_LIFETIME))
    if issued >= CODES_PER_HOUR:
        raise TooManyCodes()
    db.session.execute(update(KioskCode).where(KioskCode.household_id == household.id, KioskCode.used_at.is_(None),
                                               KioskCode.expires_at > now).values(used_at=now))
    for _ in range(20):
        code = f"{secrets.randbelow(CODE_SPACE):06d}"
        taken = db.session.scalar(select(KioskCode.id).where(
            KioskCode.code_hash == _code_hash(compound, code), KioskCode.used_at.is_(None),
            KioskCode.expires_at > now))
        if taken is None:
            break
    db.session.add(KioskCode(compound_id=compound.id, household_id=household.id,
                             code_hash=_code_hash(compound, code), expires_at=now + CODE_LIFETIME))
    return code


def _live_code(compound, code, now):
    digits = "".join(ch for ch in (code or "") if ch.isdigit())
    if len(digits) != 6:
        return None
    return db.session.scalar(select(KioskCode).where(
        KioskCode.code_hash == _code_hash(compound, digits), KioskCode.compound_id == compound.id,
        KioskCode.used_at.is_(None), KioskCode.expires_at > now))


def wait_seconds(compound, screen, now=None):
    """Seconds this screen must wait before the keypad takes another entry (0: go ahead)."""
    now = now or utcnow()
    since = now - GUESS_WINDOW
    wait = 0.0

    def failures(*where):
        return db.session.execute(select(func.count(), func.max(KioskGuess.at)).where(KioskGuess.at >= since,
                                                                                       *where)).one()

    count, last = failures(KioskGuess.screen_id == screen.id)
    if count >= SCREEN_FREE:
        wait = max(wait, (last - now).total_seconds() + min(2 ** (count - SCREEN_FREE), SCREEN_CAP))
    count, last = failures(KioskGuess.compound_id == compound.id)
    if count >= COMPOUND_FREE:
        wait = max(wait, (last - now).total_seconds() + COMPOUND_SPACING)
    count, last = failures()
    if count >= SERVER_FREE:
        wait = max(wait, (last - now).total_seconds() + SERVER_SPACING)
    return math.ceil(wait) if wait > 0 else 0


def _wrong(compound, screen, now):
    db.session.add(KioskGuess(compound_id=compound.id, screen_id=screen.id, at=now))
    db.session.execute(delete(KioskGuess).where(KioskGuess.at < now - timedelta(days=1)))


@dataclass
class Entry:
    """What the keypad makes of an entry: `outcome` is ballot, wait, wrong, already, or why the household may not
    vote (not_elector, outside_scope, tenant, unverified: see service.why_not)."""

    outcome: str
    household: Household | None = None
    nonce: str = ""
    wait: int = 0
    changing: bool = False
    ballot: Ballot | None = None


def enter(compound, screen, topic, text, card_household, now=None):
    """Take a code or a scanned card at a screen's keypad, in one serialised transaction: throttle, look up,
    use the code up and open a keypad step. `card_household(token)` looks a card up (households.cards)."""
    from ..compounds.models import Compound
    from .service import voting  # voting takes kiosk steps: imported here, not at the top

    now = now or utcnow()
    with writing():
        # One keypad entry at a time per compound (PostgreSQL; SQLite's writes are serial anyway): parallel
        # requests can't all slip past the throttle before the first wrong entry is counted.
        db.session.execute(select(Compound.id).where(Compound.id == compound.id).with_for_update())
        wait = wait_seconds(compound, screen, now)
        if wait:
            return Entry("wait", wait=wait)
        match = CARD_IN_TEXT.search(text or "")
        code = None
        if match:
            household = card_household(match.group(1))
            if household is not None and household.compound_id != compound.id:
                household = None
        else:
            code = _live_code(compound, text, now)
            household = db.session.get(Household, code.household_id) if code is not None else None
        if household is None:
            _wrong(compound, screen, now)
            return Entry("wrong")
        refused = voting.why_not(topic, household)
        if refused is not None:  # outside the electorate, or a tenant's or unverified card in a statutory vote
            return Entry(refused.reason, household)
        previous = db.session.scalar(select(Ballot).where(Ballot.topic_id == topic.id,
                                                          Ballot.household_id == household.id,
                                                          Ballot.current.is_(True)))
        if previous is not None and not topic.allow_change:
            return Entry("already", household, ballot=previous)
        if code is not None:
            code.used_at = now
        db.session.execute(update(KioskStep).where(KioskStep.household_id == household.id,
                                                   KioskStep.used_at.is_(None)).values(used_at=now))
        nonce = secrets.token_urlsafe(24)
        db.session.add(KioskStep(compound_id=compound.id, screen_id=screen.id, topic_id=topic.id,
                                 household_id=household.id, nonce_hash=_nonce_hash(nonce),
                                 expires_at=now + STEP_LIFETIME))
    return Entry("ballot", household, nonce=nonce, changing=previous is not None)


def find_step(compound, screen, topic, nonce, now=None):
    """The live keypad step a ballot form's nonce stands for, on this screen and topic, or None (a wrong nonce
    counts as a wrong entry)."""
    now = now or utcnow()
    step = None
    if nonce and len(nonce) <= 100:
        step = db.session.scalar(select(KioskStep).where(
            KioskStep.nonce_hash == _nonce_hash(nonce), KioskStep.screen_id == screen.id,
            KioskStep.topic_id == topic.id, KioskStep.compound_id == compound.id, KioskStep.used_at.is_(None),
            KioskStep.expires_at > now))
    if step is None:
        with writing():
            _wrong(compound, screen, now)
    return step


def use_step(step):
    """Use a keypad step up inside the ballot's transaction; False if it was used or expired meanwhile."""
    now = utcnow()
    return db.session.execute(update(KioskStep).where(KioskStep.id == step.id, KioskStep.used_at.is_(None),
                                                      KioskStep.expires_at > now)
                              .values(used_at=now)).rowcount == 1
