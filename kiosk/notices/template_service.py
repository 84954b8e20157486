"""A compound's notice templates: the three defaults every compound gets, and the committee's own (add, edit,
delete, each audited in the same transaction)."""
from sqlalchemy import select

from ..changes import record_change
from ..extensions import db
from ..refusals import Refused
from . import AREA
from .models import Category, NoticeTemplate
from .template_defaults import DEFAULT_TEMPLATES


class TemplateRefused(Refused):
    """A template change the rules refuse: "duplicate" (another template of the compound has this title)."""


def templates_of(compound):
    """The compound's templates, by title."""
    return db.session.scalars(select(NoticeTemplate).where(NoticeTemplate.compound_id == compound.id)
                              .order_by(NoticeTemplate.title, NoticeTemplate.id)).all()


def add_defaults(compound):
    """Give the compound each default template whose title it does not have yet; return how many were added (the
    caller audits and commits: this is part of creating a compound)."""
    have = set(db.session.scalars(select(NoticeTemplate.title).where(NoticeTemplate.compound_id == compound.id)))
    added = 0
    for title, category, body in DEFAULT_TEMPLATES:
        if title not in have:
            db.session.add(NoticeTemplate(compound_id=compound.id, title=title, body=body,
                                          category=Category(category)))
            added += 1
    db.session.flush()
    return added


def _title_taken(compound, title, template):
    query = select(NoticeTemplate.id).where(NoticeTemplate.compound_id == compound.id, NoticeTemplate.title == title)
    if template is not None:
        query = query.where(NoticeTemplate.id != template.id)
    return db.session.scalar(query.limit(1)) is not None


def save_template(compound, actor, template, title, body, category):
    """Create (template None) or change a template; refused if another template has the title. The caller commits."""
    if _title_taken(compound, title, template):
        raise TemplateRefused("duplicate", title=title)
    creating = template is None
    before = None if creating else template.snapshot()
    if creating:
        template = NoticeTemplate(compound_id=compound.id)
        db.session.add(template)
    template.title, template.body, template.category = title, body, Category(category)
    record_change(compound, actor, AREA, "template_create" if creating else "template_edit", template, before,
                  template.snapshot())
    return template


def delete_template(compound, actor, template):
    """Delete a template (notices written from it keep their text); audited. The caller commits."""
    before = template.snapshot()
    record_change(compound, actor, AREA, "template_delete", template, before, None)
    db.session.delete(template)
