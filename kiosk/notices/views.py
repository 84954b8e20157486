"""What residents read: one notice at /<compound>/n/<id>."""
from flask import Blueprint, abort, render_template

from ..compounds.context import bind_compound, get_or_404_in_compound
from .models import Notice

bp = bind_compound(Blueprint("notices", __name__, url_prefix="/<compound>"))


@bp.route("/n/<int:notice_id>")
def show(notice_id):
    """Show one notice to residents; drafts, archived and expired ones are not found."""
    notice = get_or_404_in_compound(Notice, notice_id)
    if not notice.is_public():
        abort(404)
    return render_template("notices/show.html", notice=notice)
