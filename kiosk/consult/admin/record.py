"""The procedure record (表决程序核验单) of a published topic, on A4: what a street-office official reads before
certifying an owners' decision. Every committee role and platform staff may read it; it names no household."""
from flask import abort, g, render_template

from ...database import utcnow
from ...timefmt import format_datetime
from ..models import Phase
from ..procedure import profile_for
from ..service.record import procedure_record
from .base import admin_bp, load


@admin_bp.route("/<int:topic_id>/procedure-record")
def procedure_record_page(topic_id):
    """Each step of the procedure: what happened, whether the compound's profile was met, and the source."""
    topic = load(topic_id)
    if topic.phase() == Phase.draft:
        abort(404)
    return render_template("consult/procedure_record.html", topic=topic, profile=profile_for(g.compound),
                           steps=procedure_record(g.compound, topic, format_datetime), now=utcnow())
