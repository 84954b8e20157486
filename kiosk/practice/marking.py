"""What every request to a practice compound gets: the visitor's committee place mirrored from the real
compound, the 练习 banner's switch, and X-Robots-Tag: noindex."""
from flask import g
from flask_login import current_user
from sqlalchemy.exc import OperationalError


def practice_marked():
    """Whether the page being rendered belongs to a practice compound (the base templates then show the
    练习 banner)."""
    compound = g.get("compound")
    return compound is not None and compound.practice


def mirror_visitor():
    """before_request: an account opening a practice compound's page holds there the role it holds in the real
    compound, and none once it left the real committee (runs before the admin pages' role check)."""
    if not practice_marked() or not current_user.is_authenticated or current_user.must_change_password:
        return None  # an account still on its one-time password is sent to change it first, and changes nothing
    from ..database import writing
    from .service import account_mirrored, mirror_account

    user = current_user._get_current_object()
    if not account_mirrored(g.compound, user):
        with writing():  # a GET: the write gets its own IMMEDIATE transaction
            mirror_account(g.compound, user)
    return None


def no_index(response):
    """after_request: search engines are told to leave practice pages out."""
    try:
        marked = practice_marked()
    except OperationalError:
        # The database went away during the request: the rollback of its 503 expired the compound, which cannot
        # be read again. That calm page is answered as it is.
        return response
    if marked:
        response.headers["X-Robots-Tag"] = "noindex"
    return response
