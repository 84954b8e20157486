"""The ledger's work and rules: the book and its categories, drafts and posting into the hash chain, reversals
and receipts, closing a period, supervisors' sign-off (N of M, separation of duties), questions, budgets and
the disclosure cadence.

Every rule is enforced here, on the server, whoever calls (a page, the CLI, the demo, a test); the pages only
explain the refusals (LedgerRefused). Money is integer fen throughout. This package is the ledger's one API
(callers write service.post(...), service.decide(...)); its modules split the work by concept: base (the
refusal, the book, the chain's lock), settings (the book's settings, categories), entries (drafts, posting,
reversals, receipts), balances (figures, periods, cadence), closing (submitting, sign-off), questions, budgets,
book_transfers (money moved between a compound's books) and fund (the maintenance fund's buildings and votes).
Every function works on the current book (base.current_kind: using_book, ?book=, or the page's row's book).
"""
from .balances import (
    DISCLOSE_WITHIN_DAYS,
    BookCard,
    Cadence,
    Figures,
    balance,
    cadence,
    drafts_in,
    entries_in,
    figures,
    next_period,
    opening_balance,
    opening_from_entries,
    overview,
    period_end,
    periods,
)
from ..models import BookKind
from .base import (
    FieldsRefused,
    LedgerRefused,
    adopt_book,
    adopt_from_view_args,
    adopt_kind,
    book_url_defaults,
    book,
    book_kind,
    books,
    current_kind,
    in_book,
    open_book,
    supervisors,
    using_book,
)
from .budgets import budgeted_topics, decided_topics, over_budget, set_budget, spent_on
from .closing import current_signoffs, decide, earlier_waiting, may_sign, recorders_in, signers, still_matches, submit
from .entries import (
    EntryCheck,
    add_receipts,
    chain_head,
    check_entry,
    delete_draft,
    drafts,
    entry_by_number,
    locked_period,
    post,
    recent,
    refuse_on_broken_chain,
    reversal_of,
    reverse,
    save_draft,
    toggle_receipt,
)
from .questions import (
    ANSWER_WITHIN_DAYS,
    answer,
    ask,
    is_overdue,
    open_questions,
    overdue_questions,
    questions_for,
)
from .book_transfers import broken_transfers, reverse_transfer, transfer, transfer_label, transfers
from .fund import BuildingLine, building_entries, building_lines, fund_topics, is_fund, topic_buildings
from .fund import buildings as fund_buildings
from .settings import (
    add_category,
    categories,
    change_signoffs,
    rename_category,
    save_settings,
    settings_fixed,
    signoffs_problem,
    toggle_archived,
    used_categories,
)

__all__ = [
    "ANSWER_WITHIN_DAYS", "BookCard", "BookKind", "BuildingLine", "Cadence", "DISCLOSE_WITHIN_DAYS", "EntryCheck",
    "FieldsRefused", "Figures", "LedgerRefused", "add_category", "add_receipts", "adopt_book",
    "adopt_from_view_args", "adopt_kind", "answer", "ask", "balance", "book", "book_kind", "book_url_defaults", "books",
    "broken_transfers", "budgeted_topics", "building_entries", "building_lines", "cadence", "categories",
    "chain_head", "change_signoffs", "check_entry", "current_kind", "current_signoffs", "decide", "decided_topics",
    "delete_draft", "drafts", "drafts_in", "earlier_waiting", "entries_in", "entry_by_number", "figures",
    "fund_buildings", "fund_topics", "in_book", "is_fund", "is_overdue", "locked_period", "may_sign", "next_period",
    "open_book", "open_questions", "opening_balance", "opening_from_entries", "over_budget", "overdue_questions",
    "overview", "period_end", "periods", "post", "questions_for", "recent", "recorders_in",
    "refuse_on_broken_chain", "rename_category", "reversal_of", "reverse", "reverse_transfer", "save_draft",
    "save_settings", "set_budget", "settings_fixed", "signers", "signoffs_problem", "spent_on", "still_matches",
    "submit", "supervisors", "toggle_archived", "toggle_receipt", "topic_buildings", "transfer", "transfer_label",
    "transfers", "used_categories", "using_book", "verify"
]


def verify(compound):
    """The compound's chain check, recomputed now (evidence.check; kept under this name for its callers)."""
    from .. import evidence

    return evidence.check(compound)
