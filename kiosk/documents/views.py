"""What residents read: the library by kind with a search over its text (/<compound>/docs/), one document's
pages as images with read-aloud, its earlier versions, a contract's ledger entries, and the seal-use log.

Drafts are the committee's; a published version is readable from its posting date on, and after its posting
period ends it stays readable as history (owners may consult these papers at any time: 解释 art. 13)."""
from flask import Blueprint, abort, g, render_template, request

from ..compounds.context import bind_compound, get_or_404_in_compound
from ..timefmt import local_date
from . import service
from .forms import APPROVER_LABELS, KIND_LABELS
from .models import Document, Kind, Version

bp = bind_compound(Blueprint("documents", __name__, url_prefix="/<compound>/docs"))
MAX_QUERY = 40


@bp.route("/")
def index():
    """The library by kind, and the pages whose text contains the search words."""
    words = request.args.get("q", "")[:MAX_QUERY].strip()
    return render_template("documents/index.html", shelves=service.library(g.compound), kinds=KIND_LABELS,
                           order=[k.value for k in Kind], words=words,
                           found=service.search(g.compound, words) if words else None, today=local_date())


def _page(document, version):
    return render_template("documents/show.html", document=document, version=version, kinds=KIND_LABELS,
                           current=service.public_version(document), today=local_date(),
                           history=[v for v in document.versions if service.visible(v)],
                           entries=service.linked_entries(document) if document.kind == Kind.contract else [])


@bp.route("/<int:document_id>")
def show(document_id):
    """A document's current version: its pages as images, each page's text read aloud."""
    document = get_or_404_in_compound(Document, document_id)
    version = service.public_version(document)
    if version is None:
        abort(404)
    return _page(document, version)


@bp.route("/<int:document_id>/v/<int:version_id>")
def version(document_id, version_id):
    """An earlier (or the current) published version of a document."""
    document = get_or_404_in_compound(Document, document_id)
    found = get_or_404_in_compound(Version, version_id)
    if found.document_id != document.id or not service.visible(found):
        abort(404)
    return _page(document, found)


@bp.route("/seal")
def seal():
    """The seal-use log: every line, voided ones marked, who approved as a role."""
    return render_template("documents/seal.html", lines=service.seal_log(g.compound),
                           voided=service.voided_ids(g.compound), approvers=APPROVER_LABELS)
