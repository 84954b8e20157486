"""The topic page as a page with holes (issue 16): rendered once, filled in per household.

Everything on a topic page but three pieces is the same for every reader with the same compound version,
language, type size and htmx headers: the vote section (this household's ballot, whether it may vote, its
proxy, the ballot form), the results block (tallies or turnout, which of the two depends on whether this
household voted) and the opinion form. `build` renders the page once with a marker in each hole, and every
variant of the three pieces that a household can need, with markers in place of what is its own (its
address, when it voted and what, its proxy's name, the session's CSRF token). `Shell.fill` then picks the
household's variants and writes its values in: no template is rendered per request.

What a household needs is read per request in one statement (`read_facts`): card → household → elector row,
its current card, current ballot, proxy, and whether its ballot stands. Nothing of it is kept: a secret
topic's ballot bumps no version, and a household sees its own vote at once.

The view fills its own shell (so every answer goes through `fill`), and leaves it in the WSGI environ; the
page cache keeps it per its key (compound version, preferences, host, htmx headers, for PAGE_CACHE_SECONDS at
most and never past the topic's next phase boundary) and answers later card holders with `Shell.answer`,
without Flask. A shell holds no household's data, only what a passer-by of the same compound may read.
"""
import hashlib
import os
import re
import secrets
from dataclasses import dataclass

from flask import current_app, render_template
from flask_babel import get_locale
from itsdangerous import URLSafeTimedSerializer
from markupsafe import Markup, escape
from sqlalchemy import and_, bindparam, exists, or_, select, text
from sqlalchemy.orm import aliased

from ..database import utcnow
from ..extensions import db
from ..pagecache import FLASHES as FLASHES_KEY, SHELL  # noqa: F401 (SHELL: the view leaves its shell there)
from ..households.models import (Delivery, Holder, Household, HouseholdCard, format_address, hash_token,
                                 live_card)
from ..timefmt import format_datetime, local_zone
from . import service
from .models import Ballot, Elector, Phase, Status
from .paper_models import PaperBallot, Proxy, ProxyState
from .tally import Rule

TOKEN_MAX = 100  # households.cards.card_household: longer card cookies are nobody's
# Markers can't come from any text on the page: a NUL byte (refused in every form) and a per-process secret.
_SECRET = secrets.token_hex(8)


def _marker(name):
    return f"\x00{_SECRET}:{name}\x00"


VOTE, RESULTS, OPINION, FLASHES = _marker("vote"), _marker("results"), _marker("opinion"), _marker("flashes")
HOLES = {VOTE: "vote", RESULTS: "results", OPINION: "opinion", FLASHES: "flashes"}
_SPLIT = re.compile("(" + "|".join(re.escape(marker) for marker in HOLES) + ")")
BUILDING, ENTRANCE, ROOM = _marker("building"), _marker("entrance"), _marker("room")
ADDRESS, WHEN, CHOICES, PROXY_NAME, CSRF = (_marker(n) for n in ("address", "when", "choices", "proxy", "csrf"))
PROXY_STATES = (None, ProxyState.standing.value, ProxyState.voted.value)
NEEDS_CHECK = ("tenant", "unverified")


@dataclass(frozen=True)
class Facts:
    """One household's facts about one topic, as read_facts finds them."""

    building: str
    entrance: str
    room: str
    elector: bool
    card_holder: str | None  # of the household's newest live card (None: it has none)
    card_delivery: str | None
    ballot_id: int | None
    choices: list | None
    cast_at: object
    proxy_state: str | None
    proxy_name: str | None
    ballot_stands: bool


