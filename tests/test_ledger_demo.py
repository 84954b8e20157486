"""The demo's ledger: a year of monthly periods a supervisor would accept, loaded once."""
from datetime import timedelta

from sqlalchemy import func, select

from kiosk.auth.models import Membership, Role, User
from kiosk.compounds.models import Compound
from kiosk.consult.models import Topic
from kiosk.database import utcnow
from kiosk.extensions import db
from kiosk.ledger import evidence, service
from kiosk.ledger.models import Entry, Period, PeriodStatus, Question, Signoff
from kiosk.timefmt import local_date


def month_before(day, months):
    years, index = divmod(day.month - 1 - months, 12)
    return day.replace(year=day.year + years, month=index + 1, day=1)


def load(app):
    from kiosk.demo import load_demo

    app.config.update(PASSWORD_ITERATIONS=1000)  # the accounts' hashing is not what this is about
    load_demo()
    return db.session.scalar(select(Compound).where(Compound.slug == "guixiang"))


def counts():
    return tuple(db.session.scalar(select(func.count()).select_from(model))
                 for model in (Entry, Period, Signoff, Question, User, Membership))


def test_the_demo_has_a_year_of_signed_months_one_awaiting_sign_off_and_this_month_open(app, runner):
    compound = load(app)
    this_month = local_date().replace(day=1)
    periods = sorted(service.periods(compound), key=lambda p: p.starts_on)
    assert len(periods) == 12
    assert [p.starts_on for p in periods] == [month_before(this_month, n) for n in range(12, 0, -1)]
    assert all(p.opening_fen == before.closing_fen for before, p in zip(periods, periods[1:]))
    assert all(p.actual_fen == p.closing_fen == p.opening_fen + p.income_fen - p.expense_fen for p in periods)
    *signed, waiting = periods
    assert all(p.status == PeriodStatus.published and len(service.signers(p)) == 2 for p in signed)
    for period in signed:  # disclosed early the next month, for the book's 15 days
        published = period.published_at.date()
        assert period.ends_on < published <= period.ends_on + timedelta(days=6)
        assert period.disclosure_ends_on - period.ends_on == timedelta(days=20)
        assert all(s.at <= period.published_at for s in period.signoffs)
    assert waiting.status == PeriodStatus.submitted and len(service.signers(waiting)) == 1
    assert service.cadence(compound).waiting == [waiting]

    supervisors = service.supervisors(compound)
    assert {u.username for u in supervisors} == {"demo-supervisor", "demo-supervisor2", "demo-supervisor3"}
    assert not {u.id for u in supervisors} & {user for p in periods for user in service.recorders_in(p)}

    current = db.session.scalars(select(Entry).where(Entry.compound_id == compound.id,
                                                     Entry.occurred_on >= this_month)).all()
    assert sum(e.posted for e in current) >= 3 and sum(not e.posted for e in current) == 1
    assert all(e.occurred_on <= local_date() for e in current)
    assert db.session.scalar(select(func.count()).select_from(Entry).where(
        Entry.compound_id == compound.id, Entry.posted.is_(False))) == 1  # (its practice compound has its own)

    kinds = {e.category.name for e in db.session.scalars(select(Entry).where(Entry.compound_id == compound.id,
                                                                             Entry.posted.is_(True)))}
    assert {"停车费", "场地租金", "广告费", "监控门禁", "管道疏通", "垃圾清运", "消杀", "福利发放", "维修"} <= kinds
    people = db.session.scalars(select(Entry).where(Entry.counterparty_is_person.is_(True))).all()
    with app.test_request_context():
        assert people and all(e.public_counterparty == "个人" for e in people)


def test_the_gift_packages_are_booked_within_the_approved_budget(app):
    compound = load(app)
    gifts = db.session.scalar(select(Topic).where(Topic.compound_id == compound.id,
                                                  Topic.title.contains("端午节大礼包")))
    assert gifts.budget_fen == 900000
    entries = db.session.scalars(select(Entry).where(Entry.topic_id == gifts.id)).all()
    assert len(entries) == 1 and entries[0].category.name == "福利发放" and entries[0].posted
    assert entries[0].occurred_on.month == 6 and entries[0].occurred_on > gifts.closes_at.date()
    assert 0 < service.spent_on(gifts) <= gifts.budget_fen
    assert service.over_budget(gifts, 0) == 0
    assert gifts in service.budgeted_topics(compound)


def test_the_demo_has_a_reversal_and_questions_and_verifies(app, runner):
    compound = load(app)
    reversal = db.session.scalar(select(Entry).where(Entry.reverses_id.is_not(None)))
    original = reversal.reverses
    assert original.category.name == "维修" and reversal.amount_fen == -original.amount_fen
    assert "冲销" in reversal.description
    again = db.session.scalar(select(Entry).where(Entry.number == reversal.number + 1))
    assert again.category.name == "维修" and again.amount_fen != original.amount_fen and again.reverses_id is None

    questions = db.session.scalars(select(Question).where(Question.compound_id == compound.id)
                                   .order_by(Question.id)).all()
    assert len(questions) == 2
    answered, open_ = questions
    assert answered.answer and answered.answered_at > answered.created_at
    assert answered.entry.category.name == "福利发放"
    assert not open_.answer and service.open_questions(compound) == [open_]
    assert not service.is_overdue(open_) and utcnow() - open_.created_at < timedelta(days=3)
    assert service.overdue_questions(compound) == []

    assert evidence.check(compound).ok
    db.session.rollback()
    result = runner.invoke(args=["verify", "guixiang"])
    assert result.exit_code == 0, result.output
    assert "guixiang: OK:" in result.output and "11 signed periods match" in result.output


def test_loading_the_demo_twice_keeps_one_ledger(app):
    load(app)
    before = counts()
    assert before[0] > 60
    db.session.rollback()
    compound = load(app)
    assert counts() == before
    assert evidence.check(compound).ok
    roles = db.session.scalars(select(Membership.role).join(User).where(
        Membership.compound_id == compound.id, User.username.like("demo-supervisor%"))).all()
    assert roles == [Role.supervisor] * 3


def test_the_demo_prints_a_supervisor_who_can_give_the_missing_signature(app, runner):
    """A newcomer can try sign-off: the printed supervisor logs in and publishes the waiting month."""
    from kiosk.demo import load_demo

    from conftest import post_form
    from security_support import shown_fields

    summary = load_demo()
    compound = db.session.scalar(select(Compound).where(Compound.slug == summary["slug"]))
    waiting = db.session.scalar(select(Period).where(Period.compound_id == compound.id,
                                                     Period.status == PeriodStatus.submitted))
    supervisor = db.session.scalar(select(User).where(User.username == summary["supervisor"]))
    service.may_sign(compound, supervisor, waiting)  # raises if this supervisor could not sign
    client = app.test_client()
    assert post_form(client, "/admin/login", {"username": summary["supervisor"],
                                              "password": summary["supervisor_password"]}).status_code == 302
    assert post_form(client, "/admin/password", {"current": summary["supervisor_password"],
                                                 "new": "a-new-demo-password-7", "confirm": "a-new-demo-password-7"},
                     token_from="/admin/password").status_code == 302
    page = f"/admin/{summary['slug']}/ledger/periods/{waiting.id}"
    post_form(client, f"{page}/sign", shown_fields(client, page), token_from=page)
    db.session.expire_all()
    assert db.session.get(Period, waiting.id).status == PeriodStatus.published
