"""Residents' proposals for the committee: who sent them (the committee only), and the public answers."""
from flask import flash, g, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ...auth.access import editor_required
from ...compounds.context import get_or_404_in_compound
from ...extensions import db
from .. import service
from ..forms import AnswerForm
from ..models import Proposal
from .base import proposals_bp


@proposals_bp.route("/", endpoint="index")
def proposals_index():
    """Residents' proposals, newest first, with who sent them (for the committee only) and the answer form."""
    items = service.proposals(g.compound, public=False)
    return render_template("consult/admin_proposals.html", proposals=items, form=AnswerForm(formdata=None),
                           failed={})


@proposals_bp.route("/<int:proposal_id>/answer", methods=["POST"])
@editor_required
def answer(proposal_id):
    """Answer a proposal publicly, and say whether it stays open or is finished."""
    proposal = get_or_404_in_compound(Proposal, proposal_id)
    form = AnswerForm()
    if not form.validate_on_submit():
        items = service.proposals(g.compound, public=False)
        return render_template("consult/admin_proposals.html", proposals=items, form=AnswerForm(formdata=None),
                               failed={proposal.id: form}), 400
    service.answer_proposal(g.compound, current_user, proposal, form.answer.data.strip(), form.outcome.data)
    db.session.commit()
    flash(_("已答复“%(title)s”，居民在提议列表里能看到。", title=proposal.title), "success")
    return redirect(url_for(".index") + f"#proposal-{proposal.id}")