def _statement():
    """The one statement for a card's household on a topic (parameters token_hash, topic, compound)."""
    presented = aliased(HouseholdCard)
    proxy_ballot = aliased(Proxy)
    topic = bindparam("topic")

    def newest_live_card(column):
        # service.voting.live_card_of: the household's newest live card, whichever card this phone holds.
        return (select(column).where(HouseholdCard.household_id == Household.id, live_card())
                .order_by(HouseholdCard.id.desc()).limit(1).scalar_subquery())

    # service.proxies.guard_own_vote (a ballot cast by a proxy, or a confirmed numbered paper ballot, is the
    # household's own on this topic: the topic and household terms only let the indexes find it).
    stands = or_(exists().where(proxy_ballot.topic_id == topic, proxy_ballot.household_id == Household.id,
                                proxy_ballot.ballot_id == Ballot.id),
                 exists().where(PaperBallot.topic_id == topic, PaperBallot.household_id == Household.id,
                                PaperBallot.ballot_id == Ballot.id))
    return (select(Household.building, Household.entrance, Household.room,
                   exists().where(Elector.topic_id == topic, Elector.household_id == Household.id),
                   newest_live_card(HouseholdCard.holder), newest_live_card(HouseholdCard.delivery),
                   Ballot.id, Ballot.choices, Ballot.cast_at, Proxy.state, Proxy.name, stands)
            .select_from(presented).join(Household, Household.id == presented.household_id)
            .outerjoin(Ballot, and_(Ballot.topic_id == topic, Ballot.household_id == Household.id,
                                    text("ballot.current")))  # as uq_ballot_current says it: that index finds it
            # Literal, as uq_proxy_standing says it: with a bound value SQLite prepares the statement anew on
            # every execution (the partial index's use would depend on it), ten times the cost of the query.
            .outerjoin(Proxy, and_(Proxy.topic_id == topic, Proxy.household_id == Household.id,
                                   text(f"proxy.state <> '{ProxyState.revoked.value}'")))
            .where(presented.token_hash == bindparam("token_hash"), presented.revoked_at.is_(None),
                   presented.pending.is_(False), Household.compound_id == bindparam("compound")))


class _Compiled:
    """The statement compiled once for a database dialect, run on a DBAPI connection with SQLAlchemy's own
    processing of its result columns (JSON choices, UTC times): a card holder's page pays for the query, not
    for a Connection, its events and a BEGIN (~90 µs of ~300 per page on SQLite)."""

    def __init__(self, dialect):
        statement = _statement()
        compiled = statement.compile(dialect=dialect)
        self.sql, self.positions = str(compiled), compiled.positiontup
        self.fixed = compiled.construct_params({"topic": 0, "token_hash": "", "compound": 0})  # LIMIT 1 etc.
        self.processors = [column.type.dialect_impl(dialect).result_processor(dialect, None)
                           for column in statement.selected_columns]

    def run(self, dbapi_connection, values):
        """The one row (processed) or None."""
        params = {**self.fixed, **values}
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(self.sql, tuple(params[name] for name in self.positions) if self.positions else params)
            row = cursor.fetchone()
        finally:
            cursor.close()
        return None if row is None else [value if process is None else process(value)
                                         for process, value in zip(self.processors, row)]


_COMPILED = {}  # dialect name -> _Compiled


def read_facts(dbapi_connection, dialect, compound_id, topic_id, token):
    """The household whose live card this token is, in this compound, with its facts on the topic; or None
    (no card, a revoked or pending one, another compound's): households.cards.current_household's answer.
    `dbapi_connection`: a pooled DBAPI connection (inside a request, the session's own)."""
    if not token or len(token) > TOKEN_MAX:
        return None
    compiled = _COMPILED.get(dialect.name)
    if compiled is None:
        compiled = _COMPILED[dialect.name] = _Compiled(dialect)
    row = compiled.run(dbapi_connection, {"token_hash": hash_token(token), "topic": topic_id,
                                          "compound": compound_id})
    return Facts(*row[:3], bool(row[3]), *row[4:11], bool(row[11])) if row is not None else None


@dataclass(frozen=True)
class Rules:
    """What of a topic decides who may vote, kept with its shell."""

    scoped: bool
    informal: bool
    needs_verified: bool

    def refusal(self, facts):
        """Why this household may not vote (a refusal reason), or None: service.voting.why_not on the facts."""
        if not facts.elector:
            return "outside_scope" if self.scoped else "not_elector"
        if self.informal:
            return None
        if facts.card_holder == Holder.tenant:
            return "tenant"
        if self.needs_verified and facts.card_delivery != Delivery.in_person:
            return "unverified"
        return None


def rules_of(topic):
    """The topic's Rules."""
    return Rules(scoped=topic.scope is not None, informal=topic.rule == Rule.informal,
                 needs_verified=bool(topic.statutory and topic.require_verified))


