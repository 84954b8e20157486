"""The committee's screen pages: register, edit, retire, reload remotely, and print a poster for the compound; and
the street office's list of every screen in the district with what needs a visit."""
from datetime import timedelta

from flask import Blueprint, current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import select, update

from ..auth.access import editor_required, platform_required, require_committee
from ..changes import record_change
from ..compounds.context import bind_compound, get_or_404_in_compound
from ..compounds.models import REAL, Compound
from ..database import utcnow
from ..extensions import db
from ..qr import public_url, qr_svg
from ..timefmt import format_datetime
from . import AREA, registry
from .forms import area_field_name, screen_form
from .remote import areas_now, parse_hhmm
from .models import Orientation, Screen, split_buildings

bp = bind_compound(Blueprint("screen_admin", __name__, url_prefix="/admin/<compound>"))
bp.before_request(require_committee)
platform_bp = Blueprint("screen_platform", __name__, url_prefix="/admin/platform/screens")
platform_bp.before_request(platform_required)
DISTRICT_OFFLINE = timedelta(minutes=5)  # the district list's "needs a look": silent longer than this


def ago(moment, now=None):
    """"刚刚", "40 秒前", "3 分钟前", "2 小时前", else the date and time (Asia/Shanghai)."""
    if moment is None:
        return _("还没有联系过")
    seconds = int(((now or utcnow()) - moment).total_seconds())
    if seconds < 10:
        return _("刚刚")
    if seconds < 60:
        return _("%(n)s 秒前", n=seconds)
    if seconds < 3600:
        return _("%(n)s 分钟前", n=seconds // 60)
    if seconds < 86400:
        return _("%(n)s 小时前", n=seconds // 3600)
    return format_datetime(moment)


def showing(screen, compound):
    """What the screen last reported showing, in words: "通知：停水通知", "夜间息屏", "有人在看：…"."""
    shown = screen.slide_now
    if not shown:
        return _("还不知道（屏幕还没报告）")
    if shown == "night":
        return _("夜间息屏")
    if shown == "empty":
        return _("没有内容（显示小区二维码）")
    reading = shown.startswith("open-")
    area, _sep, item_id = shown.removeprefix("open-").partition("-")
    provider = registry.provider(area)
    title = _titles(compound, provider).get(item_id) if provider else None
    words = f"{provider.label}：{title}" if title else _("已不存在的内容（%(id)s）", id=shown)
    return _("有人在看：%(what)s", what=words) if reading else words


def _titles(compound, provider):
    """{item id: title} of an area's current slides, once per request and compound (a list of fifty screens
    asks once; an area's detail() may record that it was shown, which a list must not)."""
    cache = g.setdefault("screen_titles", {})
    key = (compound.id, provider.area)
    if key not in cache:
        cache[key] = {slide.item_id: slide.title for slide in provider.slides(compound, utcnow())}
    return cache[key]


def _helpers():
    return {"ago": ago, "showing": showing, "poll_seconds": current_app.config["POLL_SECONDS"]}


def screen_url(screen):
    """The absolute address to open on the lobby device."""
    return public_url(url_for("screen.show", key=screen.key))


@bp.route("/screens/")
def index():
    """List the compound's screens with their last contact and an offline flag."""
    screens = db.session.scalars(select(Screen).where(Screen.compound_id == g.compound.id, Screen.retired.is_(False))
                                 .order_by(Screen.name)).all()
    return render_template("screen/admin_index.html", screens=screens, screen_url=screen_url, **_helpers())


def _apply(form, screen):
    """Copy a validated form onto the screen (all areas ticked is stored as None: areas added later show too)."""
    providers = registry.providers()
    shown, slots = [], {}
    for provider in providers:
        sub = form[area_field_name(provider.area)]
        if sub.show.data:
            shown.append(provider.area)
        if sub.start.data and sub.end.data:
            slots[provider.area] = [sub.start.data.strftime("%H:%M"), sub.end.data.strftime("%H:%M")]
    screen.shown_areas = None if len(shown) == len(providers) else shown
    screen.slots = slots or None
    screen.buildings = ",".join(split_buildings(form.buildings.data))
    screen.name = form.name.data.strip()
    screen.place = (form.place.data or "").strip()
    screen.orientation = Orientation(form.orientation.data)
    screen.dwell_seconds = form.dwell_seconds.data
    screen.idle_seconds = form.idle_seconds.data
    screen.night_start = form.night_start.data
    screen.night_end = form.night_end.data


@bp.route("/screens/new", methods=["GET", "POST"])
@editor_required
def create():
    """Register a screen and show where to open it."""
    form = screen_form(registry.providers())
    if request.method == "GET":
        for provider in registry.providers():
            form[area_field_name(provider.area)].show.data = True
    if form.validate_on_submit():
        screen = Screen(compound_id=g.compound.id)
        _apply(form, screen)
        db.session.add(screen)
        record_change(g.compound, current_user, AREA, "create", screen, None, screen.snapshot())
        db.session.commit()
        flash(_("屏幕已登记。在大堂的屏幕上打开下面的网址或扫码。"), "success")
        return redirect(url_for("screen_admin.show", screen_id=screen.id))
    return (render_template("screen/form.html", form=form, screen=None, providers=registry.providers()),
            400 if request.method == "POST" else 200)


@bp.route("/screens/<int:screen_id>")
def show(screen_id):
    """One screen: its address, a QR to open it on the device, and its settings."""
    screen = get_or_404_in_compound(Screen, screen_id)
    if screen.retired:
        return redirect(url_for("screen_admin.index"))
    url = screen_url(screen)
    providers = registry.providers()
    labels = {p.area: p.label for p in providers}
    now_areas = [labels[area] for area in areas_now(screen, providers, utcnow())]
    return render_template("screen/admin_show.html", screen=screen, url=url, qr=Markup(qr_svg(url, screen.name)),
                           providers=providers, now_areas=now_areas, **_helpers())


@bp.route("/screens/<int:screen_id>/edit", methods=["GET", "POST"])
@editor_required
def edit(screen_id):
    """Change a screen's settings; the open screen reloads to take them at its next pulse."""
    screen = get_or_404_in_compound(Screen, screen_id)
    providers = registry.providers()
    form = screen_form(providers, obj=screen) if request.method == "GET" else screen_form(providers)
    if request.method == "GET":
        form.orientation.data = screen.orientation.value
        for provider in providers:
            sub = form[area_field_name(provider.area)]
            sub.show.data = screen.shows_area(provider.area)
            slot = screen.slot_of(provider.area)
            sub.start.data, sub.end.data = (parse_hhmm(slot[0]), parse_hhmm(slot[1])) if slot else (None, None)
    if form.validate_on_submit():
        before = screen.snapshot()
        _apply(form, screen)
        # The open page reloads within a pulse to take the new settings (areas, buildings, timings).
        screen.reload_seq = Screen.reload_seq + 1
        record_change(g.compound, current_user, AREA, "edit", screen, before, screen.snapshot())
        db.session.commit()
        flash(_("已保存。"), "success")
        return redirect(url_for("screen_admin.show", screen_id=screen.id))
    return (render_template("screen/form.html", form=form, screen=screen, providers=providers),
            400 if request.method == "POST" else 200)


@bp.route("/screens/<int:screen_id>/retire", methods=["POST"])
@editor_required
def retire(screen_id):
    """Stop a screen: its address no longer shows the loop."""
    screen = get_or_404_in_compound(Screen, screen_id)
    before = screen.snapshot()
    screen.retired = True
    record_change(g.compound, current_user, AREA, "retire", screen, before, screen.snapshot())
    db.session.commit()
    flash(_("屏幕已停用。"), "success")
    return redirect(url_for("screen_admin.index"))


def _request_reload(screen_ids, obj):
    """Ask screens to reload: their count goes up (the page they run carries the old one) and the compound's
    version too, so their next pulse passes the fast path and the pulse view answers HX-Refresh."""
    db.session.execute(update(Screen).where(Screen.id.in_(screen_ids), Screen.compound_id == g.compound.id)
                       .values(reload_seq=Screen.reload_seq + 1))
    record_change(g.compound, current_user, AREA, "reload", obj, None, {"screens": sorted(screen_ids)})
    db.session.commit()


@bp.route("/screens/<int:screen_id>/reload", methods=["POST"])
@editor_required
def reload(screen_id):
    """Reload one screen's page within one pulse (it must be running a page that can update itself)."""
    screen = get_or_404_in_compound(Screen, screen_id)
    if screen.retired:
        return redirect(url_for("screen_admin.index"))
    _request_reload([screen.id], screen)
    flash(_("已通知“%(name)s”重新加载，几秒内生效。", name=screen.name), "success")
    return redirect(_back(url_for("screen_admin.show", screen_id=screen.id)))


@bp.route("/screens/reload", methods=["POST"])
@editor_required
def reload_all():
    """Reload every screen of the compound."""
    ids = list(db.session.scalars(select(Screen.id).where(Screen.compound_id == g.compound.id,
                                                          Screen.retired.is_(False))))
    if ids:
        _request_reload(ids, g.compound)
    flash(_("已通知全部 %(n)s 块屏幕重新加载，几秒内生效。", n=len(ids)), "success")
    return redirect(url_for("screen_admin.index"))


def _back(default):
    """Return to the list when the button was pressed there (a form field, never an outside address)."""
    return url_for("screen_admin.index") if request.form.get("back") == "list" else default


@bp.route("/poster")
def poster():
    """An A4 poster for the lift or stairwell: the compound's name and a large QR to its phone home."""
    url = public_url(url_for("compounds.home"))
    return render_template("screen/poster.html", url=url, qr=Markup(qr_svg(url, g.compound.name)))


def warnings(screen, version, now):
    """What needs the technician at a screen: silent for over five minutes, a browser too old for live updates,
    live updates never confirmed, or slides older than the compound's data."""
    found = []
    if screen.last_seen_at is None or now - screen.last_seen_at > DISTRICT_OFFLINE:
        found.append(_("离线超过 5 分钟"))
    if screen.live_updates is False:
        found.append(_("浏览器过旧，无法实时更新"))
    elif screen.live_updates is None and screen.last_seen_at is not None:
        found.append(_("实时更新未确认"))
    if screen.data_version is not None and screen.data_version < version and screen.last_seen_at is not None \
            and now - screen.last_seen_at <= DISTRICT_OFFLINE:
        found.append(_("内容不是最新"))
    return found


@platform_bp.route("/")
def district():
    """Every screen of every compound, those needing a look first."""
    now = utcnow()
    rows = db.session.execute(select(Screen, Compound).join(Compound, Compound.id == Screen.compound_id)
                              .where(Screen.retired.is_(False), REAL).order_by(Compound.name, Screen.name)).all()
    listed = [(screen, compound, warnings(screen, compound.version, now)) for screen, compound in rows]
    listed.sort(key=lambda row: not row[2])  # stable: those with warnings first, then by compound and name
    return render_template("screen/district.html", rows=listed, troubled=sum(1 for row in listed if row[2]),
                           **_helpers())
