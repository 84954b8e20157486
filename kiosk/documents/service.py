"""The document library's rules: documents and their versions (pages from a checked PDF or photos, a posting
period no shorter than the procedure profile's, the decision that adopted it), publishing, contracts' ledger
entries, the seal-use log, what residents may see and search, and the posting status the district sees.
The only place that writes the area's tables."""
import secrets
from datetime import timedelta

from flask import current_app
from sqlalchemy import func, select

from ..changes import record_change
from ..consult.models import Status as TopicStatus, Topic
from ..consult.procedure import NATIONAL, profile_for
from ..database import utcnow
from ..extensions import db
from ..ledger.models import Entry
from ..timefmt import local_date
from ..uploads import Image, ImageRejected, reencode, upload_dir
from . import AREA
from .models import Document, EntryLink, Kind, Page, SealUse, Version
from .pdf import PdfRejected, is_pdf, render_pages

# Kinds a compound must always have posted (the district sees "overdue" without one) and kinds that owners adopt
# by their own vote (民法典 art. 278 §1 items 1–2: meeting rules and the management statute), so a version names
# the decided consultation topic that adopted it.
STANDING = (Kind.statute, Kind.rules)
NEEDS_DECISION = (Kind.statute, Kind.rules)
MAX_PAGES_PER_VERSION = 200
# Who approved a use of the seal: a role or body, never a private name on a public page.
APPROVERS = ("meeting", "owners", "chair")


class DocumentRefused(ValueError):
    """A refused action; `field` names the form field the sentence belongs next to ("" for the page)."""

    def __init__(self, reason, field="", **detail):
        super().__init__(reason)
        self.reason, self.field, self.detail = reason, field, detail


def min_days(compound, kind):
    """(days, source) a version of this kind must stay posted at least, from the compound's procedure profile."""
    profile = profile_for(compound)
    rule = "audit_post_days" if kind == Kind.audit else "standing_post_days"
    source = profile.cite(rule)
    if isinstance(source, str) and not source:  # a lazy string is not a str: comparing it would need a locale
        source = NATIONAL.cite(rule)
    return getattr(profile, rule), source


def today():
    """Today in the compound's time zone (posting periods are local dates)."""
    return local_date()


# --- documents and versions --------------------------------------------------------------------------------

def create_document(compound, actor, kind, title, auditor="", covers_from=None, covers_until=None, covers_term=""):
    """Start a document of the library; an audit report names its auditor and what it covers."""
    kind = Kind(kind)
    if kind == Kind.audit:
        if not auditor.strip():
            raise DocumentRefused("no_auditor", "auditor")
        if not (covers_from and covers_until) and not covers_term.strip():
            raise DocumentRefused("no_cover", "covers_from")
    if covers_from and covers_until and covers_until < covers_from:
        raise DocumentRefused("cover_backwards", "covers_until")
    document = Document(compound_id=compound.id, kind=kind.value, title=title.strip(), auditor=auditor.strip(),
                        covers_from=covers_from, covers_until=covers_until, covers_term=covers_term.strip(),
                        created_by=actor.id if actor else None)
    db.session.add(document)
    record_change(compound, actor, AREA, "create", document, None, document.snapshot())
    return document


def decided_topics(compound):
    """The compound's decided and passed consultation topics: what a version can say adopted it."""
    topics = db.session.scalars(select(Topic).where(
        Topic.compound_id == compound.id, Topic.status.in_([TopicStatus.closed, TopicStatus.done]))
        .order_by(Topic.closes_at.desc())).all()
    return [t for t in topics if isinstance(t.result, dict) and t.result.get("passed") is True]


def _topic(compound, kind, topic_id):
    """The adopting topic named by a form (None when none), refused when it is not one of ours, decided."""
    if not topic_id:
        if kind in NEEDS_DECISION:
            raise DocumentRefused("needs_decision", "topic_id")
        return None
    topic = next((t for t in decided_topics(compound) if t.id == topic_id), None)
    if topic is None:
        raise DocumentRefused("topic_unknown", "topic_id")
    return topic


