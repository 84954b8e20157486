"""The first pages anyone opens: the compound's phone home (/<compound>/, what its posters and lobby QR codes
open) and the bare server address, which tells a visitor to scan their compound's code."""
from flask import Blueprint, g, render_template, request

from ..compounds.context import bind_compound
from ..extensions import db
from ..htmx import render
from ..notices.models import CATEGORY_LABELS, Category, public_notices

# "compounds" and "site": the endpoint names templates and printed links have always used.
bp = bind_compound(Blueprint("compounds", __name__, url_prefix="/<compound>"))
site_bp = Blueprint("site", __name__)


def blueprints():
    """The phone home and the bare address (registered last: /<compound>/ must not shadow other routes)."""
    return [bp, site_bp]


@site_bp.route("/")
def index():
    """The bare server address: tell a visitor to scan their compound's code."""
    return render_template("compounds/site.html")


@bp.route("/")
def home():
    """The compound's phone home: current notices, urgent and pinned first, filterable by category (open votes
    come first through the consultations' template global)."""
    category = request.args.get("c")
    try:
        category = Category(category) if category else None
    except ValueError:
        category = None
    notices = db.session.scalars(public_notices(g.compound, category)).all()
    return render("compounds/home.html", "compounds/_notices.html",
                  notices=notices, category=category, categories=CATEGORY_LABELS)
