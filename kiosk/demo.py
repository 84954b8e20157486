"""Demo data: two compounds with a committee, staff, and notices of every kind. Safe to load again."""
import random
from datetime import datetime, time, timedelta

from sqlalchemy import select

from .auth import supervision
from .auth.models import Membership, Role, User
from .compounds.models import Compound
from .auth.accounts import new_password
from .database import utcnow
from .extensions import db
from .notices import service as notices
from .notices.models import Category, Notice
from .screen.models import Orientation, Screen
from .distribution import AREA as DISTRIBUTION
from .distribution import service as distribution
from .distribution.models import DistributionEvent, Pickup
from .households import AREA as HOUSEHOLDS
from .households.models import LIVED_IN, Household, Occupancy
from .households.service import issue as issue_cards
from .changes import record_change
from .timefmt import local_date, local_zone

SLUG = "guixiang"
OTHER_SLUG = "songbai"
CHAIR = "demo-chair"
STAFF = "demo-staff"

COMMITTEE = [
    ("demo-chair", "周建华", Role.chair),
    ("demo-vice", "李秀英", Role.vice_chair),
    ("demo-member", "陈卫东", Role.member),
    ("demo-supervisor", "刘桂兰", Role.supervisor),
    ("demo-supervisor2", "张德明", Role.supervisor),
    ("demo-supervisor3", "杨淑芬", Role.supervisor),
]


