"""Short sentences about a book that the phone pages, the lobby slide and the district's view share."""
from flask_babel import gettext as _

from ..timefmt import format_month


def cadence_line(book, cadence):
    """"专项维修资金 · 每半年公示 · 下次 2027年1月": the book, how often it is disclosed, and the month the next
    disclosure is due (the month of its deadline)."""
    return _("%(book)s · %(cadence)s公示 · 下次 %(month)s", book=book.label, cadence=book.cadence_label,
             month=format_month(cadence.due_on))


def book_label():
    """The shown name of the book the page is about (the request's)."""
    from flask import g

    from .service import book

    return book(g.compound).label


def memory_suffix():
    """What a phone's remembered chain head is filed under besides the compound: nothing for public income (the
    heads phones remembered before there were books stay theirs), ":<book>" for another book's own chain."""
    from .service import current_kind

    kind = current_kind()
    return "" if kind == "public_income" else f":{kind}"
