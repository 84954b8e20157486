"""The lobby screen: the loop page, one area's slides, a slide's detail, and the pulse screens poll."""
import logging
import time

from flask import Blueprint, abort, current_app, g, make_response, render_template, request
from markupsafe import Markup
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy import select, update

from ..version import __version__
from ..changes import Change
from ..compounds.context import bind_compound
from ..database import utcnow, writing
from ..extensions import db
from ..htmx import render, trigger, wants_fragment
from ..qr import public_url, qr_svg
from . import registry, remote
from .engine import engine_label
from .models import Screen

bp = bind_compound(Blueprint("screen", __name__, url_prefix="/<compound>"))

log = logging.getLogger(__name__)
CONTACT_EVERY = 15  # seconds between last-contact writes per screen and process


def init_app(app):
    """Answer unchanged pulses below Flask (see fastpulse.py)."""
    from .fastpulse import FastPulse

    app.wsgi_app = FastPulse(app.wsgi_app, app, CONTACT_EVERY)


def _contacts():
    """When this process last wrote each screen's contact time (per app, so tests do not share it)."""
    return current_app.extensions.setdefault("kiosk_screen_contacts", {})


def _reports():
    """What this process last wrote of each screen's report: (engine, live updates)."""
    return current_app.extensions.setdefault("kiosk_screen_reports", {})


def _report():
    """(engine, live) this request tells about its screen: live is True for htmx's pulse, False when the
    screen's own check says htmx cannot run there (?live=0), None when the request does not say."""
    live = False if request.args.get("live") == "0" else (True if request.headers.get("HX-Request") else None)
    return engine_label(request.headers.get("User-Agent")), live


def area_event(area):
    """The htmx event name that tells an area's slides to refresh."""
    return f"kiosk-area-{area}"


def _screen(key):
    screen = db.session.scalar(select(Screen).where(Screen.key == key, Screen.compound_id == g.compound.id,
                                                    Screen.retired.is_(False)))
    if screen is None:
        abort(404)
    return screen


def _news(screen_id, engine, live):
    """The report's values this process has not written yet for the screen ({} when nothing is new)."""
    known_engine, known_live = _reports().get(screen_id, (None, None))
    values = {}
    if engine is not None and engine != known_engine:
        values["engine"] = engine
    if live is not None and live != known_live:
        values["live_updates"] = live
    return values


def _touch(screen_id, engine=None, live=None, shows=None):
    """Record that a screen was in contact (at most every CONTACT_EVERY seconds per process), and at once
    when it reports another browser or live-update state than this process last wrote. `shows` is what the
    screen reports showing, {"slide_now": ..., "data_version": ...}, written with the contact."""
    now = time.monotonic()
    contacts = _contacts()
    if now - contacts.get(screen_id, 0) < CONTACT_EVERY and not _news(screen_id, engine, live):
        return
    contacts[screen_id] = now
    known_engine, known_live = _reports().get(screen_id, (None, None))
    _reports()[screen_id] = (engine or known_engine, known_live if live is None else live)
    # Every contact writes what the request reports (not only what is new to this process): another process
    # may have written an older report meanwhile.
    report = {"engine": engine, "live_updates": live}
    values = {name: value for name, value in {**report, **(shows or {})}.items() if value is not None}
    try:
        with writing():
            db.session.execute(update(Screen).where(Screen.id == screen_id).values(last_seen_at=utcnow(), **values))
    except SQLAlchemyError as error:
        # Best effort: a locked, full or read-only database must not cost a screen its content; it can
        # still read, so it answers normally and the committee sees a stale "last contact" instead.
        log.warning("screen %s: last contact not recorded: %s", screen_id, error)


def slide_qr(slide):
    """Return the inline SVG QR that opens this slide's item on a phone."""
    return Markup(qr_svg(public_url(f"/{g.compound.slug}/{slide.phone_path}"), title=slide.title))


def _slides(screen, provider, now):
    """One area's slides as this screen shows them (its buildings' first, other buildings' left out)."""
    return remote.for_screen(screen, provider.slides(g.compound, now))


def _groups(screen, now):
    """(provider, slides) of every area the screen shows; an area's time slot is applied on the screen
    (static/js/kiosk.js), so a loaded page follows the clock without a reload."""
    return [(p, _slides(screen, p, now)) for p in registry.providers() if screen.shows_area(p.area)]


def _urgent(screen, now):
    """Urgent slides for the banner: from every area, even one the screen's loop leaves out (an urgent notice
    is for everyone in the lobby), but not another building's."""
    return [s for p in registry.providers() for s in _slides(screen, p, now) if s.urgent]


def _context(screen):
    now = utcnow()
    groups = _groups(screen, now)
    urgent = _urgent(screen, now)
    return {"screen": screen, "groups": groups, "urgent": urgent, "slide_qr": slide_qr,
            "home_qr": Markup(qr_svg(public_url(f"/{g.compound.slug}/"), title=g.compound.name)),
            "area_event": area_event, "poll_seconds": current_app.config["POLL_SECONDS"],
            "version": g.compound.version, "code_version": __version__, "served_at": now,
            "all_events": _all_events()}


def _all_events():
    """The htmx trigger that refreshes the banner: any area's change (an urgent slide may come from any)."""
    return ", ".join(f"{area_event(p.area)} from:body" for p in registry.providers())


@bp.route("/screen/<key>")
def show(key):
    """The attract loop for one registered screen."""
    screen = _screen(key)
    _touch(screen.id, engine_label(request.headers.get("User-Agent")))
    return render_template("screen/show.html", detail=None, **_context(screen))


