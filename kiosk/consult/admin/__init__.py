"""The committee's consultation pages: topics from draft to follow-through, paper ballots, the live and frozen
result with every figure, the resolution notice, exports, and the answers to residents' proposals.

Every rule is the service's; these pages parse, call and render, and base.py's error handler turns a refusal
into a sentence on the topic's page.
"""
from . import ballots, exports, paper, platform, proposals, proxies, record, reminders, resolution, topics  # noqa: F401  (their routes join the blueprints)
from .base import admin_bp, proposals_bp


def blueprints():
    """The committee's topic pages and its proposals page."""
    return [admin_bp, proposals_bp]