class _Stand:
    """Attributes for a template, standing in for a household or a proxy with markers for its values."""

    def __init__(self, **values):
        self.__dict__.update(values)


class Shell:
    """A topic page rendered once with holes, and the variants that fill them."""

    def __init__(self, parts, votes, blocks, opinions, flash_list, rules, addresses, labels, locale, zone, until,
                 signer, csrf_field, engine, compound_id, topic_id):
        self.parts, self.votes, self.blocks, self.opinions = parts, votes, blocks, opinions
        self.flash_list = flash_list
        self.rules, self.addresses, self.labels = rules, addresses, labels
        self.locale, self.zone, self.until = locale, zone, until
        self.signer, self.csrf_field = signer, csrf_field
        self.engine, self.compound_id, self.topic_id = engine, compound_id, topic_id

    def seconds_left(self):
        """How long the shell may still be served: until the topic's next phase boundary (None: no boundary)."""
        return None if self.until is None else (self.until - utcnow()).total_seconds()

    def fill(self, facts, csrf, flashes=()):
        """The page for the household of `facts` (None: no household) with the session's `flashes` (category,
        message) shown, or None when a form needs a CSRF token and `csrf()` has none."""
        voted = facts is not None and facts.ballot_id is not None
        vote = ""
        if self.votes:  # an open topic: every state a household can be in has its variant (KeyError: a new one)
            if facts is None:
                vote = self.votes[("none",)]
            else:
                reason = self.rules.refusal(facts)
                vote = self.votes[("refused", reason) if reason else
                                  ("vote", voted, facts.proxy_state, facts.ballot_stands)]
        pieces = {"vote": vote, "results": self.blocks[voted], "opinion": self.opinions[facts is not None],
                  "flashes": str(self.flash_list(list(flashes))) if flashes else ""}
        page = "".join(pieces.get(HOLES.get(part), part) for part in self.parts)
        if facts is not None:
            page = self._own(page, facts)
        if CSRF in page:
            token = csrf()
            if token is None:
                return None
            page = page.replace(CSRF, str(escape(token)))
        return page

    def _own(self, page, facts):
        """Write the household's own values into its variants (escaped as the template would)."""
        address = (self.addresses[bool(facts.entrance)].replace(BUILDING, facts.building)
                   .replace(ENTRANCE, facts.entrance).replace(ROOM, facts.room))
        page = page.replace(ADDRESS, str(escape(address)))
        if facts.ballot_id is not None:
            when = format_datetime(facts.cast_at, locale=self.locale, zone=self.zone)
            chosen = "、".join(self.labels.get(key, key) for key in facts.choices or ())  # Topic.labels_of
            page = page.replace(WHEN, str(escape(when))).replace(CHOICES, str(escape(chosen)))
        if facts.proxy_name is not None:
            page = page.replace(PROXY_NAME, str(escape(facts.proxy_name)))
        return page

    def _facts(self, token):
        # A pooled DBAPI connection: on SQLite in autocommit (kiosk.database), so the one SELECT is its own read
        # transaction; elsewhere the pool's reset on return ends it.
        connection = self.engine.raw_connection()
        try:
            return read_facts(connection, self.engine.dialect, self.compound_id, self.topic_id, token)
        finally:
            connection.close()

    def answer(self, token, session):
        """(the page, the session to set or None) for a card holder's request, without Flask: its facts read now,
        the CSRF token signed from its session as Flask-WTF would (token None, session {}: a passer-by's page).

        A card holder whose session holds no CSRF token yet (a phone that opened its card days ago: the session
        cookie ended with the browser, the card cookie lasts two years) gets a new one as Flask-WTF makes it, in
        the session to set: two hundred phones opening the vote at once are each filled in, not rendered. The
        session's flash messages (a ballot's "已投票", on the page the vote redirects to) are shown and taken out
        of it, as get_flashed_messages does.

        None when only Flask can answer (a passer-by's page that needs a token; a session that would be left
        empty: Flask deletes its cookie; the database failed: Flask answers and reports it; the topic's phase
        changed: Flask closes it, if due)."""
        if self.until is not None and utcnow() >= self.until:
            return None
        if session.get(FLASHES_KEY) and FLASHES not in self.parts:
            return None  # a layout without the messages' place: Flask shows them
        fresh = {}

        def csrf():
            raw = session.get(self.csrf_field)
            if raw is None and token:
                raw = fresh[self.csrf_field] = new_csrf_token()
            return None if raw is None else self.signer.dumps(raw)

        try:
            facts = None if not token else self._facts(token)  # a passer-by: every hole stays empty
            page = self.fill(facts, csrf, session.get(FLASHES_KEY) or ())
        except Exception:  # noqa: BLE001 - let Flask answer (and report) it
            return None
        if page is None:
            return None
        if not fresh and FLASHES_KEY not in session:
            return page.encode(), None
        left = {name: value for name, value in session.items() if name != FLASHES_KEY} | fresh
        return (page.encode(), left) if left else None


