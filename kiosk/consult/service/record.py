"""The procedure record (表决程序核验单): every step a street-office official checks before certifying that an
owners' decision was taken properly, each with what happened, whether the compound's profile was met, and the
article it comes from. Read-only: it gathers what the topic, its ballots, proxies and paper ballots already say.

Nothing here reveals a secret ballot: while a secret vote is open, turnout is the last released figure and the
channels are not broken down (they would say when paper or proxies came in); after the close the counts of each
channel are what the resolution prints anyway.
"""
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import func, select

from ...database import utcnow
from ...extensions import db
from ..models import CHANNEL_LABELS, Ballot, Channel, Elector, Phase
from ..paper_models import PaperState, Proxy, ProxyState
from ..present import area_text
from ..procedure import profile_for
from . import paper
from .procedure import DAY, _minute, is_statutory, notice_days, resolution_due
from .topics import corrections


@dataclass(frozen=True)
class Step:
    """One line of the record: what is checked, what happened, whether the rule was met (None: nothing to meet),
    and the source of the rule."""

    label: str
    value: str
    ok: bool | None = None
    source: str = ""


def span(delta):
    """A length of time as people write it: 15 日 3 小时 (whole hours; minutes do not decide a notice period)."""
    days, hours = delta // DAY, (delta % DAY).seconds // 3600
    if hours:
        return _("%(d)s 日 %(h)s 小时", d=days, h=hours)
    return _("%(d)s 日", d=days)


def procedure_record(compound, topic, when, now=None):
    """The topic's procedure record as a list of Steps. `when` formats a moment (the reader's Chinese date)."""
    now = now or utcnow()
    profile = profile_for(compound)
    statutory = is_statutory(topic.rule)
    phase = topic.phase(now)
    over = phase in (Phase.closed, Phase.done)
    steps = [Step(_("依据的规则"), str(profile.name)),
             Step(_("表决事项"), str(topic.rule_label) + ("" if statutory else _("（不是法定表决事项，不受通知期和投票期限约束）")))]
    steps += _electorate(topic)
    steps += _timing(profile, topic, statutory, when)
    if topic.require_verified:
        steps.append(Step(_("住户卡"), _("只收当面核验身份证和房产证后发放的住户卡；租户不参加法定表决")))
    if profile.official_platform and statutory:
        steps.append(Step(_("市级表决平台"), _("本市规定业主共同决定须通过%(p)s表决；本议题在本系统按法定规则表决，需向街道说明。",
                                          p=profile.official_platform), False, profile.cite("official_platform")))
    steps += _ballots(topic, over)
    steps += _resolution(compound, topic, over, when, now, profile)
    notes = corrections(topic)
    steps.append(Step(_("更正说明"), _("%(n)s 条", n=len(notes)) if notes else _("没有")))
    return steps


def _electorate(topic):
    """Whose vote it is and how large the electorate is."""
    households, area = db.session.execute(select(func.count(), func.coalesce(func.sum(Elector.area_centi), 0))
                                          .where(Elector.topic_id == topic.id)).one()
    who = topic.electorate_label or _("全体业主")
    return [Step(_("表决范围"), _("%(who)s：%(n)s 户，专有部分面积 %(area)s 平方米", who=who, n=households,
                                  area=area_text(area)))]


