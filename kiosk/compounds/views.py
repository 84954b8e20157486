"""The compound's phone home page, and the chair's page for committee accounts."""
from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _, lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select

from ..auth.access import chair_required, require_committee
from ..auth import accounts, supervision
from ..auth.accounts import AccountRefused, new_password  # noqa: F401  (new_password: the CLI and demo use it)
from ..auth.models import Membership, Role, User
from ..changes import AuditEntry
from ..extensions import db
from ..htmx import render
from ..notices.models import CATEGORY_LABELS, Category, public_notices
from .context import bind_compound, get_or_404_in_compound
from .forms import MemberForm

bp = bind_compound(Blueprint("compounds", __name__, url_prefix="/<compound>"))
admin_bp = bind_compound(Blueprint("compound_admin", __name__, url_prefix="/admin/<compound>"))
admin_bp.before_request(require_committee)
site_bp = Blueprint("site", __name__)


@site_bp.route("/")
def index():
    """The bare server address: tell a visitor to scan their compound's code."""
    return render_template("compounds/site.html")


@bp.route("/")
def home():
    """The compound's phone home: current notices, urgent and pinned first, filterable by category."""
    category = request.args.get("c")
    try:
        category = Category(category) if category else None
    except ValueError:
        category = None
    notices = db.session.scalars(public_notices(g.compound, category)).all()
    return render("compounds/home.html", "compounds/_notices.html",
                  notices=notices, category=category, categories=CATEGORY_LABELS)


def _refusal_sentence(refused):
    """The sentence for an account rule, shown next to the field it concerns."""
    sentences = {
        "username_taken": lambda: _("这个用户名已经有人用了。"),
        "name_unreadable": lambda: _("姓名里要有能认出来的字。"),
        "name_taken": lambda: _("本小区已有一位“%(name)s”（写法相近也算同名）。同名会让签字和操作记录分不清是谁，"
                                "请加上区分，例如“%(name)s（3栋）”。", name=refused.detail.get("name", "")),
        "supervisor": lambda: _("监督委员由街道任命，或按居民选举的结果产生，委员会不能自己添加或移除。"),
        "not_platform": lambda: _("监督委员由街道任命，或按居民选举的结果产生，委员会不能自己添加或移除。"),
        "chair": lambda: _("副主任不能移除主任。"),
        "self": lambda: _("不能移除自己的账号。"),
    }
    return sentences.get(refused.reason, lambda: _("这件事现在不能做。"))()


FIELD_OF_REFUSAL = {"username_taken": "username", "name_unreadable": "display_name", "name_taken": "display_name",
                    "supervisor": "role", "not_platform": "role"}


def _add_account(form, platform):
    """Create the account the form describes; return ((username, one-time password), 200), or (None, status)
    with the problem next to its field (403 when the role is not the committee's to give)."""
    username = form.username.data.strip().lower()
    display_name = form.display_name.data.strip()
    role = Role(form.role.data)
    one_time = new_password()
    try:
        if role == Role.supervisor and platform:
            supervision.appoint_new(g.compound, current_user, username, display_name, one_time)
        else:
            accounts.add_member(g.compound, current_user, username, display_name, role, one_time)
    except AccountRefused as refused:
        db.session.rollback()
        getattr(form, FIELD_OF_REFUSAL.get(refused.reason, "username")).errors.append(_refusal_sentence(refused))
        return None, 403 if refused.reason in ("supervisor", "not_platform") else 400
    db.session.commit()
    return (username, one_time), 200


def _member_form(platform, **kwargs):
    """The add-account form; only platform staff are offered the supervisor role."""
    form = MemberForm(**kwargs)
    if not platform:
        form.role.choices = [c for c in form.role.choices if c.value != Role.supervisor.value]
    return form


@admin_bp.route("/members", methods=["GET", "POST"])
@chair_required
def members():
    """List the committee's accounts and add one with a one-time password; supervisors are platform staff's to
    appoint (or an election's), so a chair's form does not offer them."""
    platform = current_user.is_platform_admin
    form = _member_form(platform)
    created, status = None, 200
    if request.method == "POST" and request.form.get("role") == Role.supervisor.value and not platform:
        form.validate()
        form.role.errors = [_refusal_sentence(AccountRefused("supervisor"))]
        status = 403
    elif form.validate_on_submit():
        created, status = _add_account(form, platform)
        if created:
            flash(_("已添加。请把一次性密码交给本人，首次登录后须改密码。"), "success")
            form = _member_form(platform, formdata=None)
    elif request.method == "POST":
        status = 400
    memberships = db.session.scalars(
        select(Membership).where(Membership.compound_id == g.compound.id).join(User).order_by(User.display_name)).all()
    return render_template("compounds/members.html", form=form, memberships=memberships, created=created,
                           basis=supervision.basis(g.compound), platform=platform), status


@admin_bp.route("/members/<int:membership_id>/remove", methods=["POST"])
@chair_required
def remove_member(membership_id):
    """Take an account off this compound's committee (its audit history stays); a supervisor only by platform
    staff, recorded on the public roster."""
    membership = get_or_404_in_compound(Membership, membership_id)
    try:
        if membership.role == Role.supervisor:
            supervision.remove(g.compound, current_user, membership)
        else:
            accounts.remove_member(g.compound, current_user, g.role, membership)
    except AccountRefused as refused:
        db.session.rollback()
        if refused.reason == "self":
            flash(_refusal_sentence(refused), "error")
            return redirect(url_for("compound_admin.members"))
        abort(403)
    db.session.commit()
    flash(_("已移除。"), "success")
    return redirect(url_for("compound_admin.members"))


