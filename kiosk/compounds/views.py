"""The compound's phone home page, and the chair's page for committee accounts."""
import secrets

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _, lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select

from ..auth.access import chair_required, require_committee
from ..auth.models import Membership, Role, User
from ..changes import AuditEntry, record_change
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


def new_password():
    """Return a one-time password that is easy to read aloud and type on a phone."""
    alphabet = "abcdefghjkmnpqrstuvwxyz23456789"
    return "-".join("".join(secrets.choice(alphabet) for _ in range(4)) for _ in range(4))


@admin_bp.route("/members", methods=["GET", "POST"])
@chair_required
def members():
    """List the committee's accounts and add one with a one-time password."""
    form = MemberForm()
    one_time = None
    if form.validate_on_submit():
        username = form.username.data.strip().lower()
        if db.session.scalar(select(User).where(User.username == username)):
            form.username.errors.append(_("这个用户名已经有人用了。"))
        else:
            one_time = new_password()
            user = User(username=username, display_name=form.display_name.data.strip())
            user.set_password(one_time)
            db.session.add(user)
            db.session.flush()
            membership = Membership(user_id=user.id, compound_id=g.compound.id, role=Role(form.role.data))
            db.session.add(membership)
            record_change(g.compound, current_user, "accounts", "create", user, None,
                          {"username": username, "role": form.role.data})
            db.session.commit()
            flash(_("已添加。请把一次性密码交给本人，首次登录后须改密码。"), "success")
            form = MemberForm(formdata=None)
    memberships = db.session.scalars(
        select(Membership).where(Membership.compound_id == g.compound.id).join(User).order_by(User.display_name)).all()
    status = 400 if request.method == "POST" and form.errors else 200
    return render_template("compounds/members.html", form=form, memberships=memberships,
                           one_time=one_time, created=username if one_time else None), status


@admin_bp.route("/members/<int:membership_id>/remove", methods=["POST"])
@chair_required
def remove_member(membership_id):
    """Take an account off this compound's committee (its audit history stays)."""
    membership = get_or_404_in_compound(Membership, membership_id)
    if membership.role == Role.chair and g.role != Role.chair and not current_user.is_platform_admin:
        abort(403)  # a vice-chair does not remove the chair the residents elected
    if membership.user_id == current_user.id:
        flash(_("不能移除自己的账号。"), "error")
        return redirect(url_for("compound_admin.members"))
    record_change(g.compound, current_user, "accounts", "remove", membership.user,
                  {"username": membership.user.username, "role": str(membership.role)}, None)
    db.session.delete(membership)
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
                 "snapshot": _l("分批公布票数"), "correct": _l("更正说明")}
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
                "as_of": _l("截至"), "paper": _l("纸质票录入"), "correction": _l("更正说明")}


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
                           changed_fields=changed_fields, action_labels=ACTION_LABELS, field_labels=FIELD_LABELS)
