"""Residents' consultation pages: topics with live results, voting by household card on the phone or with a
one-time code at the lobby screen, opinions during discussion, proposals, and the printable resolution.

Nothing here names a household next to a choice: a phone sees its own household's ballot only (in a secret
topic too: it is the phone holding the household's card, and the page is never cached); the lobby screen
never shows a household's choice.
"""
import time

from flask import (Blueprint, abort, current_app, flash, g, get_flashed_messages, make_response, redirect,
                   render_template, request, url_for)
from flask_babel import get_locale, gettext as _
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup
from sqlalchemy import select

from ..compounds.context import bind_compound, get_or_404_in_compound
from ..database import reads_first, utcnow
from ..extensions import db
from ..households import cards
from ..households.models import Household
from ..htmx import wants_fragment
from ..qr import public_url, qr_svg
from ..screen.models import Screen
from ..timefmt import format_datetime
from . import integrity, kiosk_votes, present, service, snapshots, topic_page
from .service import proxies
from .models import PROPOSAL_KIND_LABELS, Channel, Phase, ProposalKind, Status, Topic, Visibility

bp = bind_compound(Blueprint("consult", __name__, url_prefix="/<compound>"))
kiosk_bp = bind_compound(Blueprint("consult_kiosk", __name__, url_prefix="/<compound>/kiosk/<key>"))

TITLE_MAX, BODY_MAX, OPINION_MAX = 80, 2000, 500
KIOSK_IDLE_SECONDS = 30


def blueprints():
    return [bp, kiosk_bp]