def _notices(now):
    """The demo's notices: (title, body, category, urgent, pinned, publish, starts, ends)."""
    day = timedelta(days=1)
    # The last month the demo's supervisors have signed: the one before last (last month still waits).
    this_month = now.astimezone(local_zone()).replace(day=1)
    signed = (this_month - 32 * day).replace(day=1)
    return [
        ("明天上午8点至12点全小区停水", "自来水公司检修主管道。\n\n"
         "- 停水时间：明天 **8:00–12:00**\n- 范围：1–6 栋全部\n\n请提前储水。如有老人独居需要帮忙送水，"
         "请打值班电话，委员会安排志愿者上门。", Category.notice, True, False, True, None, now + 2 * day),
        (f"{signed.year}年{signed.month}月公共收益收支明细公示", "本月停车费、场地租金、广告费收入和监控维护、"
         "垃圾清运等支出明细，已经两位监督委员审核签字，每一笔都可以在“收支公示”里查看。\n\n"
         "公示期 15 天，有疑问请扫住户卡对那一笔提出质询，委员会 10 天内答复。",
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


def _holders(compound, role):
    """The accounts holding `role` in the compound, oldest account first (the demo's seeding picks its
    recorders and signers from the compound's own committee, so it can fill any compound)."""
    return list(db.session.scalars(select(User).join(Membership).where(
        Membership.compound_id == compound.id, Membership.role == role).order_by(User.id)))


def _holder(compound, role):
    """The first account holding `role` in the compound, or None."""
    found = _holders(compound, role)
    return found[0] if found else None


def _post_notices(compound, chair, now):
    """Post the demo's notices (see _notices) in the compound, as its chair."""
    for title, body, category, urgent, pinned, publish, starts, ends in _notices(now):
        notices.save(compound, chair, None, {
            "title": title, "body": body, "category": category, "urgent": urgent, "pinned": pinned,
            "starts_at": starts, "ends_at": ends}, publish)


def _compound(slug, name, community, district):
    compound = db.session.scalar(select(Compound).where(Compound.slug == slug))
    created = compound is None
    if created:
        compound = Compound(slug=slug, name=name, community=community, district=district)
        db.session.add(compound)
        db.session.flush()
    return compound, created


SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
GIVEN = ["建国", "秀兰", "桂英", "志强", "玉梅", "国华", "淑珍", "德明", "春花", "海军", "丽娟", "文斌", "金凤", "永红",
         "晓燕", "卫国", "凤英", "宏伟", "翠兰", "明辉"]
ROOM_AREAS = {"01": 86.35, "02": 62.48, "03": 118.90}


def _households(compound, chair):
    """A realistic roll, made once: 6 buildings × 2 entrances × 6 floors × 3 rooms, with private contacts."""
    if db.session.scalar(select(Household.id).where(Household.compound_id == compound.id).limit(1)):
        return
    rng = random.Random(1998)  # the year the compound was built: the same roll every time
    units = []
    for building in range(1, 7):
        for entrance in (1, 2):
            for floor in range(1, 7):
                for room, base in ROOM_AREAS.items():
                    area = round(base + rng.choice((-0.62, -0.17, 0, 0.21, 0.48)), 2)
                    occupancy = Occupancy.owner_occupied
                    if building == 6 and entrance == 2 and floor >= 5:
                        occupancy = Occupancy.developer  # unsold units still held by the developer
                    elif rng.random() < 0.05:
                        occupancy = Occupancy.vacant
                    name = rng.choice(SURNAMES) + rng.choice(GIVEN) if occupancy != Occupancy.developer else ""
                    phone = f"13{rng.randint(0, 9)}{rng.randint(10000000, 99999999)}" if name else ""
                    units.append(Household(
                        compound_id=compound.id, building=str(building), entrance=str(entrance),
                        room=f"{floor}{room}", area_centi=round(area * 100), occupancy=occupancy,
                        contact_name=name, contact_phone=phone))
    # A few owners bought two units: they count as one owner in votes.
    for index, (a, b) in enumerate([(5, 6), (40, 41), (101, 118), (150, 151)], start=1):
        units[a].owner_key = units[b].owner_key = f"O-{index:03d}"
        units[b].contact_name, units[b].contact_phone = units[a].contact_name, units[a].contact_phone
    db.session.add_all(units)
    db.session.flush()
    record_change(compound, chair, HOUSEHOLDS, "import", compound, None, {"added": len(units)})


def _distribution(compound, chair, now):
    """Two gift pickups on the demo roll, made once: the Dragon Boat package in June (nearly all collected)
    and 冬至汤圆 open now (about 40% collected). Does nothing without households or when events exist."""
    households = db.session.scalars(select(Household).where(Household.compound_id == compound.id)
                                    .order_by(Household.id)).all()
    if not households or db.session.scalar(select(DistributionEvent.id).where(
            DistributionEvent.compound_id == compound.id).limit(1)):
        return
    recorders = db.session.scalars(select(User).join(Membership).where(
        Membership.compound_id == compound.id, Membership.role.in_([Role.chair, Role.vice_chair, Role.member]))
        .order_by(User.id)).all() or [chair]
    occupied = [h for h in households if h.occupancy in LIVED_IN]
    june = datetime(2026, 6, 17, 9, 0, tzinfo=local_zone())
    today = now.astimezone(local_zone()).replace(hour=8, minute=0, second=0, microsecond=0)
    plans = [
        ("端午节大礼包", "粽子一盒、咸鸭蛋 10 个、食用油一桶", june, june + timedelta(days=2, hours=9),
         lambda i, h: i % 23 != 5),
        ("冬至汤圆", "汤圆两袋（黑芝麻、花生各一袋）", today - timedelta(days=1), today + timedelta(days=3, hours=10),
         lambda i, h: i % 5 in (0, 3) and not (h.building == "3" and h.room == "502")),
    ]
    for name, item, starts, ends, collects in plans:
        event = distribution.create_event(compound, chair, {"name": name, "item": item, "starts_at": starts,
                                                            "ends_at": ends}, [h.id for h in occupied],
                                          "全部在住户（不含空置、开发商持有）")
        span = (min(ends, now) - starts).total_seconds()
        picked = [(i, h) for i, h in enumerate(occupied) if collects(i, h)]
        db.session.add_all(Pickup(compound_id=compound.id, event_id=event.id, household_id=h.id,
                                  recorded_by=recorders[i % len(recorders)].id,
                                  collected_at=starts + timedelta(seconds=span * ((i * 7919) % 1000) / 1000))
                           for i, h in picked)
        record_change(compound, chair, DISTRIBUTION, "import", event, None, {"pickups": len(picked)})


ROSTER_THIS_TERM = [
    ("周建华", Role.chair, "退休前在区供电局工作，2018 年起参加小区自治。负责公共收益和停车管理，有事可在东门岗亭留言。"),
    ("李秀英", Role.vice_chair, "社区党员志愿者，协调楼道卫生和垃圾清运，也负责端午、中秋的福利发放。"),
    ("陈卫东", Role.member, "在小区开小超市十多年，负责监控、门禁等设施的报修和联系。"),
    ("王志刚", Role.member, "负责消防安全和电动车充电管理，每月带志愿者巡查一次楼道。"),
    ("黄丽娟", Role.member, "负责协商议事会的通知和记录，帮不会用手机的老人登记表决。"),
    ("刘桂兰", Role.supervisor, "退休会计，牵头审核每月的收支明细，审核签字后才公示。"),
    ("张德明", Role.supervisor, "监督公共收益的使用，大额支出要求至少三家比价。"),
    ("杨淑芬", Role.supervisor, "收集居民对账目的疑问，督促委员会在 10 天内答复。"),
]
ROSTER_LAST_TERM = [
    ("孙玉林", Role.chair, "上一届委员会主任，带大家完成了小区环境整治和停车位划线。"),
    ("周建华", Role.member, "上一届负责制定停车收费规则。"),
    ("吴长顺", Role.supervisor, "上一届监督委员，定下了每季度公示账目的做法。"),
]


def _term_year(now):
    """The first year of the current three-year term (from June), one that covers today."""
    return max(2024, local_date(now).year - 2)


def _term_start(now):
    """When the current term began: 9:00 on 1 June of its first year, local time."""
    return datetime(_term_year(now), 6, 1, 9, 0, tzinfo=local_zone())


def _roster(compound, now):
    """The committee roster, made once: this term's 5 members and 3 supervisors, and part of the term before."""
    from datetime import date

    from .roster import service as roster
    from .roster.models import RosterMember

    if db.session.scalar(select(RosterMember.id).where(RosterMember.compound_id == compound.id).limit(1)):
        return
    chair = db.session.scalar(select(User).where(User.username == CHAIR))
    year = _term_year(now)
    terms = [((date(year - 3, 6, 1), date(year, 5, 31)), ROSTER_LAST_TERM),
             ((date(year, 6, 1), date(year + 3, 5, 31)), ROSTER_THIS_TERM)]
    for (start, end), people in terms:
        for name, role, intro in people:
            roster.save(compound, chair, None, {"name": name, "role": role, "term_start": start, "term_end": end,
                                                "intro": intro})


def _consultations(compound, chair, now, sample):
    """Made once: a decided statutory topic (the June gift packages) with its resolution notice and
    follow-through, a vote open now with about half the households in, a topic under discussion with
    opinions, and residents' proposals. The sample card's household has not voted, so a newcomer can."""
    from .consult import AREA as CONSULT
    from .consult import service as consult
    from .consult.models import Ballot, Channel, Opinion, ProposalStatus, Topic

    households = db.session.scalars(select(Household).where(Household.compound_id == compound.id)
                                    .order_by(Household.id)).all()
    if not households or db.session.scalar(select(Topic.id).where(Topic.compound_id == compound.id).limit(1)):
        return
    rng = random.Random(2018)  # the year the committee was elected
    member = _holder(compound, Role.member) or chair
    zone = local_zone()

    def topic(title, background, opens, closes, kind="yesno", rule="ordinary", options=(), **extra):
        fields = {"title": title, "background": background, "kind": kind, "rule": rule, "seats": 1,
                  "secret": True, "visibility": "live", "allow_change": True, "opens_at": opens,
                  "closes_at": closes, **extra}
        made = consult.save_topic(compound, chair, None, fields, list(options))
        db.session.flush()
        consult.publish(compound, chair, made, now=opens - timedelta(days=3))
        return made

    def cast_many(made, voters, weights, when_from, when_to):
        span = (when_to - when_from).total_seconds()
        for household in voters:
            choice = rng.choices(["yes", "no", "abstain"], weights)[0]
            channel = rng.choices([Channel.phone, Channel.kiosk, Channel.paper], [70, 15, 15])[0]
            db.session.add(Ballot(topic_id=made.id, household_id=household.id, choices=[choice], channel=channel,
                                  entered_by=member.id if channel == Channel.paper else None,
                                  cast_at=when_from + timedelta(seconds=rng.random() * span)))
        record_change(compound, member, CONSULT, "ballot", made, None,
                      {"demo": True, "ballots": len(voters)})

    # June: the gift packages, decided by the owners (statutory ordinary matter), then carried out.
    june_open = datetime(2026, 6, 1, 8, 0, tzinfo=zone)
    june_close = datetime(2026, 6, 8, 20, 0, tzinfo=zone)
    gifts = topic("关于使用公共收益为每户发放端午节大礼包的表决",
                  "上半年公共收益结余较多。委员会提议拿出不超过 9,000 元，为每户在住户发放一份端午节大礼包"
                  "（粽子、咸鸭蛋、食用油）。\n\n按《民法典》第二百七十八条，这属于一般事项：参与表决的面积和人数"
                  "都要达到三分之二，同意的面积和人数都要过半。", june_open, june_close)
    voters = [h for h in households if h.occupancy != Occupancy.developer and rng.random() < 0.9]
    cast_many(gifts, voters, [88, 7, 5], june_open, june_close)
    db.session.flush()
    consult.close_due(compound, now=june_close)
    db.session.refresh(gifts)
    shown = gifts.result
    notice = consult.publish_resolution(
        compound, chair, gifts, "关于《端午节大礼包》表决结果的决议公告",
        f"6 月 1 日至 8 日，全体业主对“使用公共收益为每户发放端午节大礼包”进行了表决。\n\n"
        f"共 {shown['total_households']} 户，参与表决 {shown['part_households']} 户，"
        f"参与面积和人数均超过三分之二；同意的面积和人数均过半，**表决通过**。\n\n"
        f"结果指纹：`{gifts.fingerprint[:12]}`，可扫码核对。")
    notice.published_at = june_close + timedelta(hours=14)
    first = consult.post_update(compound, chair, gifts, "礼包已采购到位（粽子、咸鸭蛋、食用油），6 月 17 日起在 3 栋大堂"
                                "凭住户卡领取。", False, "《端午节大礼包》落实情况")
    last = consult.post_update(compound, chair, gifts, "发放结束：应领 201 户，已领 192 户；未领的 9 户可到委员会办公室"
                               "补领。支出明细见收支公示。", True, "《端午节大礼包》落实情况（完成）")
    # The follow-through happened in June: date the updates, their notices and the topic's completion then.
    for update_, when in ((first, datetime(2026, 6, 15, 18, 0, tzinfo=zone)),
                          (last, datetime(2026, 6, 20, 19, 0, tzinfo=zone))):
        update_.created_at = when
        posted = db.session.get(Notice, update_.notice_id)
        posted.published_at = posted.created_at = when
    gifts.done_at = datetime(2026, 6, 20, 19, 0, tzinfo=zone)

    # Now: a vote in progress, about half the households in; the sample household still to vote.
    opens = now - timedelta(days=2)
    charger = topic("关于在 5 栋东侧空地增设电动车充电棚的表决",
                    "不少住户把电动车推进楼道充电，存在火灾隐患。委员会提议在 5 栋东侧空地建一个 40 个车位的"
                    "充电棚，由充电运营商出资建设，按度收费；小区每年收取场地租金。\n\n"
                    "按《民法典》第二百七十八条，改变共有部分用途属于特别事项：参与面积和人数都要达到三分之二，"
                    "同意的面积和人数都要达到参与部分的四分之三。", opens, now + timedelta(days=5),
                    rule="special")
    voters = [h for h in households if h.id != sample.id and rng.random() < 0.55]
    cast_many(charger, voters, [80, 14, 6], opens, now - timedelta(minutes=5))
    # A secret vote: its figures move only in released snapshots (consult/snapshots.py); release the first now,
    # and show how a wording mistake is put right once households are voting: a dated correction note.
    consult.add_correction(compound, chair, charger, "背景说明里写的“40 个车位”有误：按供电容量核定为 36 个车位，"
                           "场地租金不变。", now=now - timedelta(days=1))
    from .consult import snapshots
    snapshots.release(charger, now)

    # In discussion: where the sorting bins go, an informal poll opening in three days.
    bins = topic("垃圾分类投放点怎么调整", "现有投放点离 1、2 栋太远。请大家谈看法、出点子，三天后投票。",
                 now + timedelta(days=3), now + timedelta(days=8), kind="single", rule="informal",
                 options=["保持现状", "在 2 栋北侧加一个投放点", "把投放点整体移到小区中间"])
    for household, body in zip(rng.sample(households, 3), [
            "2 栋北侧加一个最好，老人走得近。", "移到中间的话要注意离 4 栋窗户远一点，夏天有味道。",
            "希望定时投放的时间放宽到晚上 9 点。"]):
        db.session.add(Opinion(topic_id=bins.id, household_id=household.id, body=body,
                               created_at=now - timedelta(hours=rng.randint(2, 30))))

    # Residents' proposals: one answered, one that became the charging-shed vote, one just received.
    picks = rng.sample(households, 3)
    answered = consult.submit_proposal(compound, picks[0], "request", "3 栋 2 单元楼道灯坏了",
                                       "晚上楼道很黑，老人上下楼不安全。")
    consult.answer_proposal(compound, chair, answered, "已联系电工，周三前修好，费用从公共收益列支，会在收支公示中列明。",
                            ProposalStatus.answered)
    shed = consult.submit_proposal(compound, picks[1], "suggestion", "建议建电动车充电棚", "楼道里充电太危险了。")
    consult.link_proposal(compound, chair, shed, charger)
    consult.submit_proposal(compound, picks[2], "suggestion", "小区门口增加一个快递柜", "")


def _ledger(compound, chair, now):
    """Made once: a year of the compound's public income and spending in monthly periods, each closed against
    the counted balance and signed by two of the three supervisors, except the last complete month (one
    signature so far); the current month open with a few entries and a draft. The June gift packages are
    booked against the decided topic's ¥9,000 budget; a repair typed with the wrong amount is reversed and
    entered again; residents have asked two questions, one answered. Does nothing once the ledger has entries."""
    import calendar
    from datetime import date, timezone

    from .consult.models import Topic
    from .ledger import service as ledger
    from .ledger.models import Category as LedgerCategory, Entry, Method

    if db.session.scalar(select(Entry.id).where(Entry.compound_id == compound.id).limit(1)):
        return
    households = db.session.scalars(select(Household).where(Household.compound_id == compound.id)
                                    .order_by(Household.id)).all()
    vice, member = _holder(compound, Role.vice_chair) or chair, _holder(compound, Role.member) or chair
    sups = _holders(compound, Role.supervisor)[:3]
    if not households or len(sups) < 2:
        return
    zone = local_zone()
    rng = random.Random(2018)
    today = local_date()

    def month(first, n):
        years, index = divmod(first.month - 1 + n, 12)
        return date(first.year + years, index + 1, 1)

    def at(day, hour, minute=0):
        """A local wall-clock moment as stored (UTC), never later than now."""
        moment = datetime(day.year, day.month, day.day, hour, minute, tzinfo=zone).astimezone(timezone.utc)
        return min(moment, now - timedelta(minutes=5))

    this_month = today.replace(day=1)
    first = month(this_month, -12)
    book = ledger.open_book(compound, started_on=first)
    book.opening_fen = 3_268_450  # carried over from the years before the ledger went online
    cats = {c.name: c for c in db.session.scalars(select(LedgerCategory).where(
        LedgerCategory.compound_id == compound.id))}
    gifts = db.session.scalar(select(Topic).where(Topic.compound_id == compound.id,
                                                  Topic.title.contains("端午节大礼包")))
    if gifts is not None:
        gifts.budget_fen = 900_000
    months = [month(first, n) for n in range(12)]
    junes = [m for m in months if m.month == 6]
    gift_month = next((m for m in junes if gifts is not None and m.year == gifts.closes_at.year), junes[-1])

    def book_entry(day, name, fen, description, counterparty="", by=chair, person=False, method=Method.bank,
                   topic=None, post=True):
        cat = cats[name]
        entry = ledger.save_draft(compound, by, None, {
            "kind": cat.kind, "occurred_on": day, "category_id": cat.id, "amount_fen": fen,
            "description": description, "counterparty": counterparty, "counterparty_is_person": person,
            "method": method, "topic_id": topic.id if topic is not None else None})
        if post:
            ledger.post(compound, by, entry)
        return entry

    def plan(start, last_day):
        """The month's lines as (day, category, fen, description, counterparty, recorder, extra)."""
        m = start.month
        day = lambda d: start.replace(day=min(d, last_day))  # noqa: E731 - a date within the month so far
        lines = [
            (day(3), "停车费", rng.randrange(800_000, 950_001, 500), f"{m} 月停车费（含临时停车）", "小区停车管理处",
             chair, {}),
            (day(5), "场地租金", 300_000, f"{m} 月东门便民超市占用公共场地租金", "东门便民超市", chair,
             {"method": Method.wechat}),
            (day(8), "监控门禁", 68_000, f"{m} 月监控、门禁系统维保", "安居智能安防科技有限公司", member, {}),
            (day(26), "垃圾清运", rng.randrange(120_000, 180_001, 1000), f"{m} 月生活垃圾、建筑垃圾清运",
             "长沙市洁城环卫服务有限公司", vice, {}),
        ]
        if m in (1, 4, 7, 10):
            lines.append((day(12), "广告费", 450_000, f"第 {(m + 2) // 3} 季度电梯广告位租金",
                          "湘江电梯广告有限公司", chair, {}))
        if m % 2 == 0:
            lines.append((day(15), "管道疏通", rng.choice([45_000, 58_000, 76_000, 98_000]),
                          "化粪池、下水管道疏通", "通达管道疏通服务部", member, {"method": Method.wechat}))
        if m in (5, 6, 7, 8, 9):
            lines.append((day(18), "消杀", rng.randrange(80_000, 120_001, 500), f"{m} 月灭蚊、灭鼠、消杀",
                          "绿盾有害生物防治有限公司", vice, {}))
        if m in (1, 7, 11):
            lines.append((day(21), "其他支出", rng.choice([8_650, 12_400, 15_630]), "公示栏打印、张贴用品",
                          "社区打印店", vice, {"method": Method.cash}))
        return lines

    repairs = {
        1: [("维修", 23_000, "3 栋楼道声控灯更换 6 盏（人工）", "黄建军", True, Method.cash)],
        3: [("维修", 168_000, "2 栋单元门禁锁更换", "安居智能安防科技有限公司", False, Method.bank)],
        7: [("维修", 45_000, "小区路灯线路检修（人工）", "黄建军", True, Method.wechat)],
        9: [("维修", 132_000, "4 栋雨棚加固", "恒固建筑维修队", False, Method.bank)],
    }
    wrong_month = next(m for m in months if m.month == 3)  # the door lock: typed as 1,860.00, then corrected
    for index, start in enumerate(months):
        end = start.replace(day=calendar.monthrange(start.year, start.month)[1])
        lines = plan(start, end.day)
        for name, fen, what, who, person, method in repairs.get(start.month, []):
            lines.append((start.replace(day=19), name, fen, what, who, member, {"person": person, "method": method}))
        if start == gift_month:
            lines.append((start.replace(day=15), "福利发放", 864_300, "端午节大礼包 201 份（粽子、咸鸭蛋、食用油），"
                          "每份 43.00 元", "东门便民超市", vice, {"topic": gifts}))
        for day, name, fen, what, who, by, extra in sorted(lines, key=lambda line: line[0]):
            if start == wrong_month and name == "维修":
                mistake = book_entry(day, name, 186_000, what, who, by=by, **extra)
                ledger.reverse(compound, chair, mistake, "金额录错，发票金额为 1,680.00 元", on=day + timedelta(days=2))
                book_entry(day + timedelta(days=2), name, fen, what + "（更正后重新入账）", who, by=by, **extra)
                continue
            entry = book_entry(day, name, fen, what, who, by=by, **extra)
            if name == "福利发放":
                gift_entry = entry
        _books_month(compound, chair, start, end, first, sups, at)  # issue 15: the other books, in date order
        db.session.flush()
        closed = end + timedelta(days=1)
        period = ledger.submit(compound, chair, ledger.figures(compound, start, end).closing,
                               at=at(closed + timedelta(days=1), 20))
        pair = [sups[index % len(sups)], sups[(index + 1) % len(sups)]]
        last = index == len(months) - 1
        # Signed on the 3rd and the 5th (sign-offs are append-only: their time is given, not changed later);
        # the second signature publishes the month, for the book's 15 days.
        for signer, (days, hour) in zip(pair[:1] if last else pair, [(2, 9), (4, 10)]):
            ledger.decide(compound, signer, period, True, at=at(closed + timedelta(days=days), hour))
        db.session.flush()

    # This month so far: parking and rent in, garbage and a stairwell-light repair out; the winter
    # dumplings bought but not yet posted (a draft).
    lines = plan(this_month, today.day)
    for day, name, fen, what, who, by, extra in lines:
        if name in ("停车费", "场地租金", "垃圾清运") and day <= today:
            book_entry(day, name, fen, what, who, by=by, **extra)
    light = book_entry(today - timedelta(days=min(2, today.day - 1)), "维修", 18_000,
                       "3 栋 2 单元楼道灯维修（人工和灯泡）", "黄建军", by=member, person=True, method=Method.wechat)
    book_entry(today, "福利发放", 201_000, "冬至汤圆 201 份（黑芝麻、花生各一袋）", "东门便民超市", by=vice,
               post=False)

    # Residents' questions: one about the gift packages, answered; one about the repair, asked yesterday.
    asker, other = households[17], households[64]
    asked = ledger.ask(compound, asker, gift_entry, "端午礼包一共花了 8,643 元，每户合多少钱？有没有比价？")
    ledger.answer(compound, chair, asked, "共采购 201 份，每份 43.00 元。委员会比了三家超市的报价，东门便民超市最低，"
                  "采购单和发票照片已随这笔支出公开。")
    asked.created_at = at(gift_month.replace(day=20), 19, 30)
    asked.answered_at = at(gift_month.replace(day=22), 10)
    recent = ledger.ask(compound, other, light, "楼道灯维修的钱付给了谁？为什么不写名字？")
    db.session.flush()  # asked just now: after the entry was posted, and well within the 10 days


def load_demo():
    """Load (or refresh) the demo and return what the demo command prints."""
    now = utcnow()
    compound, created = _compound(SLUG, "桂香园小区", "东湖社区", "湘江街道")
    other, other_created = _compound(OTHER_SLUG, "松柏里小区", "东湖社区", "湘江街道")
    passwords = {}
    staff, staff_password = _account(STAFF, "街道社区办 王敏", platform_admin=True)
    for username, name, role in COMMITTEE:
        user, passwords[username] = _account(username, name)
        if user.role_in(compound) is not None:
            continue
        if role == Role.supervisor:  # the street office appointed them when this term began
            supervision.appoint(compound, staff, user, at=_term_start(now))
        else:
            db.session.add(Membership(user_id=user.id, compound_id=compound.id, role=role))
    db.session.flush()
    chair = db.session.scalar(select(User).where(User.username == CHAIR))
    if created:
        _post_notices(compound, chair, now)
    if other_created:
        other_chair, _pw = _account("songbai-chair", "赵国强")
        db.session.add(Membership(user_id=other_chair.id, compound_id=other.id, role=Role.chair))
        notices.save(other, other_chair, None, {
            "title": "松柏里小区自治委员会换届选举报名开始", "body": "报名截止到本月底。",
            "category": Category.notice, "urgent": False, "pinned": True, "starts_at": None, "ends_at": None}, True)
    _households(compound, chair)
    screen = db.session.scalar(select(Screen).where(Screen.compound_id == compound.id, Screen.retired.is_(False))
                               .order_by(Screen.id))
    if screen is None:
        screen = _screens(compound, chair)
    db.session.commit()
    urgent = db.session.scalar(select(Notice).where(Notice.compound_id == compound.id, Notice.urgent.is_(True))
                               .order_by(Notice.id))
    sample = db.session.scalar(select(Household).where(Household.compound_id == compound.id,
                                                       Household.building == "3", Household.room == "502")
                               .order_by(Household.entrance, Household.id))  # 3栋1单元502, on either engine
    (_household, card_token), = issue_cards(compound, chair, [sample])
    _distribution(compound, chair, now)
    _roster(compound, now)
    _consultations(compound, chair, now, sample)
    _ledger(compound, chair, now)
    _procedure(compound, staff, chair, now)
    electorate = _electorate(compound, chair, now, sample)
    from flask import current_app
    with current_app.test_request_context("/"):  # the posted decision's dates are written in the reader's Chinese
        tips = _meetings(compound, chair, now)
        db.session.commit()  # before the request context ends: its teardown rolls back what is not committed
    db.session.commit()
    paper_topic_id = _proxies_and_paper(compound, chair, now, sample)
    tips += _documents(compound, chair, now)
    tips += _card_holders_cached(compound)
    tips += _open_data(compound)
    tips += _notice_templates(compound, other, chair)
    tips += _setup_checklist(compound, other, chair)
    tips += _practice(compound, chair)
    tips += _roll_import(compound)
    db.session.commit()
    supervisor = _next_signer(compound)
    from .consult.models import Topic
    return {
        "other_screens": [(s.name, s.key) for s in db.session.scalars(
            select(Screen).where(Screen.compound_id == compound.id, Screen.retired.is_(False), Screen.id != screen.id)
            .order_by(Screen.id))],
        "slug": SLUG, "other_slug": OTHER_SLUG, "screen_key": screen.key, "urgent_notice_id": urgent.id if urgent else 0,
        "chair": CHAIR, "chair_password": passwords[CHAIR], "card_token": card_token,
        "card_address": sample.address,
        "staff": STAFF, "staff_password": staff_password,
        "supervisor": supervisor, "supervisor_password": passwords.get(supervisor, ""),
        "electorate": electorate,
        "paper_topic_id": paper_topic_id,
        "tips": tips,
        "late_topic_id": db.session.scalar(select(Topic.id).where(Topic.compound_id == compound.id,
                                                                  Topic.title == LATE_DEMO_TITLE)),
    }


def _screens(compound, chair):
    """Three lobby screens set up as a street-office technician would: the 3 栋 lobby (its building's notices
    first), the gate (everything, the vote only 07:00-22:00, landscape) and the 5 栋 lobby (no ledger, the roster
    only in office hours); and a notice for each building so the difference shows. Returns the 3 栋 screen."""
    lobby = Screen(compound_id=compound.id, name="3 栋大堂", place="3 栋一楼电梯口", buildings="3",
                   orientation=Orientation.portrait, dwell_seconds=10, idle_seconds=60)
    gate = Screen(compound_id=compound.id, name="小区大门", place="东门岗亭旁", orientation=Orientation.landscape,
                  dwell_seconds=12, idle_seconds=60, slots={"consult": ["07:00", "22:00"]},
                  night_start=time(23, 0), night_end=time(6, 0))
    five = Screen(compound_id=compound.id, name="5 栋大堂", place="5 栋一楼信报箱旁", buildings="5",
                  orientation=Orientation.portrait, dwell_seconds=15, idle_seconds=60,
                  shown_areas=["notices", "consult", "distribution", "roster", "compound"],
                  slots={"roster": ["08:30", "17:30"]})
    db.session.add_all([lobby, gate, five])
    for title, building in (("3 栋电梯年检，周四上午停用两小时", "3"), ("5 栋楼顶水箱清洗，当天下午停水", "5")):
        notices.save(compound, chair, None, {
            "title": title, "body": "请住户提前做好安排。", "category": Category.notice, "urgent": False,
            "pinned": False, "starts_at": None, "ends_at": None, "buildings": building}, True)
    return lobby


def _next_signer(compound):
    """A supervisor who may sign the period waiting for its second signature, so a newcomer can try it."""
    from .ledger import service as ledger
    from .ledger.models import Period, PeriodStatus

    waiting = db.session.scalar(select(Period).where(Period.compound_id == compound.id,
                                                     Period.status == PeriodStatus.submitted))
    signed = {s.user_id for s in ledger.current_signoffs(waiting)} if waiting else set()
    for username, _name, role in COMMITTEE:
        user = db.session.scalar(select(User).where(User.username == username))
        if role == Role.supervisor and user is not None and user.id not in signed:
            return username
    return ""


PROCEDURE_DEMO_TITLE = "关于使用维修资金维修 3 栋屋面防水的表决"
LATE_DEMO_TITLE = "关于更换小区路灯为节能灯的表决"  # closed, its resolution overdue


def _procedure(compound, staff, chair, now):
    """Made once: the street office puts the compound on 杭州's procedure profile (audited); a statutory vote
    published with 15 days' notice whose window the committee extended once, with the reason residents read;
    and a vote closed five days ago whose resolution is overdue, so the topics page flags it."""
    from .consult import AREA as CONSULT
    from .consult import service as consult
    from .consult.models import Ballot, Channel, Topic
    from .platform.service import set_procedure_profile

    if db.session.scalar(select(Topic.id).where(Topic.compound_id == compound.id,
                                                Topic.title == PROCEDURE_DEMO_TITLE)):
        return
    set_procedure_profile(staff, compound, "hangzhou")
    households = db.session.scalars(select(Household).where(Household.compound_id == compound.id,
                                                            Household.occupancy != Occupancy.developer)
                                    .order_by(Household.id)).all()
    rng = random.Random(278)  # the Civil Code's article on owners' decisions

    def statutory(title, background, published, opens, closes):
        fields = {"title": title, "background": background, "kind": "yesno", "rule": "ordinary", "seats": 1,
                  "secret": True, "visibility": "live", "allow_change": True, "opens_at": opens, "closes_at": closes}
        made = consult.save_topic(compound, chair, None, fields, [], now=published)
        db.session.flush()
        consult.publish(compound, chair, made, now=published)
        return made

    def ballots(made, share, weights, start, end):
        voters = [h for h in households if rng.random() < share]
        span = (end - start).total_seconds()
        for household in voters:
            db.session.add(Ballot(topic_id=made.id, household_id=household.id,
                                  choices=[rng.choices(["yes", "no", "abstain"], weights)[0]], channel=Channel.phone,
                                  cast_at=start + timedelta(seconds=rng.random() * span)))
        record_change(compound, chair, CONSULT, "ballot", made, None, {"demo": True, "ballots": len(voters)})

    roof = statutory(PROCEDURE_DEMO_TITLE,
                     "3 栋屋面防水层老化，顶层 6 户雨天漏水。委员会提议使用 3 栋维修资金约 4.2 万元重做防水。"
                     "\n\n按《民法典》第二百七十八条，使用维修资金属于一般事项：参与的面积和人数都要达到三分之二，"
                     "同意的面积和人数都要过半。",
                     now - timedelta(days=21), now - timedelta(days=5), now + timedelta(days=1))
    ballots(roof, 0.45, [82, 12, 6], now - timedelta(days=5), now - timedelta(hours=2))
    consult.extend(compound, chair, roof, now + timedelta(days=8),
                   "截至目前参与表决的面积和人数还没有达到三分之二，延长一周，方便在外地的业主用手机投票。",
                   now=now - timedelta(days=1))

    closed_at = now - timedelta(days=5)
    lights = statutory(LATE_DEMO_TITLE,
                       "小区 24 盏路灯老化，委员会提议从公共收益中列支约 1.1 万元更换为 LED 节能灯。",
                       closed_at - timedelta(days=25), closed_at - timedelta(days=10), closed_at)
    ballots(lights, 0.85, [90, 6, 4], closed_at - timedelta(days=10), closed_at - timedelta(hours=1))
    db.session.flush()
    consult.close_due(compound, now=closed_at)


LIFT_VOTE = "3栋电梯更新改造"


def _electorate(compound, chair, now, sample):
    """Issue 14's roll and vote, made once (the sample card's delivery every time, as its card is new): rented
    units on the roll, cards recorded as handed over (most of 3 栋 in person against ID and property
    certificate, some held by tenants, the rest of the compound mostly by mailbox), and the 3 栋 lift vote open
    now, owners of 3 栋 only, verified cards required, about a third in. Returns (topic id, its label)."""
    from .consult import service as consult
    from .consult.models import Topic
    from .households.models import Delivery, Holder, HouseholdCard, live_card
    from .households.service import record_delivery

    households = db.session.scalars(select(Household).where(Household.compound_id == compound.id)
                                    .order_by(Household.id)).all()
    if not households:
        return None
    rng = random.Random(278)  # Civil Code art. 278
    member = db.session.scalar(select(User).where(User.username == "demo-member")) or chair
    if not any(h.occupancy == Occupancy.rented for h in households):
        for household in households:
            if household.occupancy == Occupancy.owner_occupied and rng.random() < 0.18:
                household.occupancy = Occupancy.rented
        record_change(compound, chair, HOUSEHOLDS, "import", compound, None, {"demo": "tenure"})
    carded = set(db.session.scalars(select(HouseholdCard.household_id).where(
        HouseholdCard.compound_id == compound.id, live_card())))
    lived_in = [h for h in households if h.occupancy in LIVED_IN and h.id not in carded and h.id != sample.id]
    if lived_in:
        issue_cards(compound, chair, lived_in)
        for household in lived_in:
            tenant = household.occupancy == Occupancy.rented and rng.random() < 0.5
            if household.building == "3":
                delivery = Delivery.in_person if rng.random() < 0.85 else Delivery.mailbox
            else:
                delivery = Delivery.in_person if rng.random() < 0.2 else Delivery.mailbox
            record_delivery(compound, member, household, delivery, Holder.tenant if tenant else Holder.owner,
                            now=now - timedelta(days=rng.randint(3, 40)))
    record_delivery(compound, member, sample, Delivery.in_person, Holder.owner, now=now - timedelta(days=2))
    lift = db.session.scalar(select(Topic).where(Topic.compound_id == compound.id, Topic.title == LIFT_VOTE))
    if lift is None:
        opens = now - timedelta(days=2)
        lift = consult.save_topic(compound, chair, None, {
            "title": LIFT_VOTE, "kind": "yesno", "rule": "ordinary", "seats": 1, "secret": True,
            "visibility": "live", "allow_change": True, "opens_at": opens, "closes_at": now + timedelta(days=12),
            "scope_buildings": ["3"], "scope_entrance": "", "require_verified": True,
            "background": "3 栋两部电梯已运行 26 年，去年两次困人。委员会提议用 3 栋的专项维修资金更换两部电梯"
                          "（预算 78 万元，分两期施工，每期停用一部）。\n\n电梯是 3 栋业主共有，按《民法典》"
                          "第二百七十八条由 3 栋业主表决：使用维修资金属于一般事项，参与的面积和人数都要达到三分之二，"
                          "同意的面积和人数都要过半。只收当面核验过的住户卡；租户可以看、可以发表意见。"}, [],
            now=opens - timedelta(days=16))  # announced with the profile's 15 days' notice and a day to spare
        db.session.flush()
        consult.publish(compound, chair, lift, now=opens - timedelta(days=16))
        db.session.flush()
        for household in households:
            if household.building == "3" and household.id != sample.id and rng.random() < 0.35 \
                    and consult.card_refusal(lift, household) is None:
                consult.cast(compound, lift, household, [rng.choices(["yes", "no", "abstain"], [80, 12, 8])[0]])
    return lift.id, lift.electorate_label


def _proxies_and_paper(compound, chair, now, sample):
    """On the lift vote: two written proxies (one used, one standing for the sample card's household, so its
    phone shows 您已书面委托…), the numbered paper ballots printed, a few phone ballots, papers entered once,
    confirmed by a second member, and one mismatch for the chair. Returns the topic's id."""
    from .consult import service as consult
    from .consult.models import Channel, Topic
    from .consult.service import paper, proxies

    topic = db.session.scalar(select(Topic).where(Topic.compound_id == compound.id, Topic.title == LIFT_VOTE))
    if topic is None:  # an empty roll: no lift vote to hang them on
        return None
    if paper.printed(topic) or topic.phase(now) != "voting":
        return topic.id
    member = db.session.scalar(select(User).where(User.username == "demo-member")) or chair
    vice = db.session.scalar(select(User).where(User.username == "demo-vice")) or chair
    paper.print_set(compound, member, topic)
    db.session.commit()
    papers = paper.papers(topic)
    # Households that have not voted yet (the lift vote's own demo has a third of building 3 in already).
    homes = [p.household for p in papers
             if p.household_id != sample.id and consult.current_ballot(topic, p.household) is None]
    used = proxies.record(compound, chair, topic, homes[1], "王建国", "3021", "13807310021")
    proxies.record(compound, chair, topic, sample, "李秀兰", "", "13907315566")
    db.session.commit()
    proxies.cast_by_proxy(compound, member, topic, used, ["yes"])
    online = [h for h in homes[2:12] if consult.card_refusal(topic, h) is None][:6]  # verified cards only
    for home, choice in zip(online, ["yes", "yes", "no", "yes", "abstain", "yes"]):
        consult.cast(compound, topic, home, [choice], Channel.phone)
    by_home = {p.household_id: p for p in papers}
    returned = [by_home[h.id] for h in homes[8:22]]
    choices = ["yes", "yes", "no", "yes", "yes", "abstain", "yes", "no", "yes", "yes", "yes", "no", "yes", "yes"]
    for sheet, choice in zip(returned, choices):
        paper.enter(compound, member, topic, sheet, "first", [choice])
    for sheet, choice in zip(returned[:9], choices):  # the vice chair has confirmed nine; one read differently
        paper.enter(compound, vice, topic, sheet, "confirm", ["no" if sheet is returned[4] else choice])
    return topic.id
MEETING_MEMBERS = [("demo-member2", "黄志强", Role.member), ("demo-member3", "吴春花", Role.member)]


def _meetings(compound, chair, now):
    """Made once: two more members (a committee of five), last week's meeting with attendance, two decisions with
    each member's vote, minutes confirmed by 3 of 5 and its decision posted; next week's meeting with its notice
    sent to the 居委会. Returns the lines the demo command prints (the open vote's reminder sheet among them)."""
    from .consult.models import Topic
    from .meetings import service as meetings
    from .meetings.models import Meeting

    for username, name, role in MEETING_MEMBERS:
        user, _password = _account(username, name)
        if user.role_in(compound) is None:
            db.session.add(Membership(user_id=user.id, compound_id=compound.id, role=role))
    db.session.flush()
    if not db.session.scalar(select(Meeting.id).where(Meeting.compound_id == compound.id).limit(1)):
        members = [user for user, _role in meetings.committee(compound)]
        held_at = datetime.combine(local_date(now - timedelta(days=7)), time(19, 30), tzinfo=local_zone())
        past = meetings.schedule(compound, chair, None, held_at, "3 栋一楼委员会办公室",
                                 ["更换 3 栋、5 栋单元门禁系统", "聘请新的保洁公司", "端午节礼包剩余物资的处理"])
        meetings.mark_notice_sent(compound, chair, past, local_date(held_at - timedelta(days=5)))
        meetings.record_attendance(compound, chair, past, {m.id for m in members[:4]})
        votes_of = lambda pattern: {m.id: v for m, v in zip(members[:4], pattern)}  # noqa: E731
        meetings.decide(compound, chair, past, past.items[0], "同意更换，预算不超过 16,000 元，从公共收益列支；"
                        "先在 3 栋试装一个月。", votes_of(["yes", "yes", "yes", "no"]))
        meetings.decide(compound, chair, past, past.items[1], "暂不更换，先与现保洁公司谈整改，一个月后再议。",
                        votes_of(["yes", "yes", "no", "abstain"]))
        meetings.save_minutes(compound, chair, past, "会议由周建华主持，应到 5 人，实到 4 人（黄志强请假）。\n\n"
                              "一、门禁：3 栋、5 栋门禁经常失灵，李秀英报了三家报价，最低 15,800 元。\n\n"
                              "二、保洁：居民反映楼道清扫不及时。李秀英建议先整改，吴春花认为应直接更换。\n\n"
                              "三、礼包剩余物资：时间不够，下次会议再议。")
        for member in members[:3]:
            meetings.confirm(compound, member, past, now=held_at + timedelta(days=1))
        notice = meetings.post_decision(compound, chair, past, f"{local_date(held_at).month}月{local_date(held_at).day}日"
                                        "委员会会议决定公告")
        notice.published_at = past.decision_posted_at = held_at + timedelta(days=2)
        upcoming = meetings.schedule(compound, chair, None, held_at + timedelta(days=14), "3 栋一楼委员会办公室",
                                     ["端午节礼包剩余物资的处理", "保洁整改情况", "电动车充电棚表决的后续安排"])
        meetings.mark_notice_sent(compound, chair, upcoming, local_date(now))
    open_vote = next((t for t in db.session.scalars(select(Topic).where(Topic.compound_id == compound.id)
                                                    .order_by(Topic.id)) if t.phase(now) == "voting"), None)
    lines = [f"Committee meetings (委员会会议): {{url}}/admin/{compound.slug}/meetings/"]
    if open_vote is not None:
        lines.append(f"Reminders for the open vote (催票): {{url}}/admin/{compound.slug}/topics/{open_vote.id}/reminders")
    return lines


# --- issue 15: the compound's three books ------------------------------------------------------------------

FUND_REPAIR_VOTE = "关于使用3栋专项维修资金应急维修3栋1号电梯的表决"


def _half_year_start(day):
    """The first day of the half-year (January or July) holding `day`."""
    return day.replace(month=1 if day.month <= 6 else 7, day=1)


def _books_month(compound, chair, start, end, first, sups, at):
    """Called by _ledger as each month of the public income closes, so every book is written in date order and
    each period's code covers only its own entries: the maintenance fund's opening and the owners' deposits by
    building (业主续筹, by area) before the first month; 3栋's owners deciding an emergency lift repair and the
    repair paid from 3栋's fund under that vote; the working funds' small spending; at each quarter's end more
    than half of the quarter's net public income moved to the maintenance fund (上海 style) and ¥3,000 to the
    committee's working funds, each one transfer (both sides posted at once); and each book's period closed and
    signed by two supervisors when it ends."""
    from datetime import date

    from .ledger import service as ledger
    from .ledger.models import PeriodStatus

    if start == first:
        with ledger.using_book("maintenance_fund"):
            fund = ledger.open_book(compound, started_on=_half_year_start(first))
            fund.opening_fen = 128_640_000  # handed over by the housing authority when the ledger went online
        with ledger.using_book("working_funds"):
            working = ledger.open_book(compound, started_on=first)
            working.opening_fen = working.opening_fen or 200_000  # the cash box the committee started with
        _fund_deposits(compound, chair, min(fund.started_on + timedelta(days=75), first))
    repair_day = first + timedelta(days=135)  # about four and a half months in
    if start <= repair_day <= end:
        _fund_repair(compound, chair, repair_day)
    if end.month % 3 == 2 or start == first:
        rng = random.Random(end.toordinal())
        _book_post(compound, "working_funds", start.replace(day=min(12, end.day)), "办公用品",
                   rng.randrange(20_000, 60_001, 100), "委员会办公用品（纸张、墨盒）", "东门文具店")
        _book_post(compound, "working_funds", start.replace(day=min(20, end.day)), "印刷公示",
                   rng.randrange(15_000, 40_001, 100), "公示表、决议公告打印张贴", "社区打印店")
    if end.month % 3 == 0:
        quarter_start = max(date(end.year, end.month - 2, 1), first)
        numbers = ledger.figures(compound, quarter_start, end)
        net = numbers.income - numbers.expense
        if net > 0:
            share = net * 55 // 100 // 100 * 100  # 55%, in whole yuan: "more than half"
            ledger.transfer(compound, chair, "public_income", "maintenance_fund", share, end,
                            f"按规定将本季度公共收益净收入的 55% 转入专项维修资金（净收入 {net // 100:,} 元）")
        ledger.transfer(compound, chair, "public_income", "working_funds", 300_000, end, "本季度委员会工作经费")
    db.session.flush()
    for kind_of_book in ("maintenance_fund", "working_funds"):
        with ledger.using_book(kind_of_book):
            period_start, period_end = ledger.next_period(compound)
            if period_end != end:
                continue
            period = ledger.submit(compound, chair, ledger.figures(compound, period_start, period_end).closing,
                                   at=at(end + timedelta(days=2), 20))
            index = end.month
            for signer, days in zip([sups[index % len(sups)], sups[(index + 1) % len(sups)]], (3, 5)):
                ledger.decide(compound, signer, period, True, at=at(end + timedelta(days=days), 10))
            assert period.status == PeriodStatus.published
            db.session.flush()


def _book_post(compound, kind_of_book, day, name, fen, description, counterparty="", building=None, topic=None,
               by=None):
    """Post one entry into one of the compound's books (by the vice chair unless told)."""
    from .ledger import service as ledger
    from .ledger.models import Category as LedgerCategory, Method

    by = by or _holder(compound, Role.vice_chair) or _holder(compound, Role.chair)
    with ledger.using_book(kind_of_book):
        cat = db.session.scalar(select(LedgerCategory).where(
            LedgerCategory.book_id == ledger.book(compound).id, LedgerCategory.name == name))
        entry = ledger.save_draft(compound, by, None, {
            "kind": cat.kind, "occurred_on": day, "category_id": cat.id, "amount_fen": fen,
            "description": description, "counterparty": counterparty, "method": Method.bank,
            "building": building, "topic_id": topic.id if topic is not None else None})
        return ledger.post(compound, by, entry)


def _fund_deposits(compound, chair, day):
    """The owners' deposits into the maintenance fund (业主续筹, 25 元/m²), once, per building."""
    from .ledger import service as ledger

    areas = {}
    for household in db.session.scalars(select(Household).where(Household.compound_id == compound.id)):
        areas[household.building] = areas.get(household.building, 0) + household.area_centi
    for building in ledger.fund_buildings(compound):
        _book_post(compound, "maintenance_fund", day, "业主续筹", areas[building] * 25,
                   f"{building}栋业主续筹维修资金（按面积 25 元/平方米）", "湘江区住房维修资金管理中心",
                   building=building, by=chair)


def _fund_repair(compound, chair, day):
    """3栋's owners decide an emergency lift repair from their own fund, a month before it is paid under it."""
    from .consult import AREA as CONSULT
    from .consult import service as consult
    from .consult.models import Ballot, Channel

    zone, rng = local_zone(), random.Random(281)
    vote_day = day - timedelta(days=45)
    opens = datetime(vote_day.year, vote_day.month, vote_day.day, 8, 0, tzinfo=zone)
    closes = opens + timedelta(days=7, hours=12)
    vote = consult.save_topic(compound, chair, None, {
        "title": FUND_REPAIR_VOTE, "kind": "yesno", "rule": "ordinary", "seats": 1, "secret": True,
        "visibility": "live", "allow_change": True, "opens_at": opens, "closes_at": closes,
        "scope_buildings": ["3"], "scope_entrance": "",
        "background": "3 栋 1 号电梯主板老化，一个月内两次停梯。委员会提议从 3 栋的专项维修资金中支出不超过"
                      "5 万元，更换主板和制动器。按《民法典》第二百七十八条，使用维修资金由 3 栋业主表决（一般事项）。"},
        [], now=opens - timedelta(days=16))
    db.session.flush()
    consult.publish(compound, chair, vote, now=opens - timedelta(days=16))
    owners = db.session.scalars(select(Household).where(
        Household.compound_id == compound.id, Household.building == "3",
        Household.occupancy != Occupancy.developer).order_by(Household.id)).all()
    span = (closes - opens).total_seconds()
    for household in owners:
        if rng.random() < 0.88:
            db.session.add(Ballot(topic_id=vote.id, household_id=household.id,
                                  choices=[rng.choices(["yes", "no", "abstain"], [86, 8, 6])[0]],
                                  channel=Channel.phone, cast_at=opens + timedelta(seconds=rng.random() * span)))
    record_change(compound, chair, CONSULT, "ballot", vote, None, {"demo": True, "ballots": len(owners)})
    db.session.flush()
    consult.close_due(compound, now=closes)
    db.session.refresh(vote)
    if isinstance(vote.result, dict) and vote.result.get("passed"):
        _book_post(compound, "maintenance_fund", day, "电梯维修", 4_860_000, "3 栋 1 号电梯主板及制动器更换",
                   "湘电电梯工程有限公司", building="3", topic=vote)


STATUTE_PAGES = [
    ["桂香园小区管理规约（2026年修订）", "", "第一章  总则", "第一条  为维护全体业主的共同利益，根据《民法典》",
     "和有关物业管理的规定，制定本规约。", "第二条  本规约对全体业主和物业使用人具有约束力。"],
    ["第二章  共有部分的使用", "第三条  楼道、消防通道不得堆放杂物，不得停放电动车。",
     "第四条  利用共有部分经营（停车、广告、场地出租）所得的公共收益，", "归全体业主所有，单独列账，每季度公示。"],
    ["第三章  维修资金", "第五条  专项维修资金的使用，由业主依法共同决定。",
     "第六条  电梯、屋面等只涉及一栋楼的维修，由该栋业主表决。"],
    ["第四章  附则", "第七条  本规约经业主共同决定通过，自公示之日起施行。",
     "第八条  本规约的修改，须经业主共同决定。"],
]


def _statute_vote(compound, chair, now):
    """The owners' vote that adopted the revised 管理规约 four months ago (ballots from most households)."""
    from .consult import service as consult
    from .consult.models import Ballot, Channel, Topic

    title = "关于修订《桂香园小区管理规约》的表决"
    found = db.session.scalar(select(Topic).where(Topic.compound_id == compound.id, Topic.title == title))
    if found is not None:
        return found
    opens, closes = now - timedelta(days=130), now - timedelta(days=123)
    made = consult.save_topic(compound, chair, None, {
        "title": title, "background": "修订后的规约全文见文件公开。按《民法典》第二百七十八条，制定和修改管理规约"
        "由业主共同决定：参与表决的面积和人数都要达到三分之二，同意的面积和人数都要过半。",
        "kind": "yesno", "rule": "ordinary", "seats": 1, "secret": True, "visibility": "live", "allow_change": True,
        "opens_at": opens, "closes_at": closes}, [], now=opens - timedelta(days=16))
    db.session.flush()
    consult.publish(compound, chair, made, now=opens - timedelta(days=16))
    rng = random.Random(281)
    households = db.session.scalars(select(Household).where(Household.compound_id == compound.id,
                                                            Household.occupancy != Occupancy.developer)
                                    .order_by(Household.id)).all()
    for household in households:
        if rng.random() < 0.85:
            db.session.add(Ballot(topic_id=made.id, household_id=household.id,
                                  choices=[rng.choices(["yes", "no", "abstain"], [85, 9, 6])[0]],
                                  channel=Channel.phone, cast_at=opens + timedelta(hours=rng.randrange(1, 160))))
    db.session.flush()
    consult.close_due(compound, now=closes)
    db.session.refresh(made)
    return made


def _documents(compound, chair, now):
    """Made once: the document library — a 管理规约 PDF of four pages adopted by the owners' vote, the 议事规则,
    a refuse-collection contract linked to two of its ledger entries, last week's committee minutes (photos of
    the pages), last year's audit report by a fictional firm (posted now, on the lobby screen), and a seal-use log
    with a voided line. Returns the line the demo command prints."""
    from .documents import service as documents, textpdf
    from .documents.models import Document
    from .ledger.models import Entry

    lines = [f"Document library (文件公开, search and read aloud): {{url}}/{compound.slug}/docs/ · committee: "
             f"{{url}}/admin/{compound.slug}/documents/"]
    if db.session.scalar(select(Document.id).where(Document.compound_id == compound.id).limit(1)):
        return lines
    today = local_date(now)
    vote = _statute_vote(compound, chair, now)

    def version(document, pages, start, days, topic=None, note=""):
        made = documents.add_version(compound, chair, document, [("doc.pdf", textpdf.build(pages))], today,
                                     today + timedelta(days=days - 1), topic.id if topic else None, note)
        documents.publish(compound, chair, made)
        # Posted on `start` (the rules two months ago: their posting period has ended, they stay readable).
        made.posted_from, made.posted_until = start, start + timedelta(days=days - 1)
        made.posted_at = made.created_at = min(now, datetime.combine(start, time(9, 0), tzinfo=local_zone()))
        return made

    statute = documents.create_document(compound, chair, "statute", "桂香园小区管理规约")
    if vote.result and vote.result.get("passed"):
        version(statute, STATUTE_PAGES, today - timedelta(days=3), 15, vote, "2026年修订版，业主表决通过")
    rules = documents.create_document(compound, chair, "rules", "桂香园小区业主议事规则")
    gifts = next((t for t in documents.decided_topics(compound) if "端午节大礼包" in t.title), None)
    if vote.result and vote.result.get("passed"):
        version(rules, [["桂香园小区业主议事规则", "第一条  协商议事会每季度至少召开一次。",
                         "第二条  议题须提前十五日公告，未公告的事项不作决定。",
                         "第三条  表决结果在三日内公告。"]], today - timedelta(days=60), 15, vote)
    contract = documents.create_document(compound, chair, "contract", "生活垃圾清运服务合同（2026年度）")
    version(contract, [["生活垃圾清运服务合同", "甲方：桂香园小区自治管理委员会", "乙方：长沙市洁城环卫服务有限公司",
                        "服务内容：生活垃圾、建筑垃圾每日清运。", "费用：按月结算，凭发票从公共收益列支。"]],
            today - timedelta(days=5), 15)
    for entry in db.session.scalars(select(Entry).where(Entry.compound_id == compound.id, Entry.posted.is_(True),
                                                        Entry.description.contains("垃圾清运"))
                                    .order_by(Entry.occurred_on.desc()).limit(2)):
        documents.link_entry(compound, chair, contract, entry.id)
    minutes = documents.create_document(compound, chair, "minutes", "委员会会议纪要（上周）")
    version(minutes, [["委员会会议纪要", "一、门禁：同意更换，预算不超过 16,000 元。",
                       "二、保洁：先谈整改，一个月后再议。"]], today - timedelta(days=2), 15)
    audit = documents.create_document(compound, chair, "audit", f"{today.year - 1}年度公共收益收支审计报告",
                                      auditor="湘江明镜会计师事务所（虚构）",
                                      covers_from=today.replace(year=today.year - 1, month=1, day=1),
                                      covers_until=today.replace(year=today.year - 1, month=12, day=31))
    version(audit, [[f"{today.year - 1}年度公共收益收支审计报告", "审计机构：湘江明镜会计师事务所（虚构）",
                     "审计意见：账目与票据相符，收支按决议执行。"],
                    ["审计发现", "一、个别维修支出的票据缺少经手人签字，已补签。", "二、建议按季度向维修资金转入公共收益。"]],
            today - timedelta(days=1), 30)
    # In the order they happened: the gift order confirmed days after the owners' vote (in June), then this month's.
    gift_day = local_date(gifts.closes_at) + timedelta(days=2) if gifts else today - timedelta(days=150)
    documents.record_seal(compound, chair, gift_day, "端午节礼包采购确认单", "向超市确认采购数量",
                          "owners", gifts.id if gifts else None)
    first = documents.record_seal(compound, chair, today - timedelta(days=20), "生活垃圾清运服务合同", "与清运公司签约",
                                  "meeting")
    documents.void_seal(compound, chair, first, "日期登记错了：合同是次日才盖章签约的", first.used_on + timedelta(days=1),
                        first.sealed, first.purpose, first.approved_by)
    documents.record_seal(compound, chair, today - timedelta(days=2), "门禁更换报价确认函", "确认最低报价", "meeting")
    return lines


def _card_holders_cached(compound):
    """Issue 16: nothing to add to the data: a phone that opened its card (the sample card above) is served the
    passer-by's cached phone home, ledger pages and results block, and the topic page filled in from its shell.
    Returns the line the demo command prints."""
    return [f"Card holders served from the page cache (issue 16): open the card link above, then "
            f"{{url}}/{compound.slug}/ and {{url}}/{compound.slug}/ledger/ come from memory like a passer-by's; "
            f"the open topic page is kept with holes and only the household's vote, results and opinion form are "
            f"filled in per request, without Flask, and passers-by get it with every hole empty; a phone's vote "
            f"in the common case is recorded below Flask (KIOSK_FAST_VOTE=0 sends every vote through the view) "
            f"(bench: bench/run.py --only card:, bench/votes.py, bench/meeting.py)"]


def _open_data(compound):
    """Issue 17's open data needs no data of its own (the year of three books, the decided topics and their
    resolutions are it). Returns the line the demo command prints."""
    return [f"Open data anyone can download and check offline (开放数据, CSV/JSON with the chain hashes, README): "
            f"{{url}}/{compound.slug}/open-data/ · the whole district in one archive: {{url}}/open-data/district.zip"]


def _notice_templates(compound, other, chair):
    """Issue 17: the default notice templates in both demo compounds (the migration gives them to compounds that
    existed before it; a compound made here needs them too), and one 桂香园's committee wrote itself, which a
    compound created by copying 桂香园 gets too. Returns the lines the demo command prints."""
    from .notices.models import NoticeTemplate
    from .notices.template_service import add_defaults, save_template

    add_defaults(compound)
    add_defaults(other)
    title = "电梯年检停用通知"
    if db.session.scalar(select(NoticeTemplate.id).where(NoticeTemplate.compound_id == compound.id,
                                                         NoticeTemplate.title == title)) is None:
        save_template(compound, chair, None, title, "各位住户：\n\n【楼栋】电梯将于 **【日期】【时间段】** 进行年度检验，"
                      "期间停止使用，请走楼梯或错开时间出行。腿脚不便的住户如需帮忙，请联系【姓名】【电话】。\n\n"
                      "【小区名称】自治管理委员会", "notice")
    db.session.flush()
    return [f"Notice templates (通知模板): {{url}}/admin/{compound.slug}/notices/templates/ · start a notice from one: "
            f"{{url}}/admin/{compound.slug}/notices/new · the street office (demo-staff) can create a compound "
            f"copying 桂香园's setup at {{url}}/admin/platform/ (复制设置自)"]


def _setup_checklist(compound, other, chair):
    """Issue 17's setup checklist: 桂香园 nearly set up (its posters recorded as put up; the cards of most
    households and a screen's first contact still to come), 松柏里 just begun. Returns the lines the demo prints."""
    from .changes import AuditEntry
    from .setup.checklist import POSTERS, checklist, mark_posters

    posted = db.session.scalar(select(AuditEntry.id).where(AuditEntry.compound_id == compound.id,
                                                           AuditEntry.area == "setup", AuditEntry.action == POSTERS))
    if posted is None:
        mark_posters(compound, chair)
        db.session.commit()
    lines = []
    for place in (compound, other):
        found = checklist(place)
        missing = ", ".join(step.key for step in found.missing) or "none"
        lines.append(f"Setup checklist (开通清单) of {place.name}: {found.done_count}/{found.total} done "
                     f"(missing: {missing}): {{url}}/admin/{place.slug}/setup/ · starter kit to print: "
                     f"{{url}}/admin/{place.slug}/setup/kit")
    lines.append("Every compound's setup progress for the street office (开通进度): {url}/admin/platform/setup/")
    return lines


def _practice(compound, chair):
    """Issue 17: 桂香园's practice compound (练习小区), made once with its committee mirrored (supervisors too) and
    seeded by the functions above; later loads only mirror the committee again. Returns the line the demo prints."""
    from .practice import service as practice

    made = practice.practice_for(compound)
    if made is None:
        made = practice.create(compound, chair)
    else:
        practice.mirror(compound, made)
    db.session.commit()
    return [f"Practice compound (练习小区, marked 练习 everywhere, not counted by the district): log in as "
            f"{CHAIR} and open {{url}}/admin/{made.slug}/notices/ · reset it at {{url}}/admin/{made.slug}/practice/reset"]


def _roll_import(compound):
    """Issue 17's roll import needs no data of its own: the sample roll (a made-up property-company workbook with
    a merged title, a two-line header, areas with units, a 合计 row and a few bad rows) is generated on the fly.
    Returns the line the demo command prints."""
    return [f"Roll import with a preview (导入住户名册): as {CHAIR}, download the sample messy roll "
            f"{{url}}/admin/{compound.slug}/households/import/sample.xlsx and upload it at "
            f"{{url}}/admin/{compound.slug}/households/import to see how each column and row is understood "
            f"before anything is saved"]
