"""The practice compound's rules: made once per real compound, its committee mirrored from the real one, seeded
with invented demo data, and reset (every row deleted and seeded again) in one transaction."""
from contextlib import contextmanager

from sqlalchemy import delete, or_, select, text
from sqlalchemy.orm import Session

from ..auth.models import EDITOR_ROLES, Membership, Role
from ..changes import record_change
from ..compounds.models import Compound, slug_problem
from ..database import utcnow
from ..extensions import db
from . import AREA

SUFFIX = "-lianxi"


class PracticeRefused(Exception):
    """A practice rule said no: `reason` names which (not_practice, is_practice, exists, not_chair)."""

    def __init__(self, reason):
        super().__init__(reason)
        self.reason = reason


@contextmanager
def all_or_nothing():
    """Run a block in one database transaction that the seeding's own commits cannot end: db.session is, for the
    block, a session joined to an outer transaction (its commits, including writing()'s, only release
    savepoints). The outer transaction commits when the block ends and rolls back whole if it raises. Objects
    loaded before belong to the request's session: load them again inside by id."""
    db.session.commit()  # end the request's own transaction first (on SQLite it holds the write lock)
    original = db.session.registry()
    with db.engine.connect() as connection:
        outer = connection.begin()
        session = Session(bind=connection, join_transaction_mode="create_savepoint")
        db.session.registry.set(session)
        try:
            yield session
            session.commit()
            outer.commit()
        except BaseException:
            session.rollback()
            outer.rollback()
            raise
        finally:
            session.close()
            db.session.registry.set(original)


def practice_for(real):
    """The real compound's practice compound, or None."""
    return db.session.scalar(select(Compound).where(Compound.practice_of == real.id))


def real_of(practice):
    """The real compound a practice compound belongs to."""
    return db.session.get(Compound, practice.practice_of)


def practice_slug(real):
    """A free slug for the real compound's practice compound: `<slug>-lianxi`, shortened to the slug rules and
    numbered if another compound took it."""
    for n in range(1, 100):
        tail = SUFFIX if n == 1 else f"{SUFFIX}{n}"
        slug = real.slug[:40 - len(tail)].rstrip("-") + tail
        taken = db.session.scalar(select(Compound.id).where(Compound.slug == slug))
        if slug_problem(slug) is None and taken is None:
            return slug
    raise PracticeRefused("no_slug")


def may_create(real, actor):
    """Whether the account may make the real compound's practice compound: its chair, or platform staff."""
    return actor.is_platform_admin or actor.role_in(real) == Role.chair


def may_reset(practice, actor):
    """Whether the account may reset a practice compound: a committee member who posts there (chair, vice
    chair, member; supervisors only sign), or platform staff."""
    return actor.is_platform_admin or actor.role_in(practice) in EDITOR_ROLES


def create(real, actor, now=None):
    """Make the real compound's practice compound, mirror its committee and seed it; the caller commits."""
    if real.practice:
        raise PracticeRefused("is_practice")
    if practice_for(real) is not None:
        raise PracticeRefused("exists")
    if not may_create(real, actor):
        raise PracticeRefused("not_chair")
    practice = Compound(slug=practice_slug(real), name=f"{real.name}（练习）", community=real.community,
                        district=real.district, procedure_profile=real.procedure_profile, practice_of=real.id)
    db.session.add(practice)
    db.session.flush()
    mirror(real, practice)
    seed(practice, actor, now)
    record_change(real, actor, AREA, "create", practice, None, {"slug": practice.slug, "name": practice.name})
    return practice


def _committee(compound_id):
    """{account id: role} of a compound's committee."""
    return {m.user_id: m.role for m in db.session.scalars(select(Membership).where(
        Membership.compound_id == compound_id))}


def mirrored(real, practice):
    """Whether the practice compound's committee already matches the real one's (a read, for GET pages)."""
    return _committee(real.id) == _committee(practice.id)


def account_mirrored(practice, user):
    """Whether one account's place in the practice compound already matches its role in the real one."""
    return (db.session.scalar(select(Membership.role).where(Membership.compound_id == practice.practice_of,
                                                            Membership.user_id == user.id))
            == db.session.scalar(select(Membership.role).where(Membership.compound_id == practice.id,
                                                               Membership.user_id == user.id)))


def mirror(real, practice):
    """Give the practice compound the real one's committee: the same accounts in the same roles (supervisors
    included, so sign-off can be practised); an account no longer on the real committee loses its place.
    Returns whether anything changed; the caller commits."""
    wanted = {m.user_id: m.role for m in db.session.scalars(select(Membership).where(
        Membership.compound_id == real.id))}
    changed = False
    for membership in db.session.scalars(select(Membership).where(Membership.compound_id == practice.id)).all():
        role = wanted.pop(membership.user_id, None)
        if role is None:
            db.session.delete(membership)
            changed = True
        elif membership.role != role:
            membership.role = role
            changed = True
    db.session.flush()
    for user_id, role in wanted.items():
        db.session.add(Membership(user_id=user_id, compound_id=practice.id, role=role))
        changed = True
    db.session.flush()
    if changed:
        for membership in db.session.scalars(select(Membership).where(Membership.compound_id == practice.id)):
            db.session.expire(membership.user, ["memberships"])
    return changed