def check_period(compound, kind, posted_from, posted_until):
    """Refuse a posting period shorter than the profile's minimum for the kind (both days count)."""
    if posted_until < posted_from:
        raise DocumentRefused("period_backwards", "posted_until")
    days, source = min_days(compound, kind)
    if (posted_until - posted_from).days + 1 < days:
        raise DocumentRefused("period_short", "posted_until", days=days, source=source,
                              earliest=posted_from + timedelta(days=days - 1))


def _render(uploads):
    """Every page of the uploads (a PDF, or photos one page each), checked and re-encoded, in memory:
    [(data, content_type, width, height, text)]. Raises DocumentRefused with the file's sentence."""
    cfg = current_app.config
    pages = []
    for name, data in uploads:
        try:
            if is_pdf(data) or name.lower().endswith(".pdf"):
                for page in render_pages(data, cfg["DOCUMENT_MAX_BYTES"], cfg["DOCUMENT_MAX_PAGES"],
                                         cfg["DOCUMENT_PAGE_SIDE"]):
                    pages.append((page.data, page.content_type, page.width, page.height, page.text))
            else:
                blob, content_type, width, height = reencode(data, cfg["IMAGE_MAX_PIXELS"], cfg["IMAGE_MAX_SIDE"])
                pages.append((blob, content_type, width, height, ""))
        except (PdfRejected, ImageRejected) as error:
            raise DocumentRefused("file", "files", sentence=str(error)) from None
        if len(pages) > cfg["DOCUMENT_MAX_PAGES"]:
            raise DocumentRefused("too_many_pages", "files", limit=cfg["DOCUMENT_MAX_PAGES"])
    if not pages:
        raise DocumentRefused("no_file", "files")
    return pages


def _store(compound, actor, pages):
    """Write rendered pages as Image rows and files (added, not committed); return the Images."""
    folder = upload_dir()
    images = []
    for data, content_type, width, height, _text in pages:
        name = secrets.token_hex(16) + (".png" if content_type == "image/png" else ".jpg")
        tmp = folder / (name + ".part")
        tmp.write_bytes(data)
        tmp.replace(folder / name)
        image = Image(compound_id=compound.id, filename=name, content_type=content_type, width=width,
                      height=height, size=len(data), uploader_id=actor.id if actor else None)
        db.session.add(image)
        images.append(image)
    db.session.flush()
    return images


def add_version(compound, actor, document, uploads, posted_from, posted_until, topic_id=None, note=""):
    """A new draft version from uploaded files [(filename, bytes)]: the period and decision are checked first,
    then every page is rendered in memory, and only then is anything written. Returns the Version."""
    check_period(compound, document.kind, posted_from, posted_until)
    topic = _topic(compound, document.kind, topic_id)
    pages = _render(uploads)
    number = (db.session.scalar(select(func.max(Version.number)).where(Version.document_id == document.id)) or 0) + 1
    version = Version(compound_id=compound.id, document_id=document.id, number=number, posted_from=posted_from,
                      posted_until=posted_until, topic_id=topic.id if topic else None, note=note.strip(),
                      created_by=actor.id if actor else None)
    images = _store(compound, actor, pages)
    version.pages = [Page(compound_id=compound.id, position=i, image_id=image.id, text=page[4])
                     for i, (image, page) in enumerate(zip(images, pages))]
    db.session.add(version)
    record_change(compound, actor, AREA, "add_version", version, None, version.snapshot())
    return version


def publish(compound, actor, version):
    """Publish a draft version: it becomes the document's current version (earlier ones become history)."""
    if version.posted_at is not None:
        raise DocumentRefused("already_posted")
    if version.posted_until < today():
        raise DocumentRefused("period_over")
    before = version.snapshot()
    version.posted_at, version.posted_by = utcnow(), actor.id if actor else None
    record_change(compound, actor, AREA, "publish", version, before, version.snapshot())
    return version


