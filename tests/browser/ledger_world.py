"""A compound's ledger with one disclosed month, put on a live server the way the app does it: the committee
records and posts entries, closes the month, and two supervisors sign it. Dates are relative to today."""
from datetime import date, timedelta

from .conftest import password_hash


def disclosed_month(live, slug, username, entries):
    """Record `entries` ([(category name, fen)]) in the month before last, close it and have two supervisors
    sign it; return the published period's id."""
    from sqlalchemy import select

    from kiosk.auth.models import Membership, Role, User
    from kiosk.compounds.models import Compound
    from kiosk.extensions import db
    from kiosk.ledger import service
    from kiosk.ledger.models import Category

    start = (date.today().replace(day=1) - timedelta(days=40)).replace(day=1)
    with live.app.app_context():
        compound = db.session.scalar(select(Compound).where(Compound.slug == slug))
        chair = db.session.scalar(select(User).where(User.username == username))
        service.open_book(compound, started_on=start)
        db.session.commit()
        balance = 0
        for i, (name, fen) in enumerate(entries):
            category = db.session.scalar(select(Category).where(Category.compound_id == compound.id,
                                                                Category.name == name))
            entry = service.save_draft(compound, chair, None, {
                "kind": category.kind, "occurred_on": start + timedelta(days=2 + i), "category_id": category.id,
                "amount_fen": fen, "description": f"{name}（{start:%m}月）"})
            service.post(compound, chair, entry)
            balance += fen if getattr(category.kind, "value", category.kind) == "income" else -fen
        db.session.commit()
        period = service.submit(compound, chair, balance)
        db.session.commit()
        supervisors = []
        for n in range(2):
            user = User(username=f"{slug}-sup{n}", display_name=f"监督{n + 1}", password_hash=password_hash(live.app),
                        must_change_password=False)
            db.session.add(user)
            db.session.flush()
            db.session.add(Membership(user_id=user.id, compound_id=compound.id, role=Role.supervisor))
            supervisors.append(user)
        db.session.commit()
        for user in supervisors:
            service.decide(compound, user, period, True)
        db.session.commit()
        return period.id