def mirror_account(practice, user):
    """Bring one account's place in a practice compound in line with its role in the real compound (called as
    it opens any practice page, so a member removed from the real committee loses the practice one at once).
    Returns whether anything changed; the caller commits."""
    role = db.session.scalar(select(Membership.role).where(Membership.compound_id == practice.practice_of,
                                                           Membership.user_id == user.id))
    mine = db.session.scalar(select(Membership).where(Membership.compound_id == practice.id,
                                                      Membership.user_id == user.id))
    if role is None and mine is None or mine is not None and mine.role == role:
        return False
    if mine is None:
        db.session.add(Membership(user_id=user.id, compound_id=practice.id, role=role))
    elif role is None:
        db.session.delete(mine)
    else:
        mine.role = role
    db.session.flush()
    db.session.expire(user, ["memberships"])
    return True


def seed(practice, actor, now=None):
    """Fill a practice compound with the demo's invented data (kiosk/demo.py's seeding, which fills any
    compound): the roll, one printed card, notices and the default notice templates, consultations with votes, a year of the ledger signed by
    the mirrored supervisors, a gift pickup and the lobby screens; the caller commits."""
    from .. import demo
    from ..households.models import Household
    from ..households.service import issue as issue_cards
    from ..notices.template_service import add_defaults

    now = now or utcnow()
    chair = demo._holder(practice, Role.chair) or demo._holder(practice, Role.vice_chair) or actor
    # The demo's votes are dated for the national notice periods; the compound's own profile applies after.
    profile, practice.procedure_profile = practice.procedure_profile, "national"
    demo._post_notices(practice, chair, now)
    add_defaults(practice)  # the notice templates every compound starts with
    demo._households(practice, chair)
    demo._screens(practice, chair)
    db.session.flush()
    sample = db.session.scalar(select(Household).where(Household.compound_id == practice.id,
                                                       Household.building == "3", Household.room == "502")
                               .order_by(Household.entrance, Household.id))
    issue_cards(practice, chair, [sample])
    demo._distribution(practice, chair, now)
    demo._consultations(practice, chair, now, sample)
    demo._ledger(practice, chair, now)
    practice.procedure_profile = profile
    db.session.flush()


def owned_tables():
    """Every table holding rows of a compound, children first: the tables with a compound_id column and the
    tables that hang off them by a foreign key (ballots off topics, sign-offs off periods), read from
    db.metadata so a new table is never missed. Returns [(table, condition builder)]."""
    tables = [t for t in db.metadata.sorted_tables if t.name != "compound"]
    owners = {}

    def owned(table, compound_id, depth=0):
        """The SQL condition 'this row belongs to the compound', or None if the table is not a compound's."""
        if "compound_id" in table.c:
            return table.c.compound_id == compound_id
        if depth > 4:
            return None
        parts = []
        for fk in table.foreign_keys:
            parent = fk.column.table
            if parent is table or parent.name == "compound":
                continue
            condition = owned(parent, compound_id, depth + 1)
            if condition is not None:
                parts.append(fk.parent.in_(select(fk.column).where(condition)))
        if not parts:
            return None
        return or_(*parts)

    for table in tables:
        if owned(table, 0) is not None:
            owners[table.name] = table
    return [(table, owned) for table in reversed(tables) if table.name in owners]


def _guards(connection, tables):
    """Turn off the tables' append-only guards (database triggers) for this transaction; return how to turn
    them back on. They keep real records fixed; a practice compound's records are thrown away on purpose."""
    names = [t.name for t in tables]
    if connection.dialect.name == "postgresql":
        for name in names:
            connection.execute(text(f'ALTER TABLE "{name}" DISABLE TRIGGER USER'))
        return lambda: [connection.execute(text(f'ALTER TABLE "{name}" ENABLE TRIGGER USER')) for name in names]
    # SQLite cannot disable a trigger: drop it and create it again from its own stored text, in this same
    # transaction (nobody else can write meanwhile: the transaction holds the write lock).
    rows = connection.execute(text("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name IN "
                                   f"({', '.join(repr(n) for n in names)})")).all()
    for name, _sql in rows:
        connection.execute(text(f'DROP TRIGGER "{name}"'))
    return lambda: [connection.execute(text(sql)) for _name, sql in rows]


def wipe(practice):
    """Delete every row of the practice compound in every table (but the compound row itself); the caller
    commits. Refuses a real compound, whatever asked. Returns the names of the uploaded files its image rows
    named (for the caller to remove once committed)."""
    from ..uploads import Image

    if practice is None or not practice.practice:
        raise PracticeRefused("not_practice")
    tables = owned_tables()
    db.session.flush()
    files = list(db.session.scalars(select(Image.filename).where(Image.compound_id == practice.id)))
    connection = db.session.connection()
    restore = _guards(connection, [t for t, _o in tables])
    for table, owned in tables:
        connection.execute(delete(table).where(owned(table, practice.id)))
    restore()
    db.session.expire_all()
    return files


def reset(practice, actor, now=None):
    """Throw away everything done in the practice compound and seed it again, all in one transaction, and
    write who did it in the real compound's audit log; the caller commits (or rolls back: nothing is then
    half-reset), then removes the returned uploaded files (remove_files)."""
    if practice is None or not practice.practice:
        raise PracticeRefused("not_practice")
    if not may_reset(practice, actor):
        raise PracticeRefused("not_chair")
    practice_id, real_id = practice.id, practice.practice_of
    files = wipe(practice)
    practice = db.session.get(Compound, practice_id)
    real = db.session.get(Compound, real_id)
    mirror(real, practice)
    seed(practice, actor, now)
    record_change(practice, actor, AREA, "reset", practice, None, None)
    record_change(real, actor, AREA, "reset", practice, None, {"slug": practice.slug, "name": practice.name})
    return files


def remove_files(files):
    """Remove uploaded files a committed reset left without a row."""
    from ..uploads import upload_dir

    for name in files:
        upload_dir().joinpath(name).unlink(missing_ok=True)
