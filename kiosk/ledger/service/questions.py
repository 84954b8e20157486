"""Residents' questions (质询) about posted entries, and the committee's public answers (due within 10 days)."""
from datetime import timedelta

from sqlalchemy import select

from ...changes import record_change
from ...database import utcnow
from ...extensions import db
from .. import AREA
from ..models import Question
from .base import LedgerRefused

ANSWER_WITHIN_DAYS = 10


def ask(compound, household, entry, body):
    """A household's question about a posted entry."""
    if not entry.posted:
        raise LedgerRefused("not_posted")
    question = Question(compound_id=compound.id, entry_id=entry.id, household_id=household.id, body=body)
    db.session.add(question)
    record_change(compound, None, AREA, "question", entry, None, {"number": entry.number, "body": body,
                                                                  "household": household.address})
    return question


def answer(compound, actor, question, text):
    """The committee's public answer, once."""
    if question.answered_at is not None:
        raise LedgerRefused("answered")
    before = {"answer": question.answer}
    question.answer, question.answered_by, question.answered_at = text, actor.id, utcnow()
    record_change(compound, actor, AREA, "answer", question, before, {"answer": text})


def questions_for(entry):
    """An entry's questions, oldest first."""
    return db.session.scalars(select(Question).where(Question.entry_id == entry.id).order_by(Question.id)).all()


def is_overdue(question, now=None):
    """Whether a question has waited for its answer longer than ANSWER_WITHIN_DAYS."""
    now = now or utcnow()
    return not question.answer and question.created_at + timedelta(days=ANSWER_WITHIN_DAYS) < now


def overdue_questions(compound, now=None):
    """The compound's questions waiting longer than ANSWER_WITHIN_DAYS, oldest first."""
    now = now or utcnow()
    return db.session.scalars(select(Question).where(
        Question.compound_id == compound.id, Question.answered_at.is_(None),
        Question.created_at < now - timedelta(days=ANSWER_WITHIN_DAYS)).order_by(Question.created_at)).all()


def open_questions(compound):
    """The compound's unanswered questions, oldest first."""
    return db.session.scalars(select(Question).where(Question.compound_id == compound.id,
                                                     Question.answered_at.is_(None))
                              .order_by(Question.created_at)).all()
