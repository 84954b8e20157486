"""/healthz: a JSON answer a screen or a load balancer can probe."""
from flask import Blueprint, jsonify
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from .version import __version__
from .extensions import db

bp = Blueprint("health", __name__)


@bp.route("/healthz")
def healthz():
    """Report whether the database answers, and the code version (screens reload when it changes)."""
    try:
        db.session.execute(text("SELECT 1"))
        ok = True
    except SQLAlchemyError:
        db.session.rollback()
        ok = False
    response = jsonify(status="ok" if ok else "unavailable", database="ok" if ok else "unavailable",
                       version=__version__)
    response.status_code = 200 if ok else 503
    response.headers["Cache-Control"] = "no-store"
    if not ok:
        response.headers["Retry-After"] = "5"
    return response
