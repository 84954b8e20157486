"""Residents' ledger pages (being written)."""
from flask import Blueprint

from ..compounds.context import bind_compound

bp = bind_compound(Blueprint("ledger", __name__, url_prefix="/<compound>/ledger"))


def blueprints():
    return [bp]