ACTION_LABELS = {"create": _l("新建"), "edit": _l("修改"), "publish": _l("发布"), "unpublish": _l("撤回"),
                 "archive": _l("归档"), "remove": _l("移除"), "end_term": _l("卸任"), "import": _l("导入"),
                 "issue": _l("发卡"), "revoke": _l("作废住户卡"), "pickup": _l("领取"), "retire": _l("停用"),
                 "ballot": _l("投票"), "close": _l("截止计票"), "opinion": _l("发表意见"), "hide_opinion": _l("隐藏意见"),
                 "propose": _l("居民提议"), "answer": _l("答复"), "to_topic": _l("转为议题"),
                 "resolution": _l("决议公告"), "update": _l("落实情况"), "draft": _l("记草稿"),
                 "delete_draft": _l("删除草稿"), "post": _l("入账"), "reverse": _l("冲销"), "submit": _l("提交审核"),
                 "resubmit": _l("重新提交"), "sign": _l("签字"), "sign_publish": _l("签字并公示"),
                 "refuse": _l("退回"), "question": _l("质询"), "budget": _l("预算"),
                 "appoint": _l("任命监督委员"), "snapshot": _l("分批公布票数"), "correct": _l("更正说明")}
FIELD_LABELS = {"title": _l("标题"), "body": _l("正文"), "category": _l("类别"), "urgent": _l("紧急"),
                "pinned": _l("置顶"), "status": _l("状态"), "starts_at": _l("开始显示"), "ends_at": _l("结束显示"),
                "image_id": _l("配图"), "username": _l("用户名"), "role": _l("职务"), "name": _l("名称"),
                "slug": _l("网址名"), "chair": _l("主任"), "term_start": _l("任期开始"), "term_end": _l("任期结束"),
                "intro": _l("介绍"), "photo_id": _l("照片"), "building": _l("楼栋"), "entrance": _l("单元"),
                "room": _l("室"), "area": _l("面积"), "occupancy": _l("状态"), "owner_key": _l("业主标识"),
                "contact_name": _l("联系人"), "contact_phone": _l("电话"), "note": _l("备注"),
                "added": _l("新增"), "updated": _l("更新"), "cards": _l("住户卡"), "address": _l("地址"),
                "item": _l("发放物品"), "eligibility": _l("发放范围"), "place": _l("位置"),
                "orientation": _l("方向"), "dwell_seconds": _l("每页停留"), "idle_seconds": _l("回到轮播"),
                "night_start": _l("息屏开始"), "night_end": _l("息屏结束"), "retired": _l("停用"),
                "households": _l("住户"), "pickups": _l("领取"), "event_id": _l("发放活动"),
                "household_id": _l("住户"), "collected_at": _l("领取时间"),
                "kind": _l("类型"), "rule": _l("表决规则"), "seats": _l("名额"), "secret": _l("无记名"),
                "visibility": _l("结果公开方式"), "allow_change": _l("允许改票"), "opens_at": _l("投票开始"),
                "closes_at": _l("投票截止"), "options": _l("选项"), "fingerprint": _l("结果指纹"),
                "background": _l("背景说明"), "channel": _l("渠道"), "choices": _l("所选"), "changed": _l("改票"),
                "passed": _l("通过"), "part_households": _l("参与户数"), "electorate": _l("表决名单户数"),
                "reason": _l("理由"), "answer": _l("答复"), "topic_id": _l("议题"), "notice_id": _l("公告"),
                "number": _l("编号"), "occurred_on": _l("日期"), "amount_fen": _l("金额（分）"),
                "description": _l("摘要"), "counterparty": _l("对方"), "counterparty_is_person": _l("对方是个人"),
                "method": _l("方式"), "reverses_id": _l("冲销"), "reverses": _l("冲销"), "posted": _l("已入账"),
                "hash": _l("哈希"), "head_hash": _l("链末端"), "head_number": _l("截至编号"), "round": _l("轮次"),
                "opening_fen": _l("期初（分）"), "income_fen": _l("收入（分）"), "expense_fen": _l("支出（分）"),
                "closing_fen": _l("期末（分）"), "actual_fen": _l("实存（分）"),
                "display_name": _l("姓名"), "via": _l("途径"), "source": _l("依据"),
                "as_of": _l("截至"), "paper": _l("纸质票录入"), "correction": _l("更正说明")}


# Recorded values people should read in words: how an account came to be, on whose authority.
VALUE_LABELS = {"via": {"cli": _l("服务器命令行（kiosk user add）")},
                "source": {"platform": _l("街道任命"), "election": _l("选举结果")}}


def value_label(key, value):
    """The words for a recorded value of these fields, else the value itself."""
    return VALUE_LABELS.get(key, {}).get(value, value) if isinstance(value, str) else value


def changed_fields(entry):
    """Return (field, before, after) for each value an audit entry changed."""
    before, after = entry.before or {}, entry.after or {}
    return [(key, before.get(key), after.get(key)) for key in sorted(set(before) | set(after))
            if before.get(key) != after.get(key)]


@admin_bp.route("/audit")
def audit():
    """The compound's audit log, newest first: who changed what, when, from what to what."""
    page = max(request.args.get("page", 1, type=int), 1)
    entries = db.paginate(select(AuditEntry).where(AuditEntry.compound_id == g.compound.id)
                          .order_by(AuditEntry.id.desc()), page=page, per_page=50, error_out=False)
    actors = {u.id: u for u in db.session.scalars(
        select(User).where(User.id.in_({e.actor_id for e in entries.items if e.actor_id})))}
    return render_template("compounds/audit.html", entries=entries, actors=actors,
                           changed_fields=changed_fields, action_labels=ACTION_LABELS, field_labels=FIELD_LABELS,
                           value_label=value_label)