def new_csrf_token():
    """A session's raw CSRF token, made as flask_wtf.csrf.generate_csrf makes it."""
    return hashlib.sha1(os.urandom(64)).hexdigest()


def _next_boundary(topic):
    """When the topic's phase next changes by the clock, or None."""
    if topic.status != Status.published:
        return None
    now = utcnow()
    for moment in (topic.opens_at, topic.closes_at):
        if now < moment:
            return moment
    return None


def _vote_variants(topic, render):
    """Every vote section a household can get on an open topic, by (kind, ...) key."""
    scoped_reason = "outside_scope" if topic.scope is not None else "not_elector"
    variants = {("none",): render(household=None)}
    for reason in (scoped_reason, *NEEDS_CHECK):
        variants[("refused", reason)] = render(refused=reason)
    for voted in (False, True):
        ballot = _Stand(choices=CHOICES) if voted else None
        for state in PROXY_STATES:
            proxy = _Stand(state=state, name=PROXY_NAME) if state else None
            for stands in (False, True):
                variants[("vote", voted, state, stands)] = render(ballot=ballot, proxy=proxy, ballot_stands=stands)
    return variants


def build(topic, phase, page, results_block, refusal_text, **context):
    """The shell of a topic page: `page` is the template, rendered with `context` and markers in the holes;
    `results_block(visible)` gives the results block; `refusal_text(reason, where)` the refusal sentence."""
    def section(household=_Stand(address=ADDRESS), refused=None, ballot=None, proxy=None, ballot_stands=False):
        where = topic.electorate_label if refused == "outside_scope" else ""
        return str(render_template("consult/_vote_section.html", topic=topic, household=household,
                                   refused=refusal_text(refused, where) if refused else "", ballot=ballot,
                                   when=WHEN, choices=CHOICES, proxy=proxy, ballot_stands=ballot_stands,
                                   csrf_token=lambda: CSRF))

    def opinion_form(household):
        return str(render_template("consult/_opinion_form.html", topic=topic, household=household,
                                   opinion_max=context["opinion_max"], csrf_token=lambda: CSRF))

    rendered = render_template(page, topic=topic, phase=phase, vote_section=Markup(VOTE),
                               results_block=Markup(RESULTS), opinion_form=Markup(OPINION),
                               flash_hole=Markup(FLASHES), **context)
    parts = _SPLIT.split(str(rendered))
    votes = _vote_variants(topic, section) if phase == Phase.voting else {}
    blocks = {voted: str(results_block(service.results_visible(topic, household_voted=voted)))
              for voted in (False, True)}
    config = current_app.config
    signer = URLSafeTimedSerializer(config.get("WTF_CSRF_SECRET_KEY") or current_app.secret_key,
                                    salt="wtf-csrf-token")  # flask_wtf.csrf.generate_csrf
    return Shell(parts, votes, blocks, {False: opinion_form(None), True: opinion_form(_Stand())},
                 current_app.jinja_env.get_template("_macros.html").module.flash_list, rules_of(topic),
                 {True: format_address(BUILDING, ENTRANCE, ROOM), False: format_address(BUILDING, "", ROOM)},
                 {key: topic.label_of(key) for key in topic.option_keys()}, str(get_locale()), local_zone(),
                 _next_boundary(topic), signer, config.get("WTF_CSRF_FIELD_NAME", "csrf_token"), db.engine,
                 topic.compound_id, topic.id)
