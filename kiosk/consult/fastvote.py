"""A phone's ballot in the common, certain case, answered below Flask (issue 16: a vote storm at the close).

Only this case is handled here: POST /<compound>/topics/<id>/vote from a phone that remembers a live card of this
compound, with a valid session and CSRF token, in the default language, on an open topic whose household may vote
under the topic's rule, with valid choices (and, on a secret topic, no snapshot release due). Everything else (a
refusal, a doubt, any trouble before the ballot is committed) falls through to the Flask view `consult.vote`,
which stays the reference: this answers with exactly what it answers (the same rows, the same 303, the same
session cookie with the same flash message, the same headers), as tests/test_fast_vote.py checks case by case.

Switched off with FAST_VOTE = 0 (KIOSK_FAST_VOTE=0); `taken` counts the ballots it answered.
"""
import collections
import functools
import hmac
import io
import re
from urllib.parse import parse_qsl
from zoneinfo import ZoneInfo

import werkzeug.formparser  # noqa: F401 - registers the "werkzeug.url_quote" codec error handler Flask parses with
from flask import has_app_context
from flask_wtf.csrf import same_origin
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import and_, bindparam, exists, insert, select, update
from sqlalchemy.orm import aliased
from werkzeug.exceptions import HTTPException
from werkzeug.http import parse_cookie
from werkzeug.routing import RoutingException
from werkzeug.utils import redirect
from werkzeug.wsgi import get_host

from .. import areas, rawsql, versions
from ..changes import AuditEntry, Change
from ..compounds.models import Compound
from ..database import DEFAULT_BUSY_TIMEOUT_MS, utcnow
from ..extensions import db
from ..households import cards
from ..households.models import Household, HouseholdCard, format_address, hash_token, live_card
from ..turns import Queued, Turns
from ..i18n import COOKIE as LANG_COOKIE
from ..security import HEADERS, session_cookie
from ..timefmt import format_datetime
from . import AREA
from .models import Ballot, Channel, Elector, Option, Status, Topic
from .paper_models import PaperBallot, Proxy
from .release_rules import boundary
from .service.base import VoteRefused
from .service.voting import _ADMISSION, _CURRENT_BALLOT_ID, _card_reason, _sqlite_writer, _within_window, clean_choices

ENDPOINT = "consult.vote"
KEEP_CONNECTIONS = 16  # idle DBAPI connections kept between ballots (waitress's threads, with room)
MAX_BODY = 16 * 1024  # a ballot form is a few hundred bytes; anything larger is the Flask view's
SLUG = re.compile(r"[A-Za-z0-9_-]+")  # a slug url_for writes back unquoted
# What a phone's session may hold for this path to answer: its CSRF token, earlier flash messages, and
# Flask-Login's "_fresh" = False (no login). Anything else (a login, a permanent session) is the Flask view's.
PLAIN_SESSION = {"csrf_token", "_flashes", "_fresh"}

# The view's messages (public.vote), by whether the topic allows changes; translated once per language.
MESSAGES = {True: "已投票，%(when)s。截止前可以改票，以最后一次为准。", False: "已投票，%(when)s。"}

# Everything the ballot is looked up by, in one statement, one row per option in Topic.options' order: the
# compound by the URL's slug (bind_compound), the topic by id within it (get_or_404_in_compound), the household
# of the phone's live card (cards.card_household's join and live_card() rule) within the same compound.
# No row: no such compound, topic or live card of this compound, or a topic without options (the view answers).
_TOPIC_COLUMNS = ("slug", "practice_of", "compound_id", "status", "opens_at", "closes_at", "kind", "rule", "seats",
                  "secret", "allow_change", "require_verified", "result", "released_at")
_LOOK_UP = (select(Compound.slug, Compound.practice_of, Topic.compound_id, Topic.status, Topic.opens_at,
                   Topic.closes_at, Topic.kind, Topic.rule, Topic.seats, Topic.secret, Topic.allow_change,
                   Topic.require_verified, Topic.result, Topic.released_at,
                   Household.id.label("household_id"), Household.building, Household.entrance, Household.room,
                   Option.key.label("option_key"), Option.label.label("option_label"))
            .join_from(Topic, Compound, Compound.id == Topic.compound_id)
            .join(Option, Option.topic_id == Topic.id)
            .join(HouseholdCard, HouseholdCard.token_hash == bindparam("token_hash"))
            .join(Household, and_(Household.id == HouseholdCard.household_id,
                                  Household.compound_id == Topic.compound_id))
            .where(Topic.id == bindparam("topic"), Compound.slug == bindparam("slug"), live_card())
            .order_by(Option.position))
