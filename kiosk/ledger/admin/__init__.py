"""The committee's and supervisors' ledger pages: record income and expenses with receipt photos, post and
reverse, close a period against the counted balance, sign or return it, answer residents' questions, set
budgets of decided resolutions, keep the book's settings and categories, export and print; and the district's
cadence view for street-office staff.

Every rule lives in service/; these pages parse, call and render, and base.py's error handler turns a refusal
into its sentence (sentences.py). Money is integer fen from the moment money.parse_yuan reads the typed yuan.
"""
from . import budgets, entries, exports, home, periods, settings, transfers  # noqa: F401  (their routes join the blueprints)
from .base import admin_bp, platform_bp


def blueprints():
    """The committee's ledger pages and the district's view."""
    return [admin_bp, platform_bp]
