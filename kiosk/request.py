"""The request class: whole numbers from the URL and forms stay in the database's range, and reads of the
cookies that identify someone are noticed (so the response can say it depends on them).

Database ids are 32-bit on PostgreSQL (`integer`) and 64-bit on SQLite: a longer number in a path or a query
string must never reach a query, where it would be a 500 (NumericValueOutOfRange, OverflowError) instead of
"no such page". Routes use `BoundedIntConverter` (registered as `int`) and `ItemConverter` (`item`: a word or
an id); `request.args.get(name, type=int)` and `request.form.get(name, type=int)` return the default for
numbers outside that range, as they do for words.
"""
from htmx_flask.requests import HtmxAwareRequest
from werkzeug.datastructures import ImmutableMultiDict
from werkzeug.routing import IntegerConverter, UnicodeConverter, ValidationError

DB_INT_MAX = 2**31 - 1  # PostgreSQL `integer`, the type of every id column; SQLite's range is wider
DB_INT_MIN = -(2**31)


def bounded_int(text):
    """int(text), refusing (ValueError) a number a database integer column cannot hold, or a very long text."""
    text = str(text)
    if len(text.strip()) > 12:  # int() of a huge digit string is slow too; no id or page needs 12 digits
        raise ValueError("number too long")
    value = int(text)
    if not DB_INT_MIN <= value <= DB_INT_MAX:
        raise ValueError("number out of range")
    return value


class BoundedIntConverter(IntegerConverter):
    """`<int:x>` that matches only ids a database column can hold: a longer number is a 404, never a 500."""

    def __init__(self, map, fixed_digits=0, min=None, max=DB_INT_MAX, signed=False):  # noqa: A002 - werkzeug's names
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


class ItemConverter(UnicodeConverter):
    """`<item:x>`: a path segment naming an item as slide providers take it ("home", "current" or an id),
    where an id too large for a database column does not match (404) rather than reach a query."""

    def to_python(self, value):
        """The segment as it is, unless it is an id out of a database column's range."""
        if value.isdigit():
            try:
                bounded_int(value)
            except ValueError:
                raise ValidationError() from None
        return value


class BoundedArgs(ImmutableMultiDict):
    """Query-string and form values where `get(name, type=int)` treats out-of-range numbers as invalid."""

    def get(self, key, default=None, type=None):  # noqa: A002 - MultiDict's signature
        """MultiDict.get, with `type=int` parsed by bounded_int (so a huge number gives the default)."""
        return super().get(key, default, bounded_int if type is int else type)


class TrackedCookies(ImmutableMultiDict):
    """The request's cookies, remembering which names the application looked up."""

    def _note(self, key):
        """Remember that the cookie `key` (or "*": every cookie) was looked at."""
        self.__dict__.setdefault("looked_up", set()).add(key)

    def looked_up_any(self, names):
        """Whether any of `names` was looked up (or every cookie was, by iterating over them all)."""
        seen = self.__dict__.get("looked_up", set())
        return "*" in seen or any(name in seen for name in names)

    def get(self, key, default=None, type=None):  # noqa: A002 - MultiDict's signature
        self._note(key)
        return super().get(key, default, type)

    def __getitem__(self, key):
        self._note(key)
        return super().__getitem__(key)

    def __contains__(self, key):
        self._note(key)
        return super().__contains__(key)

    def getlist(self, key, type=None):  # noqa: A002 - MultiDict's signature
        self._note(key)
        return super().getlist(key, type)

    def items(self, multi=False):
        self._note("*")
        return super().items(multi)

    def values(self):
        self._note("*")
        return super().values()

    def lists(self):
        self._note("*")
        return super().lists()

    def to_dict(self, flat=True):
        self._note("*")
        return super().to_dict(flat)

    def __iter__(self):
        self._note("*")
        return super().__iter__()


class KioskRequest(HtmxAwareRequest):
    """Flask's request (with htmx-flask's `request.htmx`), bounded whole numbers in args/form, cookie reads
    tracked."""

    parameter_storage_class = BoundedArgs
    dict_storage_class = TrackedCookies


def init_app(app):
    """Use KioskRequest and register the bounded `int` converter (before any blueprint adds its routes).

    Called after htmx-flask's Htmx(app), which installs its own request class; ours extends it.
    """
    app.request_class = KioskRequest
    app.url_map.converters["int"] = BoundedIntConverter
    app.url_map.converters["item"] = ItemConverter
