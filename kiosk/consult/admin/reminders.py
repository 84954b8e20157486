"""Reminders for an open vote: per building, the households that have not voted yet (the topic's electorate less
its current ballots, as the committee's who-voted list shows them), as a door-knocking sheet, as reminder slips
to cut and hand out, and as a CSV of contact phones for the street office's SMS platform.

A secret topic's list moves only with its released snapshots (service.roll_call), so these pages reveal no more
than the who-voted list already does, and never a choice. The slips carry no address: a slip in a mailbox must
not tell passers-by whether that household voted. Exporting phones is for the chair and vice-chairs only, and
every export is audited with who and how many rows: a member's account is the likeliest way a list of
residents' phones walks out, so as few accounts as the job needs may take one.
"""
from itertools import groupby

from flask import flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup

from ... import exports
from ...auth.access import chair_required, is_chair
from ...changes import record_change
from ...extensions import db
from ...qr import public_url, qr_svg
from ...timefmt import format_datetime, local_date
from .. import AREA, service, snapshots
from ..models import Phase
from .base import admin_bp, load, short

SLIPS_PER_PAGE = 8


def non_voters(topic, building=""):
    """[(building, [households])] of electors without a counted ballot, in address order; one building if given."""
    rows = [r.household for r in service.roll_call(topic) if not r.voted]
    if building:
        rows = [h for h in rows if h.building == building]
    return [(b, list(hs)) for b, hs in groupby(rows, key=lambda h: h.building)]


def _open_topic(topic_id):
    """The topic while its vote is open, else None (the caller sends the committee back with a sentence)."""
    topic = load(topic_id)
    if topic.phase() != Phase.voting:
        flash(_("投票进行中才能催票。"), "info")
        return topic, redirect(url_for(".show", topic_id=topic.id))
    return topic, None


def _released(topic):
    """(sealed, as of): whether the list follows a secret topic's releases, and the moment the last one counts up
    to (None before the first release, when nobody is counted yet)."""
    sealed = snapshots.sealed(topic)
    return sealed, topic.released_at if sealed else None


@admin_bp.route("/<int:topic_id>/reminders")
def reminders(topic_id):
    """Who has not voted yet, per building, with the sheet, the slips and (for the chair) the phone export."""
    topic, away = _open_topic(topic_id)
    if away:
        return away
    groups = non_voters(topic)
    sealed, as_of = _released(topic)
    return render_template("consult/reminders.html", topic=topic, groups=groups, sealed=sealed, as_of=as_of,
                           total=sum(len(hs) for _b, hs in groups), may_export=is_chair())


@admin_bp.route("/<int:topic_id>/reminders/sheet")
def reminder_sheet(topic_id):
    """The printable door-knocking sheet: per building, each address with a tick column and room for notes."""
    topic, away = _open_topic(topic_id)
    if away:
        return away
    building = request.args.get("building", "")[:20]
    sealed, as_of = _released(topic)
    return render_template("consult/reminder_sheet.html", topic=topic, groups=non_voters(topic, building),
                           sealed=sealed, as_of=as_of, printed_on=local_date())


@admin_bp.route("/<int:topic_id>/reminders/slips")
def reminder_slips(topic_id):
    """Printable reminder slips, one per household not yet voted, eight to an A4 page: the topic, the deadline
    in Chinese and a QR code of the topic's phone page. No address on them."""
    topic, away = _open_topic(topic_id)
    if away:
        return away
    building = request.args.get("building", "")[:20]
    count = sum(len(hs) for _b, hs in non_voters(topic, building))
    qr = Markup(qr_svg(public_url(url_for("consult.topic", topic_id=topic.id)), title=topic.title))
    pages = [min(SLIPS_PER_PAGE, count - start) for start in range(0, count, SLIPS_PER_PAGE)]
    return render_template("consult/reminder_slips.html", topic=topic, qr=qr, pages=pages, count=count,
                           deadline=format_datetime(topic.closes_at), building=building)


@admin_bp.route("/<int:topic_id>/reminders/phones.csv", methods=["POST"])
@chair_required
def export_phones(topic_id):
    """CSV of the non-voters' contact phones (address, contact, phone) for the street office's SMS platform;
    the export is recorded in the audit log with who took it and how many rows."""
    topic, away = _open_topic(topic_id)
    if away:
        return away
    if exports.in_wechat():  # WeChat cannot save the file: nothing was taken, so nothing is audited
        return exports.wechat_page()
    building = request.form.get("building", "")[:20]
    households = [h for _b, hs in non_voters(topic, building) for h in hs if h.contact_phone.strip()]
    table = [[_("地址"), _("联系人"), _("电话")]]
    table += [[h.address, h.contact_name, h.contact_phone] for h in households]
    record_change(g.compound, current_user, AREA, "export_phones", topic, None,
                  {"rows": len(households), "building": building or None, "title": topic.title})
    db.session.commit()
    return exports.csv_response(table, f"topic-{topic.id}-reminder-phones.csv",
                                _("%(title)s-未投票住户电话.csv", title=short(topic.title, 60)))