@bp.route("/screen/sw.js")
def worker():
    """The screens' service worker (static/js/screen-sw.js), served from here so that its scope covers this
    compound's screen pages: a screen that boots before the server is back shows its last loop."""
    response = current_app.send_static_file("js/screen-sw.js")
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.route("/screen/<key>/slides/<area>")
def slides(key, area):
    """One area's slides (htmx refresh after the pulse names the area)."""
    screen = _screen(key)
    provider = registry.provider(area)
    if provider is None or not screen.shows_area(area):
        abort(404)
    # Only this area's slides, once: the whole loop's context (_context) made every area's slides twice, for the
    # loop and for the banner, so a consultation slide re-fetched during a vote counted the topic three times.
    response = make_response(render_template("screen/_group.html", provider=provider, screen=screen,
                                             slides=_slides(screen, provider, utcnow()), slide_qr=slide_qr,
                                             area_event=area_event))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/screen/<key>/banner")
def banner(key):
    """The urgent banner that stays on every slide."""
    screen = _screen(key)
    # Every area's slides once, for the urgent ones (the whole loop's context made them twice): a screen fetches
    # the banner on every area's change, during a meeting after every ballot.
    response = make_response(render_template("screen/_banner.html", screen=screen, urgent=_urgent(screen, utcnow()),
                                             all_events=_all_events()))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/screen/<key>/item/<area>/<item:item_id>")
def detail(key, area, item_id):
    """A tapped slide in full screen: a fragment for the loop page, or the whole page on a direct visit."""
    screen = _screen(key)
    provider = registry.provider(area)
    slide = provider.detail(g.compound, item_id) if provider else None
    if slide is None:
        abort(404)
    if wants_fragment():
        response = make_response(render_template("screen/_detail.html", slide=slide, provider=provider,
                                                 screen=screen, slide_qr=slide_qr))
        response.vary.add("HX-Request")
        return response
    return render("screen/show.html", "screen/_detail.html", detail=(provider, slide), slide=slide,
                  provider=provider, **_context(screen))


@bp.route("/pulse")
def pulse():
    """Empty while the compound's version equals ?v; otherwise the new pulse element and the areas changed.

    "Nothing changed" is an empty 200 with HX-Reswap: none rather than a 204: waitress closes the
    connection after every 204, which would cost each screen a new TCP connection every poll.
    """
    seen = request.args.get("v", type=int)
    screen_id = request.args.get("s", type=int)
    loaded = request.args.get("r", type=int)
    version = g.compound.version
    if screen_id is not None:
        _touch_if_ours(screen_id, *_report(), shows=_shows(seen))
        if loaded is not None and _reload_due(screen_id, loaded):
            # htmx reloads the whole page on this header; the new page carries the new count, so one press
            # of 重新加载 reloads the screen once, whichever process answers.
            response = make_response("", 200)
            response.headers["HX-Refresh"] = "true"
            response.headers["Cache-Control"] = "no-store"
            response.headers["X-Kiosk-Code"] = __version__
            return response
    if seen == version:
        response = make_response("", 200)
        response.headers["HX-Reswap"] = "none"
    else:
        areas = sorted(set(db.session.scalars(select(Change.area).where(
            Change.compound_id == g.compound.id, Change.version > (seen or 0))))) if seen is not None and seen < version \
            else [p.area for p in registry.providers()]
        response = make_response(render_template("screen/_pulse.html", version=version, screen_id=screen_id,
                                                 reload_seq=loaded, poll_seconds=current_app.config["POLL_SECONDS"]))
        trigger(response, *[area_event(a) for a in areas])
    response.headers["X-Kiosk-Code"] = __version__
    response.headers["Cache-Control"] = "no-store"
    return response


def _shows(seen):
    """What the pulse says the screen shows: ?slide=notices-12 (the slide's id on the page) and ?v (the version
    its slides were built from)."""
    slide = request.args.get("slide", "")
    ok = 0 < len(slide) <= 80 and all(c.isalnum() or c in "-_" for c in slide)
    return {"slide_now": slide if ok else None, "data_version": seen}


def _reload_due(screen_id, loaded):
    """Return whether someone asked this screen (of this compound) to reload since its page was loaded."""
    wanted = db.session.scalar(select(Screen.reload_seq).where(Screen.id == screen_id,
                                                               Screen.compound_id == g.compound.id))
    return wanted is not None and wanted > loaded


def _touch_if_ours(screen_id, engine=None, live=None, shows=None):
    """Record contact (and the screen's report) for a screen id only if it belongs to this compound."""
    contacts = _contacts()
    if (screen_id in contacts and time.monotonic() - contacts[screen_id] < CONTACT_EVERY
            and not _news(screen_id, engine, live)):
        return
    owner = db.session.scalar(select(Screen.compound_id).where(Screen.id == screen_id))
    if owner == g.compound.id:
        _touch(screen_id, engine, live, shows)


@bp.route("/qr/<path:target>.svg")
def qr(target):
    """A QR code (SVG) that opens /<compound>/<target> on a phone; only short site paths are accepted."""
    if len(target) > 80 or not all(c.isalnum() or c in "/-_" for c in target):
        abort(404)
    response = make_response(qr_svg(public_url(f"/{g.compound.slug}/{target}")))
    response.mimetype = "image/svg+xml"
    # With PUBLIC_URL the payload is fixed; without it, it follows the Host header, so keep it out of shared caches.
    response.headers["Cache-Control"] = ("public, max-age=86400" if current_app.config.get("PUBLIC_URL")
                                         else "private, max-age=300")
    return response