_Household = collections.namedtuple("_Household", "id compound_id building entrance room")
_Option = collections.namedtuple("_Option", "key label")
# _ADMISSION (its locks included) with voting._CURRENT_BALLOT_ID and proxies.guard_own_vote's questions: the
# household's current ballot and whether it must stand (a proxy's, a confirmed numbered paper one). On SQLite no
# other writer runs meanwhile. On PostgreSQL the current ballot is read as of the statement's start, before a
# ballot of the same household that held the elector's lock committed; what is written then cannot stand either:
# superseding a ballot no longer current changes no row, and a second current ballot breaks uq_ballot_current.
# Either is trouble before the commit, so the view answers (after that ballot, as it would).
_CURRENT = _CURRENT_BALLOT_ID.scalar_subquery()
_ADMITTED = _ADMISSION.add_columns(_CURRENT.label("id"),
                                   exists().where(Proxy.ballot_id == _CURRENT).label("by_proxy"),
                                   exists().where(PaperBallot.ballot_id == _CURRENT).label("on_paper"))
# PostgreSQL: the look-up and the admission in one statement, one round trip fewer (the transaction is the same
# one either way). The same columns, locks and snapshot as _LOOK_UP then _ADMITTED, for the same household: the
# household's newest live card (an alias, beside the phone's own card) and its current ballot are correlated to
# the household row instead of bound. A household not on the electorate has no row: the view answers it.
_NEWEST = aliased(HouseholdCard)


def _newest_card(column):
    return (select(column).where(_NEWEST.household_id == Household.id, live_card(_NEWEST))
            .order_by(_NEWEST.id.desc()).limit(1).scalar_subquery())


_CURRENT_OF = (select(Ballot.id).where(Ballot.topic_id == Topic.id, Ballot.household_id == Household.id,
                                       Ballot.current.is_(True))
               .correlate(Topic, Household).scalar_subquery())  # inside EXISTS too: the outer statement's rows
_LOOK_UP_ADMITTED = (_LOOK_UP.join(Elector, and_(Elector.topic_id == Topic.id, Elector.household_id == Household.id))
                     .add_columns(_newest_card(_NEWEST.holder).label("holder"),
                                  _newest_card(_NEWEST.delivery).label("delivery"), _CURRENT_OF.label("id"),
                                  exists().where(Proxy.ballot_id == _CURRENT_OF).label("by_proxy"),
                                  exists().where(PaperBallot.ballot_id == _CURRENT_OF).label("on_paper"))
                     .suffix_with(f"FOR SHARE OF {Topic.__tablename__} FOR UPDATE OF {Elector.__tablename__}"))
_SUPERSEDE = (update(Ballot).where(Ballot.id == bindparam("ballot"), Ballot.current.is_(True))
              .values(current=False))


def _insert(model, *names):
    """INSERT of these columns (each a parameter of its own name and the column's type), and no others."""
    return insert(model).values({name: bindparam(name) for name in names})


_INSERT_BALLOT = _insert(Ballot, "topic_id", "household_id", "choices", "channel", "entered_by", "cast_at", "current")
# record_change's statements for a compound: its version bump, the change row and the audit row (with `at`, whose
# column default SQLAlchemy would otherwise fill in).
_BUMP = (update(Compound).where(Compound.id == bindparam("compound")).values(version=Compound.version + 1)
         .returning(Compound.version))
_INSERT_CHANGE = _insert(Change, "compound_id", "version", "area", "at")
_INSERT_AUDIT = _insert(AuditEntry, "compound_id", "actor_id", "area", "action", "object_type", "object_id", "before",
                        "after", "at")


class _Statements:
    """This path's statements compiled for one dialect."""

    def __init__(self, dialect):
        self.look_up = rawsql.Compiled(_LOOK_UP, dialect)
        self.admitted = rawsql.Compiled(_ADMITTED, dialect)
        # On SQLite the look-up reads before the writer is taken; on PostgreSQL it admits the ballot too.
        self.look_up_admitted = None if dialect.name == "sqlite" else rawsql.Compiled(_LOOK_UP_ADMITTED, dialect)
        self.supersede = rawsql.Compiled(_SUPERSEDE, dialect)
        self.insert_ballot = rawsql.Compiled(_INSERT_BALLOT, dialect)
        self.bump = rawsql.Compiled(_BUMP, dialect)
        self.insert_change = rawsql.Compiled(_INSERT_CHANGE, dialect)
        self.insert_audit = rawsql.Compiled(_INSERT_AUDIT, dialect)