def _timing(profile, topic, statutory, when):
    """Notice before voting opened, the window, and the extension if there was one."""
    steps = []
    published = topic.published_at
    if published is None:
        return [Step(_("通知（发布）"), _("还没有发布"), None)]
    notice = topic.opens_at - _minute(published)
    needed = notice_days(profile, topic.extraordinary)
    text = _("%(pub)s 发布，%(open)s 开始投票，提前 %(span)s", pub=when(published), open=when(topic.opens_at),
             span=span(notice))
    if statutory:
        text += _("（要求至少 %(n)s 日%(kind)s）", n=needed, kind=_("，临时会议") if topic.extraordinary else "")
        steps.append(Step(_("投票前通知"), text, notice >= needed * DAY, profile.cite("notice_days")))
    else:
        steps.append(Step(_("投票前通知"), text))
    closes = topic.extended_from or topic.closes_at
    window = closes - topic.opens_at
    text = _("%(open)s 至 %(close)s，共 %(span)s", open=when(topic.opens_at), close=when(closes), span=span(window))
    low, high = profile.window_min_days, profile.window_max_days
    ok = None
    if statutory and (low is not None or high is not None):
        ok = (low is None or window >= low * DAY) and (high is None or window <= high * DAY)
        text += _("（要求 %(low)s 至 %(high)s 日）", low=low if low is not None else "—", high=high if high is not None else "—")
    steps.append(Step(_("投票期限"), text, ok, profile.cite("window") if ok is not None else ""))
    if topic.extended_at is None:
        steps.append(Step(_("延长投票期限"), _("没有延长")))
    else:
        steps.append(Step(_("延长投票期限"), _("%(at)s 公告延长至 %(to)s。原因：%(why)s", at=when(topic.extended_at),
                                          to=when(topic.closes_at), why=topic.extension_reason),
                          topic.extended_at < topic.extended_from, profile.cite("extension")))
    return steps


def _ballots(topic, over):
    """Turnout, how the ballots came in, proxies and numbered paper ballots."""
    from . import participation  # the package's counting, which knows released figures of sealed topics

    voted, total = participation(topic)
    steps = [Step(_("参与户数"), _("%(v)s / %(t)s 户", v=voted, t=total)
                  + ("" if over or not topic.secret else _("（无记名投票：按最近一次公布）")))]
    if topic.secret and not over:
        steps.append(Step(_("投票方式"), _("无记名投票截止后公布各种方式的票数")))
    else:
        counts = dict(db.session.execute(select(Ballot.channel, func.count()).where(
            Ballot.topic_id == topic.id, Ballot.current.is_(True)).group_by(Ballot.channel)).all())
        parts = [f"{CHANNEL_LABELS[Channel(c)]} {counts.get(str(c), 0)}" for c in Channel]
        steps.append(Step(_("投票方式"), "，".join(parts)))
    proxies = dict(db.session.execute(select(Proxy.state, func.count()).where(Proxy.topic_id == topic.id)
                                      .group_by(Proxy.state)).all())
    if proxies:
        steps.append(Step(_("书面委托"), _("登记 %(n)s 份：受托人已投 %(v)s，撤销 %(r)s，未用 %(s)s",
                                          n=sum(proxies.values()), v=proxies.get(ProxyState.voted, 0),
                                          r=proxies.get(ProxyState.revoked, 0), s=proxies.get(ProxyState.standing, 0)),
                          None, _("物业管理条例第十二条")))
    sheets = paper.summary(topic)
    printed = sum(sheets.values())
    if printed:
        open_problems = sheets[PaperState.mismatch] + (sheets[PaperState.entered] if over else 0)
        steps.append(Step(_("编号纸质表决票"), _(
            "印发 %(n)s 张：两人核对计票 %(c)s，主任裁定 %(r)s，待复核 %(e)s，两次录入不一致未裁定 %(m)s，未交回 %(p)s",
            n=printed, c=sheets[PaperState.confirmed], r=sheets[PaperState.resolved], e=sheets[PaperState.entered],
            m=sheets[PaperState.mismatch], p=sheets[PaperState.printed]),
            open_problems == 0 if over else None))
    return steps


def _resolution(compound, topic, over, when, now, profile):
    """The result and whether the resolution was posted in time."""
    if not over or not topic.result:
        return [Step(_("表决结果"), _("投票还没有截止"))]
    passed = topic.result.get("passed")
    steps = [Step(_("表决结果"), (_("通过") if passed else _("未通过"))
                  + _("（计票指纹 %(f)s）", f=(topic.fingerprint or "—")[:16]))]
    due = resolution_due(compound, topic)
    notice = topic.resolution_notice
    if notice is not None and notice.published_at is not None:
        steps.append(Step(_("决议公告"), _("%(at)s 发布（应在 %(due)s 前）", at=when(notice.published_at), due=when(due)),
                          notice.published_at <= due, profile.cite("decision_post_days")))
    else:
        steps.append(Step(_("决议公告"), _("还没有发布（应在 %(due)s 前）", due=when(due)), now <= due,
                          profile.cite("decision_post_days")))
    return steps
