"""Committee accounts: add one to a compound or take one off, with the rules that hold on every path (the
members page, the platform pages, `kiosk user add`). Supervisors are not added here: see supervision.py."""
import secrets

from sqlalchemy import select

from ..changes import record_change
from ..extensions import db
from ..refusals import Refused
from . import AREA
from .models import Membership, Role, User
from .names import name_key


class AccountRefused(Refused):
    """A rule refused the change to an account or the supervisory body; `reason` names the rule."""


def new_password():
    """Return a one-time password that is easy to read aloud and type on a phone."""
    alphabet = "abcdefghjkmnpqrstuvwxyz23456789"
    return "-".join("".join(secrets.choice(alphabet) for _ in range(4)) for _ in range(4))


def display_names(user_ids):
    """{account id: display name} of some accounts (None and repeats ignored), in one query."""
    ids = {i for i in user_ids if i}
    if not ids:
        return {}
    return dict(db.session.execute(select(User.id, User.display_name).where(User.id.in_(ids))).all())


def name_clash(compound, display_name):
    """Return the membership of this compound whose name reads like display_name, or None."""
    return db.session.scalar(select(Membership).where(Membership.compound_id == compound.id,
                                                      Membership.name_key == name_key(display_name)))


def check_new_account(compound, username, display_name):
    """Raise AccountRefused unless a new account with this username and name may join the compound."""
    if db.session.scalar(select(User.id).where(User.username == username)) is not None:
        raise AccountRefused("username_taken")
    if not name_key(display_name):
        raise AccountRefused("name_unreadable")
    clash = name_clash(compound, display_name) if compound is not None else None
    if clash is not None:
        raise AccountRefused("name_taken", name=clash.user.display_name)


def create_account(username, display_name, password, must_change_password=True, platform_admin=False):
    """Create an account (no role anywhere yet) with a hashed password; the caller commits."""
    user = User(username=username, display_name=display_name, is_platform_admin=platform_admin,
                must_change_password=must_change_password)
    user.set_password(password)
    db.session.add(user)
    db.session.flush()
    return user


def add_member(compound, actor, username, display_name, role, password, must_change_password=True, via=None):
    """Create a committee account in the compound and audit it; `via` says how when there is no actor
    (the server's command line). Supervisors are refused: they are appointed (supervision.py)."""
    role = Role(role)
    if role == Role.supervisor:
        raise AccountRefused("supervisor")
    check_new_account(compound, username, display_name)
    user = create_account(username, display_name, password, must_change_password)
    db.session.add(Membership(user_id=user.id, compound_id=compound.id, role=role))
    after = {"username": username, "display_name": display_name, "role": role.value}
    if via:
        after["via"] = via
    record_change(compound, actor, AREA, "create", user, None, after)
    return user


def remove_member(compound, actor, actor_role, membership):
    """Take a committee account off the compound (its audit history stays). A supervisor leaves only through
    supervision.remove; a vice-chair does not remove the chair; nobody removes themselves."""
    if membership.role == Role.supervisor:
        raise AccountRefused("supervisor")
    if membership.role == Role.chair and actor_role != Role.chair and not actor.is_platform_admin:
        raise AccountRefused("chair")
    if membership.user_id == actor.id:
        raise AccountRefused("self")
    record_change(compound, actor, AREA, "remove", membership.user,
                  {"username": membership.user.username, "role": str(membership.role)}, None)
    db.session.delete(membership)