class _Fallthrough(Exception):
    """Not the certain case: the Flask view answers."""


class _Topic:
    """The topic's columns, with what the shared rules read of a Topic (_card_reason, clean_choices)."""

    statutory = Topic.statutory  # the same property: RULES[Rule(self.rule)].statutory

    def __init__(self, topic_id, row, keys):
        self.id = topic_id
        for name in _TOPIC_COLUMNS:
            setattr(self, name, getattr(row, name))
        self._keys = keys

    def option_keys(self):
        return list(self._keys)


def _outcome(ballot):
    """What _take returned for a ballot that went in; _Fallthrough for one that did not; its trouble raised."""
    if ballot.trouble is not None:
        raise ballot.trouble
    if ballot.result is None:
        raise _Fallthrough
    return ballot.result


class FastVote:
    """WSGI middleware recording a phone's ballot without Flask when nothing about it is in doubt."""

    def __init__(self, wsgi_app, flask_app):
        self.wsgi_app = wsgi_app
        self.flask_app = flask_app
        self.taken = 0  # ballots answered here (tests check the path is taken; ops may look)
        self._engine = None
        self._compiled = None  # _Statements, for the engine's dialect
        self._kept = None  # rawsql.Kept: the DBAPI connections of this path
        self._messages = {}
        self._serializers = {}
        self._urls = None  # bound on first use, when every area's routes are in the url_map
        self._route = functools.lru_cache(maxsize=1024)(self._match)
        self._redirect = functools.lru_cache(maxsize=1024)(self._see_other)
        self._turns = Turns(_sqlite_writer)

    def __call__(self, environ, start_response):
        if (environ.get("REQUEST_METHOD") == "POST" and environ.get("PATH_INFO", "").endswith("/vote")
                and self.flask_app.config.get("FAST_VOTE", 1)):
            body = None
            try:
                answer, body = self._answer(environ)
            except _Fallthrough:
                answer = None
            if body is not None:
                environ["wsgi.input"] = io.BytesIO(body)  # what was read, for the Flask view
            if answer is not None:
                status, headers, content = answer
                start_response(status, headers)
                return [content]
        return self.wsgi_app(environ, start_response)

    # --- the request ------------------------------------------------------------------------------------------

    def _match(self, path_info):
        """(slug, topic id) when the path is consult.vote's (as the app's url_map matches it), else None."""
        if self._urls is None:
            self._urls = self.flask_app.url_map.bind("localhost")
        try:
            endpoint, args = self._urls.match(path_info.encode("latin-1").decode("utf-8"), method="POST")
        except (HTTPException, RoutingException, UnicodeError):
            return None
        if endpoint != ENDPOINT or not SLUG.fullmatch(args.get("compound", "")):
            return None
        return args["compound"], args["topic_id"]

    def _answer(self, environ):
        """((status, headers, body), the request body read) for the certain case; raises _Fallthrough."""
        app = self.flask_app
        config = app.config
        if environ.get("QUERY_STRING") or environ.get("SCRIPT_NAME"):
            raise _Fallthrough
        route = self._route(environ.get("PATH_INFO", ""))
        if route is None:
            raise _Fallthrough
        slug, topic_id = route
        if environ.get("CONTENT_TYPE", "").strip().lower() != "application/x-www-form-urlencoded":
            raise _Fallthrough
        try:
            length = int(environ.get("CONTENT_LENGTH") or "")
        except ValueError:
            raise _Fallthrough from None
        if not 0 < length <= MAX_BODY or environ.get("HTTP_TRANSFER_ENCODING"):
            raise _Fallthrough
        body = environ["wsgi.input"].read(length)
        try:
            return self._certain(environ, config, slug, topic_id, body), body
        except _Fallthrough:
            return None, body

    def _certain(self, environ, config, slug, topic_id, body):
        """The answer for this request's body, cookies and ballot; raises _Fallthrough."""
        if has_app_context():
            # Served, a request arrives in no app context. Only a test calls the app inside one of its own, whose
            # session the view then shares (its uncommitted rows, SQLite's write lock, its statement log): the
            # view answers that (tests/test_fast_vote.py calls the app as a server does).
            raise _Fallthrough
        if len(body) != int(environ["CONTENT_LENGTH"]):
            raise _Fallthrough
        try:
            form = parse_qsl(body.decode(), keep_blank_values=True, errors="werkzeug.url_quote")
        except (UnicodeError, ValueError):
            raise _Fallthrough from None
        if any("\x00" in key or "\x00" in value for key, value in form):
            raise _Fallthrough  # refuse_nul's 400
        secure = environ.get("wsgi.url_scheme") in ("https", "wss")
        cookies = parse_cookie(environ.get("HTTP_COOKIE"))
        chosen_language = cookies.get(LANG_COOKIE)
        default = config["BABEL_DEFAULT_LOCALE"]
        if (chosen_language if chosen_language in config["LANGUAGES"] else default) != default:
            raise _Fallthrough
        session = self._session(cookies.get(config["SESSION_COOKIE_NAME"]))
        self._check_csrf(environ, config, form, session, secure)
        token = cookies.get(cards.COOKIE)
        if not token or len(token) > 100:
            raise _Fallthrough  # need_card's 403
        choices = [value for key, value in form if key == "choice"]
        return self._record(slug, topic_id, hash_token(token), choices, session, secure)

    def _session(self, value):
        """The phone's session as Flask opens it, when it is plain; else _Fallthrough."""
        if not value:
            raise _Fallthrough  # no session: no CSRF token either
        app = self.flask_app
        serializer = self._serializer("session", lambda: app.session_interface.get_signing_serializer(app))
        if serializer is None:
            raise _Fallthrough
        try:
            data = serializer.loads(value, max_age=int(app.permanent_session_lifetime.total_seconds()))
        except Exception:  # noqa: BLE001 - a bad or expired signature: Flask opens an empty session
            raise _Fallthrough from None
        if not isinstance(data, dict) or not set(data) <= PLAIN_SESSION or data.get("_fresh", False) is not False:
            raise _Fallthrough
        return data

    def _serializer(self, name, make):
        """The signing serializer Flask (or Flask-WTF) would make now, made once per secret (deriving its key
        costs as much as using it)."""
        config = self.flask_app.config
        key = (name, self.flask_app.secret_key, tuple(config.get("SECRET_KEY_FALLBACKS") or ()),
               config.get("WTF_CSRF_SECRET_KEY"))
        found = self._serializers.get(key)
        if found is None:
            found = self._serializers[key] = make()
        return found

    def _check_csrf(self, environ, config, form, session, secure):
        """Flask-WTF's CSRFProtect.protect, as configured; _Fallthrough where it would refuse or look further."""
        if not config["WTF_CSRF_ENABLED"] or not config["WTF_CSRF_CHECK_DEFAULT"]:
            return
        if "POST" not in config["WTF_CSRF_METHODS"]:
            raise _Fallthrough
        field = config["WTF_CSRF_FIELD_NAME"]
        data = next((value for key, value in form if key == field), None)
        if not data or field not in session:
            raise _Fallthrough
        secret = config.get("WTF_CSRF_SECRET_KEY") or self.flask_app.secret_key
        try:
            token = self._serializer("csrf", lambda: URLSafeTimedSerializer(secret, salt="wtf-csrf-token")).loads(
                data, max_age=config.get("WTF_CSRF_TIME_LIMIT", 3600))
        except Exception:  # noqa: BLE001 - expired, invalid: the Flask view answers the 400
            raise _Fallthrough from None
        if not isinstance(token, str) or not isinstance(session[field], str) \
                or not hmac.compare_digest(session[field], token):
            raise _Fallthrough
        if secure and config["WTF_CSRF_SSL_STRICT"]:
            referrer = environ.get("HTTP_REFERER")
            if not referrer or config.get("TRUSTED_HOSTS"):
                raise _Fallthrough
            try:
                host = get_host(environ)
            except Exception:  # noqa: BLE001
                raise _Fallthrough from None
            if not same_origin(referrer, f"https://{host}/"):
                raise _Fallthrough

    # --- the ballot -------------------------------------------------------------------------------------------

    def engine(self):
        if self._engine is None:
            with self.flask_app.app_context():
                self._engine = db.engine
        return self._engine

    def _sql(self, engine):
        """This path's statements compiled for the engine's dialect, and its connections (kiosk/rawsql.py)."""
        if self._compiled is None:
            self._compiled = _Statements(engine.dialect)
            self._kept = rawsql.Kept(engine, KEEP_CONNECTIONS)
        return self._compiled, self._kept

    def _record(self, slug, topic_id, token_hash, choices, session, secure):
        """Take the ballot and commit it; return the answer. Trouble before the commit falls through (nothing was
        kept); once the commit is tried nothing does (the ballot may be in): trouble after it is a 500, as in the
        view. The statements go straight to a DBAPI connection this path keeps (kiosk/rawsql.py), in transactions
        this method begins and ends itself; no app context is needed for them."""
        app = self.flask_app
        connection = None
        try:
            engine = self.engine()
            sql, kept = self._sql(engine)
            connection = kept.take(app.app_context)  # a new one opens as the app opens them
            cursor = connection.cursor()
            sqlite = engine.dialect.name == "sqlite"
            # SQLite (autocommit: kiosk.database takes transaction control away from pysqlite): as the view,
            # the look-up reads without the write lock, one statement that is its own snapshot, no BEGIN.
            # PostgreSQL: it begins the transaction the ballot is written in, as the view's.
            looked_up = self._look_up(sql, cursor, slug, topic_id, token_hash, choices)
        except Exception as trouble:  # noqa: BLE001 - nothing was written: the Flask view answers it
            if connection is not None:
                kept.give_back(connection)
            raise _Fallthrough from trouble
        try:
            if sqlite:
                # The ballot goes in under voting._write_turn's discipline: one writer at a time in this process,
                # fast or not, in a transaction begun IMMEDIATE, except that ballots queued meanwhile go in with
                # it (see kiosk/turns.py).
                timeout = -(-int(app.config.get("BUSY_TIMEOUT_MS", DEFAULT_BUSY_TIMEOUT_MS)) // 1000)
                topic, cast_at = _outcome(self._turns.write(
                    looked_up, timeout, lambda ballots: self._commit(sql, connection, cursor, ballots, True)))
            else:
                ballot = Queued(looked_up)  # PostgreSQL's row locks need no turns
                self._commit(sql, connection, cursor, [ballot], False)
                topic, cast_at = _outcome(ballot)
        finally:
            kept.give_back(connection)
        if not topic.secret:
            versions.forget(versions.cache_of(app), slug)  # as record_change's after_commit hook does
        self.taken += 1
        return self._response(topic.slug, topic.id, topic.allow_change, cast_at, session, secure)

    def _commit(self, sql, connection, cursor, ballots, begin):
        """Take each ballot in one transaction (begun IMMEDIATE here when `begin`) and commit it. A ballot that
        is not the certain case (a refusal; every refusal comes before its first write) is left out and falls
        through alone. Trouble with a statement rolls every ballot back and each falls through; a commit that
        fails may have kept them, so each answers that trouble (a 500) and none is tried again."""
        try:
            if begin:
                rawsql.send(cursor, "BEGIN IMMEDIATE")
            for ballot in ballots:
                try:
                    ballot.result = self._take(sql, cursor, *ballot.item)
                except _Fallthrough:
                    ballot.result = None
        except Exception as trouble:  # noqa: BLE001 - nothing is kept: the Flask view answers each
            connection.rollback()
            for ballot in ballots:
                ballot.result, ballot.trouble = None, _Fallthrough()
                ballot.trouble.__cause__ = trouble
            return
        try:
            connection.commit()
        except Exception as trouble:  # noqa: BLE001 - handed to each ballot's own request
            for ballot in ballots:
                ballot.trouble = trouble

    def _look_up(self, sql, cursor, slug, topic_id, token_hash, choices):
        """(topic, household, options, chosen, admitted) of a ballot the view would take; else _Fallthrough.
        `admitted` is _ADMITTED's row when the look-up admitted it (PostgreSQL), else None."""
        statement = sql.look_up_admitted or sql.look_up
        rows = statement.rows(cursor, {"topic": topic_id, "slug": slug, "token_hash": token_hash})
        if not rows:
            raise _Fallthrough
        row = rows[0]
        if row.practice_of is not None or row.status != Status.published:
            raise _Fallthrough  # a practice compound, a draft
        now = utcnow()
        if not row.opens_at <= now < row.closes_at:
            raise _Fallthrough  # not open, or closing due (the view closes it)
        if row.secret and row.result is None and self._release_may_be_due(topic_id, row, now):
            raise _Fallthrough  # the view evaluates the snapshot release first
        household = _Household(row.household_id, row.compound_id, row.building, row.entrance, row.room)
        options = [_Option(r.option_key, r.option_label) for r in rows]
        topic = _Topic(topic_id, row, [o.key for o in options])
        try:
            chosen = clean_choices(topic, choices)
        except VoteRefused:
            raise _Fallthrough from None
        return topic, household, options, chosen, (row if sql.look_up_admitted else None)

    def _take(self, sql, cursor, topic, household, options, chosen, admitted):
        """voting._take's statements for a phone's ballot that goes in, and record_change's; return (topic, the
        ballot's time); else _Fallthrough."""
        if admitted is None:
            found = sql.admitted.rows(cursor, {"topic": topic.id, "household": household.id})  # voting._take's locks
            if not found:
                raise _Fallthrough
            admitted = found[0]
        try:
            now = _within_window(admitted)
        except VoteRefused:
            raise _Fallthrough from None
        if _card_reason(topic, admitted.holder, admitted.delivery):
            raise _Fallthrough
        previous_id = admitted.id
        if previous_id is not None:
            if not topic.allow_change or admitted.by_proxy or admitted.on_paper:
                raise _Fallthrough
            if sql.supersede.run(cursor, {"ballot": previous_id}).rowcount != 1:
                raise RuntimeError("the current ballot changed since it was read")
        sql.insert_ballot.run(cursor, {"topic_id": topic.id, "household_id": household.id, "choices": chosen,
                                       "channel": Channel.phone, "entered_by": None, "cast_at": now,
                                       "current": True})
        if not topic.secret:
            areas.require(AREA, self.flask_app)
            version = sql.bump.rows(cursor, {"compound": topic.compound_id})[0].version
            sql.insert_change.run(cursor, {"compound_id": topic.compound_id, "version": version, "area": AREA,
                                           "at": utcnow()})
            after = {"household": format_address(household.building, household.entrance, household.room),
                     "channel": str(Channel.phone), "changed": previous_id is not None,
                     "choices": [o.label for o in options if o.key in chosen]}
            sql.insert_audit.run(cursor, {"compound_id": topic.compound_id, "actor_id": None, "area": AREA,
                                          "action": "ballot", "object_type": "topic", "object_id": topic.id,
                                          "before": None, "after": after, "at": utcnow()})
        return topic, now

    def _release_may_be_due(self, topic_id, row, now):
        """Whether snapshots.release might do anything for an open secret topic now: not when its boundary is
        before the opening, already released, or already decided "hold" in this process (its early returns)."""
        app = self.flask_app
        minutes = max(int(app.config.get("SECRET_TALLY_MINUTES", 3)), 1)
        moment = boundary(now, minutes)
        if moment <= row.opens_at or (row.released_at is not None and row.released_at >= moment):
            return False
        return app.extensions.get("kiosk_snapshot_held", {}).get(topic_id) != moment

    # --- the answer -------------------------------------------------------------------------------------------

    def _message(self, allow_change):
        """The view's flash message template in the default language."""
        found = self._messages.get(allow_change)
        if found is None:
            from flask_babel import gettext

            with self.flask_app.test_request_context("/"):  # no cookies: the default language
                found = gettext(MESSAGES[allow_change])
            self._messages[allow_change] = found
        return found

    def _response(self, slug, topic_id, allow_change, cast_at, session, secure):
        app = self.flask_app
        config = app.config
        zone = ZoneInfo(config["TIMEZONE"])
        when = format_datetime(cast_at, locale=config["BABEL_DEFAULT_LOCALE"], zone=zone)
        message = "✓ " + self._message(allow_change) % {"when": when}
        data = dict(session)
        flashes = data.get("_flashes", [])
        flashes.append(("success", message))
        data["_flashes"] = flashes
        cookie = session_cookie(app, self._serializer("session", lambda: app.session_interface.get_signing_serializer(
            app)), data, secure)
        headers, content = self._redirect(f"/{slug}/topics/{topic_id}")
        return "303 SEE OTHER", headers + [("Set-Cookie", cookie)], content

    def _see_other(self, location):
        """The headers (but the session cookie) and body of the view's 303 to `location`; the same for every
        ballot on a topic, so kept (`_redirect`)."""
        answer = redirect(location, 303)
        content = answer.get_data()
        headers = [("Content-Type", answer.headers["Content-Type"]), ("Content-Length", str(len(content))),
                   ("Location", answer.headers["Location"]), ("Vary", "Cookie"), ("Cache-Control", "private")]
        return headers + list(HEADERS.items()), content


def init_app(app):
    """Install the fast path (FAST_VOTE, read on every request, switches it off) and expose it to tests and ops."""
    app.wsgi_app = FastVote(app.wsgi_app, app)
    app.extensions["kiosk_fast_vote"] = app.wsgi_app
