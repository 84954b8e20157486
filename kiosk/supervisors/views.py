"""Platform staff's page for turning a decided supervisors' election into the supervisory body."""
from flask import Blueprint, abort, g, render_template, request
from flask_babel import gettext as _, lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import BooleanField
from wtforms.validators import DataRequired

from ..auth import supervision
from ..auth.access import require_committee
from ..auth.accounts import AccountRefused
from ..compounds.context import bind_compound, get_or_404_in_compound
from ..consult.models import Topic
from ..extensions import db
from . import election as service

bp = bind_compound(Blueprint("supervisors_admin", __name__, url_prefix="/admin/<compound>/supervisors"))
bp.before_request(require_committee)


class ApplyForm(FlaskForm):
    """The staff member confirms what the election was for."""

    confirmed = BooleanField(_l("我已核对：这次选举选的是本小区的监督委员，当选名单就是上面这些人。"),
                             validators=[DataRequired(_l("请先核对并勾选。"))])


def refusal_sentence(refused):
    """Why an election cannot be applied, in a sentence."""
    name = refused.detail.get("name", "")
    sentences = {
        "not_election": lambda: _("这个议题不是选举。"),
        "not_closed": lambda: _("这次选举还没有截止计票。"),
        "not_decided": lambda: _("这次选举没有选出结果（人数不够或票数相同），不能据此产生监督委员。"),
        "recount_differs": lambda: _("重新点票的当选名单与公布的结果不一致，请先核查，不能据此产生监督委员。"),
        "already_applied": lambda: _("这次选举的结果已经生效过了。"),
        "superseded": lambda: _("已经按一次更晚的选举产生了监督委员，不能再按这次较早的选举改回去。"),
        "ambiguous": lambda: _("当选人里有名字相同、相近或过长的，系统分不清是谁，请核查。"),
        "committee_member": lambda: _("当选人%(name)s现在是本小区的自治委员会成员。一个人不能既管钱又查账：请先把%(name)s移出委员会，"
                                      "再让选举结果生效。", name=name),
        "names_differ": lambda: _("您确认的名单与选举结果不一致（页面可能已过期），请刷新后再核对一次。"),
        "not_platform": lambda: _("监督委员由街道任命，或按居民选举的结果产生，委员会不能自己添加或移除。"),
    }
    return sentences.get(refused.reason, lambda: _("这件事现在不能做。"))()


def _require_platform():
    if not current_user.is_platform_admin:
        abort(403)


def _page(status=200, issued=None, applied=None, forms=None, error=None):
    rows = []
    for topic in service.candidates(g.compound):
        refused = service.problem(g.compound, topic)
        form = (forms or {}).get(topic.id) or ApplyForm(formdata=None)
        form.confirmed.id = f"confirmed-{topic.id}"  # one page, one form per election
        rows.append((topic, service.winners(topic), refusal_sentence(refused) if refused else None, form))
    return render_template("supervisors/election.html", rows=rows, issued=issued, applied=applied, error=error,
                           sitting=supervision.sitting(g.compound), basis=supervision.basis(g.compound)), status


@bp.route("/election")
def election():
    """The compound's closed elections, each with its winners and whether its result can take effect."""
    _require_platform()
    return _page()


@bp.route("/election/<int:topic_id>", methods=["POST"])
def apply_election(topic_id):
    """Make a decided election's winners the supervisory body; show the new accounts' one-time passwords once."""
    topic = get_or_404_in_compound(Topic, topic_id)
    _require_platform()
    form = ApplyForm()
    if not form.validate_on_submit():
        return _page(400, forms={topic.id: form})
    try:
        issued = service.apply(g.compound, current_user, topic, request.form.getlist("winner"))
    except AccountRefused as refused:
        db.session.rollback()
        sentence = refusal_sentence(refused)
        form.confirmed.errors.append(sentence)
        return _page(409, forms={topic.id: form}, error=_("《%(title)s》：%(why)s", title=topic.title, why=sentence))
    db.session.commit()
    return _page(issued=issued, applied=topic)