# --- contracts and ledger entries ---------------------------------------------------------------------------

def linkable_entries(compound):
    """The compound's posted ledger entries, newest first, for a contract's picker."""
    return db.session.scalars(select(Entry).where(Entry.compound_id == compound.id, Entry.posted.is_(True))
                              .order_by(Entry.occurred_on.desc(), Entry.id.desc()).limit(500)).all()


def link_entry(compound, actor, document, entry_id):
    """Link a posted ledger entry of this compound to a contract (once)."""
    if document.kind != Kind.contract:
        raise DocumentRefused("not_contract")
    entry = db.session.scalar(select(Entry).where(Entry.id == entry_id, Entry.compound_id == compound.id,
                                                  Entry.posted.is_(True)))
    if entry is None:
        raise DocumentRefused("entry_unknown", "ledger_entry")
    if db.session.scalar(select(EntryLink.id).where(EntryLink.document_id == document.id,
                                                    EntryLink.entry_id == entry.id)):
        raise DocumentRefused("entry_linked", "ledger_entry")
    link = EntryLink(compound_id=compound.id, document_id=document.id, entry_id=entry.id,
                     created_by=actor.id if actor else None)
    db.session.add(link)
    record_change(compound, actor, AREA, "link_entry", link, None,
                  {"document_id": document.id, "entry_id": entry.id, "number": entry.number})
    return link


def linked_entries(document):
    """The ledger entries paid under a contract, by date."""
    return db.session.scalars(select(Entry).join(EntryLink, EntryLink.entry_id == Entry.id)
                              .where(EntryLink.document_id == document.id)
                              .order_by(Entry.occurred_on, Entry.id)).all()


# --- the seal-use log ------------------------------------------------------------------------------------------

def seal_log(compound):
    """Every line of the seal-use log, newest first, voided ones included."""
    return db.session.scalars(select(SealUse).where(SealUse.compound_id == compound.id)
                              .order_by(SealUse.number.desc())).all()


def record_seal(compound, actor, used_on, sealed, purpose, approved_by, topic_id=None, image=None, voids=None,
                reason=""):
    """Write one line of the seal-use log (a correction names the line it voids and why)."""
    if approved_by not in APPROVERS:
        raise DocumentRefused("approver", "approved_by")
    if used_on > today():
        raise DocumentRefused("future_seal", "used_on")
    topic = None
    if topic_id:
        topic = next((t for t in decided_topics(compound) if t.id == topic_id), None)
        if topic is None:
            raise DocumentRefused("topic_unknown", "topic_id")
    number = (db.session.scalar(select(func.max(SealUse.number)).where(SealUse.compound_id == compound.id)) or 0) + 1
    line = SealUse(compound_id=compound.id, number=number, used_on=used_on, sealed=sealed.strip(),
                   purpose=purpose.strip(), approved_by=approved_by, topic_id=topic.id if topic else None,
                   image_id=image.id if image else None, voids_id=voids.id if voids else None, reason=reason.strip(),
                   created_by=actor.id if actor else None)
    db.session.add(line)
    record_change(compound, actor, AREA, "void_seal" if voids else "seal", line, None, line.snapshot())
    return line


def void_seal(compound, actor, line, reason, used_on, sealed, purpose, approved_by, topic_id=None):
    """Correct a line: a new line with the right details that voids it and says why (both stay in the log); a line
    is voided once, and a correction is corrected by voiding it in turn."""
    if not reason.strip():
        raise DocumentRefused("no_reason", "reason")
    if line.id in voided_ids(compound):
        raise DocumentRefused("already_voided")
    return record_seal(compound, actor, used_on, sealed, purpose, approved_by, topic_id, None, voids=line,
                       reason=reason)