def refusal(reason, ballot=None, public=False, where=""):
    """A calm sentence for a refused ballot. `public`: shown on a lobby screen, where a secret topic's ballot
    time must not appear (it would tell bystanders when the household voted). `where`: whose vote a scoped
    topic is (3栋业主表决)."""
    if reason == "already" and ballot is not None and not public:
        return _("本户已于 %(when)s 投过票（%(channel)s），这个议题不能改票。",
                 when=format_datetime(ballot.cast_at), channel=_channel_label(ballot.channel))
    return {
        "already": _("本户已经投过票，这个议题不能改票。"),
        "closed": _("投票已经截止，不能再投了。"),
        "not_open": _("投票还没有开始。"),
        "not_elector": _("本户不在这个议题的表决名单上。如有疑问请联系自治委员会。"),
        "outside_scope": _("本议题由%(where)s，您家不在表决范围内。您仍然可以看议题内容和表决结果。", where=where),
        "tenant": _("这张住户卡登记为租户持有。这个议题由业主投票；租户可以看全部内容、发表意见，可以参加意见征集。"
                    "如果您是业主，请带身份证和房产证找自治委员会核验换卡。"),
        "unverified": _("这个议题只收当面核验过的住户卡投票。请带身份证和房产证找自治委员会核验，核验后这张卡就能投票，"
                        "不用换卡。"),
        "choices": _("请选一项再提交。"),
        "too_many": _("选多了：最多只能选规定的项数。"),
        "code": _("这一步已经过期或用过了，请重新输入手机上的投票码，或重新扫住户卡。"),
        "proxy_voted": _("本户的受托人已经代为表决，以受托人的票为准，不能再投。"),
        "paper_final": _("本户的纸质表决票已经由委员会确认，以纸质表决票为准，不能再投。"),
        "proxy_used": _("受托人已经代为表决，委托不能再撤销。"),
        "proxy_revoked": _("这份委托已经撤销了，您可以自己投票。"),
        "discussion_over": _("讨论已经结束，不能再发表意见。"),
        "opinions_full": _("本户在这个议题下已经发表了 %(n)s 条意见，不能再发了。还有想法，可以当面和委员会说。",
                           n=service.OPINIONS_PER_TOPIC),
        "opinion_too_soon": _("本户刚刚已经发了 %(n)s 条意见，请过 %(minutes)s 分钟再发。",
                              n=service.OPINION_BURST, minutes=int(service.OPINION_WINDOW.total_seconds() // 60)),
    }.get(reason, _("这张票没有记下，请再试一次。"))


@bp.errorhandler(service.VoteRefused)
def _refused(error):
    """A refused ballot or opinion: back to the topic, which says why in a calm sentence; nothing was kept."""
    db.session.rollback()
    flash(refusal(error.reason, error.ballot, where=error.detail.get("where", "")), "error")
    return redirect(url_for(".topic", topic_id=request.view_args["topic_id"]), 303)


def _channel_label(channel):
    from .models import CHANNEL_LABELS
    return str(CHANNEL_LABELS.get(Channel(channel), channel))


def _topic(topic_id):
    """A published topic of this compound, closed if its time is up, its secret figures released if due."""
    topic = get_or_404_in_compound(Topic, topic_id)
    if topic.status == Status.draft:
        abort(404)
    if topic.phase() == Phase.closed and topic.status == Status.published:
        service.close_due(g.compound)
        db.session.refresh(topic)
    snapshots.release(topic)
    return topic


def sealed_note(topic, shown=None):
    """The sentence a secret topic shows while its figures move in batches, or "" when they don't."""
    if not snapshots.sealed(topic):
        return ""
    minutes, batch = snapshots.settings()
    if topic.visibility == Visibility.after_close:
        text = _("无记名投票：为了不让人从数字的变化推算出哪一户什么时候投的，这里的数字每 %(minutes)s 分钟最多更新一次，"
                 "每次至少要有 %(n)s 户新投票（有时会等更多户）。", minutes=minutes, n=batch)
    else:
        text = _("无记名投票：为了不让人从数字的变化推算出哪一户投了什么，这里的数字每 %(minutes)s 分钟最多更新一次，"
                 "每次至少要有 %(n)s 户新投票（有时会等更多户）；各选项只公布户数，按面积和业主人数的计算和是否通过，"
                 "截止后公布。", minutes=minutes, n=batch)
    if shown is not None and shown.as_of is not None:
        text += " " + _("以上是 %(when)s 的情况。", when=format_datetime(shown.as_of))
    return text


def _results_context(topic, household=None, kiosk=False, visible=None):
    """What a viewer may see of the count now: tallies or turnout only (`visible`: already decided)."""
    ballot = service.current_ballot(topic, household) if household is not None else None
    if visible is None:
        visible = service.results_visible(topic, household_voted=ballot is not None, kiosk=kiosk)
    voted, total = service.participation(topic)
    everything = present.present(topic, service.result_of(topic))
    return {"topic": topic, "visible": visible, "shown": everything if visible else None, "voted": voted,
            "total": total, "turnout": service.turnout_by_building(topic), "phase": topic.phase(), "ballot": ballot,
            "permille": present.permille, "sealed_note": sealed_note(topic, everything),
            "recount": integrity.checked(topic)}


# The results block as rendered, per compound version: a card holder's topic page differs from another's in the
# vote section, not in the count, so the count is worked out and rendered once per version (and language) and
# only the household's part per request. Kept PAGE_CACHE_SECONDS at most, like the pages in the page cache, in
# the app's extensions (one app's compound 1 is not another's).
RESULTS_BLOCKS_MAX = 256


def _results_block(topic, household):
    """(the rendered results block, this household's current ballot): the block from memory when this compound
    version's block for the same visibility was rendered less than PAGE_CACHE_SECONDS ago."""
    ballot = service.current_ballot(topic, household) if household is not None else None
    return _results_block_for(topic, service.results_visible(topic, household_voted=ballot is not None)), ballot


def _results_block_for(topic, visible):
    """The rendered results block with tallies (`visible`) or turnout only, kept per compound version."""
    phase = topic.phase()
    seconds = int(current_app.config.get("PAGE_CACHE_SECONDS") or 0)
    key = (g.compound.id, g.compound.version, topic.id, phase, visible, str(get_locale()))
    now = time.monotonic()
    blocks = current_app.extensions.setdefault("kiosk_results_blocks", {})
    hit = blocks.get(key)
    if hit is not None and hit[0] > now:
        return hit[1]
    block = Markup(render_template("consult/_results.html", **_results_context(topic, visible=visible)))
    if seconds > 0 and g.compound.version == key[1]:
        if len(blocks) >= RESULTS_BLOCKS_MAX:
            blocks.clear()
        blocks[key] = (now + seconds, block)
    return block


@bp.route("/topics")
def topics():
    """Every published topic: voting now first, then in discussion, then decided."""
    service.keep_time(g.compound)
    listed = service.visible_topics(g.compound)
    order = {Phase.voting: 0, Phase.discussion: 1, Phase.closed: 2, Phase.done: 3}
    listed.sort(key=lambda t: order.get(t.phase(), 4))
    counts = {t.id: service.participation(t) for t in listed}
    return render_template("consult/topics.html", topics=listed, counts=counts)


@bp.route("/topics/<int:topic_id>")
def topic(topic_id):
    """One topic: background, how it is decided, results as its visibility allows, and this household's vote.

    Rendered as a page with holes (topic_page.py) and filled in for this household; the page cache answers the
    next card holders from the same shell without Flask."""
    topic = _topic(topic_id)
    shell = topic_page.build(
        topic, topic.phase(), "consult/topic.html", lambda visible: _results_block_for(topic, visible),
        lambda reason, where: refusal(reason, where=where), opinions=service.opinions(topic),
        updates=service.updates(topic), opinion_max=OPINION_MAX, corrections=service.corrections(topic))
    # Read through request.cookies, so the response is marked as this household's (Vary: Cookie, private).
    connection = db.session.connection()
    facts = topic_page.read_facts(connection.connection, connection.dialect, g.compound.id, topic.id,
                                  request.cookies.get(cards.COOKIE))
    response = make_response(shell.fill(facts, generate_csrf, get_flashed_messages(with_categories=True)))
    response.headers["Cache-Control"] = "no-store"
    request.environ[topic_page.SHELL] = shell
    return response


@bp.route("/topics/<int:topic_id>/results")
def results(topic_id):
    """The results block alone (phones refresh it while voting is open)."""
    topic = _topic(topic_id)
    if not wants_fragment():
        return redirect(url_for(".topic", topic_id=topic.id))
    if not _results_depend_on_voter(topic):
        # The same block for everyone (no household's ballot in it): the page cache may keep it per compound
        # version and hand it to passers-by and card holders alike; the card is not even looked at.
        return _results_block(topic, None)[0]
    response = make_response(_results_block(topic, cards.current_household())[0])
    response.headers["Cache-Control"] = "no-store"
    return response


def _results_depend_on_voter(topic):
    """Whether the results block differs with the viewing household (tallies only after its own vote)."""
    now = utcnow()
    return (service.results_visible(topic, household_voted=True, now=now)
            != service.results_visible(topic, household_voted=False, now=now))


@bp.route("/topics/<int:topic_id>/vote", methods=["POST"])
@reads_first
def vote(topic_id):
    """A household's ballot from the phone that remembers its card. The lookups read without SQLite's write
    lock; service.cast takes it for the ballot alone."""
    topic = _topic(topic_id)
    household = cards.current_household()
    if household is None:
        return render_template("consult/need_card.html", topic=topic), 403
    ballot = service.cast(g.compound, topic, household, request.form.getlist("choice"), Channel.phone)
    if topic.allow_change:
        message = _("已投票，%(when)s。截止前可以改票，以最后一次为准。", when=format_datetime(ballot.cast_at))
    else:
        message = _("已投票，%(when)s。", when=format_datetime(ballot.cast_at))
    flash("✓ " + message, "success")
    return redirect(url_for(".topic", topic_id=topic.id), 303)


@bp.route("/topics/<int:topic_id>/proxy/revoke", methods=["POST"])
def revoke_proxy(topic_id):
    """The owner revokes their written proxy from the phone, until the proxy has voted; then votes themselves."""
    topic = _topic(topic_id)
    household = cards.current_household()
    if household is None:
        return render_template("consult/need_card.html", topic=topic), 403
    proxy = proxies.standing(topic, household)
    if proxy is None:
        flash(_("本户在这个议题没有书面委托。"), "info")
        return redirect(url_for(".topic", topic_id=topic.id), 303)
    proxies.revoke(g.compound, topic, proxy, by_owner=True)
    db.session.commit()
    flash("✓ " + _("已撤销对 %(name)s 的委托，现在可以自己投票。", name=proxy.name), "success")
    return redirect(url_for(".topic", topic_id=topic.id, _anchor="vote"), 303)


@bp.route("/topics/<int:topic_id>/opinions", methods=["POST"])
def opinion(topic_id):
    """A household's opinion while the topic is discussed (谈看法、出点子)."""
    topic = _topic(topic_id)
    household = cards.current_household()
    if household is None:
        return render_template("consult/need_card.html", topic=topic), 403
    body = (request.form.get("body") or "").strip()
    if not body or len(body) > OPINION_MAX:
        flash(_("意见请写 1 到 %(n)s 个字。", n=OPINION_MAX), "error")
        return redirect(url_for(".topic", topic_id=topic.id, _anchor="opinions"), 303)
    service.post_opinion(g.compound, topic, household, body)
    db.session.commit()
    flash(_("意见已发表，谢谢。"), "success")
    return redirect(url_for(".topic", topic_id=topic.id, _anchor="opinions"), 303)


@bp.route("/topics/<int:topic_id>/print")
def resolution_print(topic_id):
    """The resolution notice (决议公告) on A4, with every figure and a QR to the online result."""
    topic = _topic(topic_id)
    if topic.result is None:
        abort(404)
    qr = Markup(qr_svg(public_url(url_for(".topic", topic_id=topic.id)), title=topic.title))
    return render_template("consult/print.html", topic=topic, shown=present.present(topic, topic.result), qr=qr,
                           notice=topic.resolution_notice, updates=service.updates(topic), area=present.area_text,
                           corrections=service.corrections(topic), recount=integrity.checked(topic))


@bp.route("/my/code", methods=["GET", "POST"])
def my_code():
    """A one-time code for voting at the lobby screen, shown on the phone that remembers the household."""
    household = cards.current_household()
    if household is None:
        return render_template("consult/need_card.html", topic=None), 403
    code, status, message = None, 200, None
    if request.method == "POST":
        try:
            code = kiosk_votes.issue_code(g.compound, household)
        except kiosk_votes.TooManyCodes:
            db.session.rollback()
            status = 429
            message = _("这一个小时里本户已经获取了 %(n)s 次投票码，请过一会儿再来。刚才的投票码在有效期内仍然可以用。",
                        n=kiosk_votes.CODES_PER_HOUR)
        else:
            db.session.commit()
    response = make_response(render_template(
        "consult/code.html", code=code, minutes=int(kiosk_votes.CODE_LIFETIME.total_seconds() // 60),
        message=message, qr=Markup(qr_svg(code, title=_("投票码"))) if code else None), status)
    response.headers["Cache-Control"] = "no-store"
    if status == 429:
        response.headers["Retry-After"] = "600"
    return response


# --- proposals ----------------------------------------------------------------------------------------------

@bp.route("/proposals")
def proposals():
    """Residents' proposals and requests with the committee's answers; never who sent them."""
    return render_template("consult/proposals.html", proposals=service.proposals(g.compound))


@bp.route("/proposals/new", methods=["GET", "POST"])
def propose():
    """Send the committee a suggestion or request with the household card."""
    household = cards.current_household()
    if household is None:
        return render_template("consult/need_card.html", topic=None), 403
    errors, values = {}, {"kind": "suggestion", "title": "", "body": ""}
    if request.method == "POST":
        values = {"kind": request.form.get("kind", ""), "title": (request.form.get("title") or "").strip(),
                  "body": (request.form.get("body") or "").strip()}
        if values["kind"] not in {k.value for k in ProposalKind}:
            errors["kind"] = _("请选择是提议还是诉求。")
        if not values["title"] or len(values["title"]) > TITLE_MAX:
            errors["title"] = _("请用 1 到 %(n)s 个字写个标题。", n=TITLE_MAX)
        if len(values["body"]) > BODY_MAX:
            errors["body"] = _("内容最多 %(n)s 个字。", n=BODY_MAX)
        if not errors:
            try:
                service.submit_proposal(g.compound, household, values["kind"], values["title"], values["body"])
            except service.VoteRefused:
                db.session.rollback()
                errors["form"] = _("本户今天已经提了 %(n)s 条，请明天再提。急事可以直接找委员会。",
                                   n=service.PROPOSALS_PER_DAY)
                return render_template("consult/propose.html", errors=errors, values=values,
                                       kinds=PROPOSAL_KIND_LABELS), 429
            db.session.commit()
            flash(_("已收到，委员会会公开答复。"), "success")
            return redirect(url_for(".proposals"), 303)
    status = 400 if errors else 200
    return render_template("consult/propose.html", errors=errors, values=values,
                           kinds=PROPOSAL_KIND_LABELS), status


# --- voting at the lobby screen -----------------------------------------------------------------------------

def _kiosk_screen(key):
    screen = db.session.scalar(select(Screen).where(Screen.key == key, Screen.compound_id == g.compound.id,
                                                    Screen.retired.is_(False)))
    if screen is None:
        abort(404)
    return screen


def _kiosk_render(template, status=200, **context):
    response = make_response(render_template(template, idle=KIOSK_IDLE_SECONDS,
                                             poll_seconds=current_app.config["POLL_SECONDS"], **context), status)
    response.headers["Cache-Control"] = "no-store"
    response.vary.add("HX-Request")
    return response


def _kiosk_page():
    return "consult/kiosk.html" if not wants_fragment() else "consult/_kiosk.html"


@kiosk_bp.route("/vote/<int:topic_id>", methods=["GET", "POST"])
def kiosk_start(key, topic_id):
    """The keypad at the screen; a good code or card opens a keypad step and shows the ballot. The ballot form
    carries only the step's nonce: the screen never holds a code or a card after this."""
    screen = _kiosk_screen(key)
    topic = _topic(topic_id)
    page = _kiosk_page()
    if topic.phase() != Phase.voting:
        return _kiosk_render(page, 409 if request.method == "POST" else 200, screen=screen, topic=topic,
                             stage="closed", message=refusal(
                                 "closed" if topic.phase() in (Phase.closed, Phase.done) else "not_open"))
    if request.method == "GET":
        return _kiosk_render(page, screen=screen, topic=topic, stage="code", message=None)
    entry = kiosk_votes.enter(g.compound, screen, topic, request.form.get("code", ""), cards.card_household)
    if entry.outcome == "wait":
        response = _kiosk_render(page, 429, screen=screen, topic=topic, stage="code",
                                 message=_("请等 %(n)s 秒再试。", n=entry.wait))
        response.headers["Retry-After"] = str(entry.wait)
        return response
    if entry.outcome == "wrong":
        return _kiosk_render(page, 400, screen=screen, topic=topic, stage="code",
                             message=_("投票码不对或已过期。请在手机上“到大屏投票”重新获取，或扫住户卡。"))
    if entry.outcome in ("not_elector", "outside_scope", "tenant", "unverified"):
        return _kiosk_render(page, 403, screen=screen, topic=topic, stage="code",
                             message=refusal(entry.outcome, where=topic.electorate_label))
    if entry.outcome == "already":
        return _kiosk_render(page, 409, screen=screen, topic=topic, stage="code",
                             message=refusal("already", entry.ballot, public=True))
    return _kiosk_render(page, screen=screen, topic=topic, stage="ballot", household=entry.household,
                         step=entry.nonce, changing=entry.changing, message=None,
                         corrections=service.corrections(topic))


@kiosk_bp.route("/vote/<int:topic_id>/cast", methods=["POST"])
def kiosk_cast(key, topic_id):
    """Cast the kiosk ballot of a keypad step; the answer carries no household, so the screen has forgotten it."""
    screen = _kiosk_screen(key)
    topic = _topic(topic_id)
    page = _kiosk_page()
    nonce = request.form.get("step", "")
    step = kiosk_votes.find_step(g.compound, screen, topic, nonce)
    if step is None:
        return _kiosk_render(page, 400, screen=screen, topic=topic, stage="code", message=refusal("code"))
    household = db.session.get(Household, step.household_id)
    try:
        service.cast(g.compound, topic, household, request.form.getlist("choice"), Channel.kiosk, step=step)
    except service.VoteRefused as refused:
        if refused.reason in ("choices", "too_many"):  # the same voter picks again, with the same step
            return _kiosk_render(page, 400, screen=screen, topic=topic, stage="ballot", household=household,
                                 step=nonce, changing=False, message=refusal(refused.reason),
                                 corrections=service.corrections(topic))
        return _kiosk_render(page, 409, screen=screen, topic=topic, stage="code",
                             message=refusal(refused.reason, refused.ballot, public=True,
                                             where=refused.detail.get("where", "")))
    return _kiosk_render(page, screen=screen, topic=topic, stage="done", message=None)
