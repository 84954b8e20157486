"""Demo data: two compounds with a committee, staff, and notices of every kind. Safe to load again."""
from datetime import timedelta

from sqlalchemy import select

from .auth.models import Membership, Role, User
from .compounds.models import Compound
from .compounds.views import new_password
from .database import utcnow
from .extensions import db
from .notices import service as notices
from .notices.models import Category, Notice
from .screen.models import Orientation, Screen

SLUG = "guixiang"
OTHER_SLUG = "songbai"
CHAIR = "demo-chair"
STAFF = "demo-staff"

COMMITTEE = [
    ("demo-chair", "周建华", Role.chair),
    ("demo-vice", "李秀英", Role.vice_chair),
    ("demo-member", "陈卫东", Role.member),
    ("demo-supervisor", "刘桂兰", Role.supervisor),
]


def _notices(now):
    """The demo's notices: (title, body, category, urgent, pinned, publish, starts, ends)."""
    day = timedelta(days=1)
    return [
        ("明天上午8点至12点全小区停水", "自来水公司检修主管道。\n\n"
         "- 停水时间：明天 **8:00–12:00**\n- 范围：1–6 栋全部\n\n请提前储水。如有老人独居需要帮忙送水，"
         "请打值班电话，委员会安排志愿者上门。", Category.notice, True, False, True, None, now + 2 * day),
        ("2026年10月公共收益收支明细公示", "本月停车费、场地租金、广告费收入和监控维护、垃圾清运等支出明细，"
         "已经两位监督委员审核签字。\n\n公示期 10 天，有疑问请在公示期内提出，委员会 10 天内答复。",
         Category.disclosure, False, True, True, None, now + 9 * day),
        ("冬季用电防火提示", "天冷了，请不要在楼道给电动车充电，不要私拉电线。\n\n"
         "出门前关好电暖器，家中老人请子女多提醒。", Category.safety, False, False, True, None, None),
        ("周六上午义务清扫楼道，欢迎参加", "本周六 9:00 在 3 栋门口集合，工具由委员会准备。\n\n"
         "参加的居民每人领一份小礼品。", Category.event, False, False, True, None, now + 4 * day),
        ("快递柜搬到东门岗亭旁", "原来在 2 栋旁的快递柜下周一起搬到东门岗亭旁边，方便大家取件。",
         Category.other, False, False, True, None, None),
        ("电梯年检（草稿）", "待物业确认具体日期后发布。", Category.notice, False, False, False, None, None),
        ("上月停电检修通知（已过期）", "检修已完成。", Category.notice, False, False, True,
         now - 40 * day, now - 30 * day),
    ]


def _account(username, name, platform_admin=False):
    """Return the demo account, created if missing, with a fresh one-time password."""
    user = db.session.scalar(select(User).where(User.username == username))
    if user is None:
        user = User(username=username, display_name=name, is_platform_admin=platform_admin)
        db.session.add(user)
    password = new_password()
    user.set_password(password)
    user.must_change_password = True
    user.active = True
    db.session.flush()
    return user, password


def _compound(slug, name, community, district):
    compound = db.session.scalar(select(Compound).where(Compound.slug == slug))
    created = compound is None
    if created:
        compound = Compound(slug=slug, name=name, community=community, district=district)
        db.session.add(compound)
        db.session.flush()
    return compound, created


def load_demo():
    """Load (or refresh) the demo and return what the demo command prints."""
    now = utcnow()
    compound, created = _compound(SLUG, "桂香园小区", "东湖社区", "湘江街道")
    other, other_created = _compound(OTHER_SLUG, "松柏里小区", "东湖社区", "湘江街道")
    passwords = {}
    for username, name, role in COMMITTEE:
        user, passwords[username] = _account(username, name)
        if user.role_in(compound) is None:
            db.session.add(Membership(user_id=user.id, compound_id=compound.id, role=role))
    staff, staff_password = _account(STAFF, "街道社区办 王敏", platform_admin=True)
    db.session.flush()
    chair = db.session.scalar(select(User).where(User.username == CHAIR))
    if created:
        for title, body, category, urgent, pinned, publish, starts, ends in _notices(now):
            notices.save(compound, chair, None, {
                "title": title, "body": body, "category": category, "urgent": urgent, "pinned": pinned,
                "starts_at": starts, "ends_at": ends}, publish)
    if other_created:
        other_chair, _pw = _account("songbai-chair", "赵国强")
        db.session.add(Membership(user_id=other_chair.id, compound_id=other.id, role=Role.chair))
        notices.save(other, other_chair, None, {
            "title": "松柏里小区自治委员会换届选举报名开始", "body": "报名截止到本月底。",
            "category": Category.notice, "urgent": False, "pinned": True, "starts_at": None, "ends_at": None}, True)
    screen = db.session.scalar(select(Screen).where(Screen.compound_id == compound.id, Screen.retired.is_(False))
                               .order_by(Screen.id))
    if screen is None:
        screen = Screen(compound_id=compound.id, name="3 栋大堂", place="3 栋一楼电梯口",
                        orientation=Orientation.portrait, dwell_seconds=10, idle_seconds=60)
        db.session.add(screen)
    db.session.commit()
    urgent = db.session.scalar(select(Notice).where(Notice.compound_id == compound.id, Notice.urgent.is_(True))
                               .order_by(Notice.id))
    return {
        "slug": SLUG, "other_slug": OTHER_SLUG, "screen_key": screen.key, "urgent_notice_id": urgent.id if urgent else 0,
        "chair": CHAIR, "chair_password": passwords[CHAIR],
        "staff": STAFF, "staff_password": staff_password,
    }