def voided_ids(compound):
    """Ids of the lines a later line voided."""
    return set(db.session.scalars(select(SealUse.voids_id).where(SealUse.compound_id == compound.id,
                                                                 SealUse.voids_id.is_not(None))))


# --- what residents see ------------------------------------------------------------------------------------------

def visible(version, on=None):
    """Whether residents may read a version: published and its posting period begun. After the period ends it
    stays readable as history (owners may consult these papers at any time: 解释 art. 13)."""
    return version is not None and version.posted_at is not None and version.posted_from <= (on or today())


def public_version(document, on=None):
    """The version residents read now (the newest visible one), or None."""
    on = on or today()
    return next((v for v in document.versions if visible(v, on)), None)


def library(compound):
    """{kind: [(document, current version)]} of the documents residents may read, newest first in each kind."""
    documents = db.session.scalars(select(Document).where(Document.compound_id == compound.id)
                                   .order_by(Document.created_at.desc(), Document.id.desc())).all()
    shelves = {}
    for document in documents:
        version = public_version(document)
        if version is not None:
            shelves.setdefault(document.kind, []).append((document, version))
    return shelves


def search(compound, words, limit=50):
    """Pages of the documents residents may read whose text contains `words` (a plain substring; Chinese has
    no spaces to split on): [(document, version, page)]."""
    words = words.strip()
    if not words:
        return []
    rows = db.session.execute(
        select(Document, Version, Page).join(Version, Version.document_id == Document.id)
        .join(Page, Page.version_id == Version.id)
        .where(Document.compound_id == compound.id, Version.posted_at.is_not(None),
               Version.posted_from <= today(), Page.text.contains(words, autoescape=True))
        .order_by(Document.id, Version.number.desc(), Page.position)).all()
    found = []
    for document, version, page in rows:
        if public_version(document) is version:  # only the current version: history is read, not searched
            found.append((document, version, page))
    return found[:limit]


def shows_image(image):
    """Whether residents may see a stored image: a page of a readable version, or a seal-log photo."""
    version = db.session.scalar(select(Version).join(Page, Page.version_id == Version.id)
                                .where(Page.image_id == image.id))
    if version is not None:
        return visible(version)
    return db.session.scalar(select(SealUse.id).where(SealUse.image_id == image.id)) is not None


def audits_covering(compound, starts_on, ends_on):
    """The published audit reports of the compound whose covered dates overlap [starts_on, ends_on]:
    [(document, version)], newest version of each."""
    documents = db.session.scalars(select(Document).where(
        Document.compound_id == compound.id, Document.kind == Kind.audit.value,
        Document.covers_from <= ends_on, Document.covers_until >= starts_on)
        .order_by(Document.covers_from)).all()
    return [(d, v) for d in documents if (v := public_version(d)) is not None]


def posting_status(compound, on=None):
    """Where each document's posting stands, for the district view:
    {"running": [(doc, version)], "ended": [(doc, version)], "overdue": [kind]} — overdue lists the standing kinds
    (管理规约, 议事规则) with no version residents can read."""
    on = on or today()
    status = {"running": [], "ended": [], "overdue": []}
    shelves = library(compound)
    for documents in shelves.values():
        for document, version in documents:
            status["running" if version.posting(on) == "running" else "ended"].append((document, version))
    status["overdue"] = [kind.value for kind in STANDING if kind.value not in shelves]
    return status


def running_audits(compound, on=None):
    """Audit reports in their posting period now (the lobby screen shows them)."""
    on = on or today()
    return [(d, v) for d, v in library(compound).get(Kind.audit.value, []) if v.posting(on) == "running"]


def index_rows(compound):
    """The library index for the CSV export: every document's versions, drafts marked."""
    documents = db.session.scalars(select(Document).where(Document.compound_id == compound.id)
                                   .order_by(Document.kind, Document.id)).all()
    return [(d, v) for d in documents for v in sorted(d.versions, key=lambda v: v.number)]
