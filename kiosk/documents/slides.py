"""The lobby screen's audit-report slides: while a report's posting period runs, its first page, the auditor,
what it covers and "公示至 X月X日"."""
from sqlalchemy import select

from ..extensions import db
from ..screen.registry import Slide
from . import AREA, service
from .models import Document, Kind


def _slide(document, version):
    return Slide(area=AREA, item_id=str(document.id), title=document.title, template="documents/_slide.html",
                 phone_path=f"docs/{document.id}",
                 context={"document": document, "version": version,
                          "first_page": version.pages[0] if version.pages else None})


def slides(compound, now):
    """The compound's audit reports in their posting period, as slides."""
    return [_slide(d, v) for d, v in service.running_audits(compound)]


def detail(compound, item_id):
    """One running audit report as a full-screen slide, or None."""
    if not item_id.isdigit():
        return None
    document = db.session.scalar(select(Document).where(Document.id == int(item_id),
                                                        Document.compound_id == compound.id,
                                                        Document.kind == Kind.audit.value))
    version = service.public_version(document) if document else None
    if version is None or version.posting(service.today()) != "running":
        return None
    return _slide(document, version)
