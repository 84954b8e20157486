"""Numbers too large for a database column, in a path or a query string, are "not found" or ignored: never a
500 with a traceback in the log (SQLite: OverflowError; PostgreSQL: NumericValueOutOfRange).

Every route with an id in its path is walked from the app's own URL map, so a new route is covered the day
it is added.
"""
import logging

import pytest
from werkzeug.routing import IntegerConverter

from security_support import ROUTE_APP, app, fill, find_rule, request_as, traceback_signs, world  # noqa: F401

from conftest import login_as

HUGE = "99999999999999999999999"
JUST_TOO_BIG = str(2**31)  # one past PostgreSQL's `integer`; SQLite would still take it
LARGEST = str(2**31 - 1)  # still an id a column can hold: an ordinary "not found"


def numbered(rule):
    """The path arguments of a rule that name something by number: <int:…> and slide items (<item:…>)."""
    return [arg for arg, converter in rule._converters.items()
            if isinstance(converter, IntegerConverter) or arg == "item_id"]


NUMBERED_ROUTES = [(rule.rule, method) for rule in sorted(ROUTE_APP.url_map.iter_rules(), key=lambda r: r.rule)
                   if numbered(rule) for method in sorted(rule.methods - {"HEAD", "OPTIONS"})]


def errors_logged(caplog):
    return [f"{r.name}: {r.getMessage()}" for r in caplog.records if r.levelno >= logging.ERROR]


def test_the_walk_finds_the_routes_it_should():
    rules = {rule for rule, _ in NUMBERED_ROUTES}
    assert len(rules) > 50
    assert {"/<compound>/n/<int:notice_id>", "/<compound>/topics/<int:topic_id>/results",
            "/<compound>/screen/<key>/item/<area>/<item:item_id>"} <= rules


@pytest.mark.parametrize("number", [HUGE, JUST_TOO_BIG, "0" * 30 + "1" + "0" * 30])
def test_every_route_with_a_number_in_its_path_answers_not_found_for_a_number_no_column_holds(
        app, world, caplog, number):
    """The chair of maple (and the platform staff, for their routes) open every numbered route with a number
    that fits no id column: each is a calm 404 page (or 400), nothing is logged as an error."""
    caplog.set_level(logging.WARNING)
    chair, staff = app.test_client(), app.test_client()
    login_as(chair, world.chair)
    login_as(staff, world.platform)
    problems = []
    for rule_text, method in NUMBERED_ROUTES:
        rule = find_rule(rule_text)
        values = dict(world.values, **{arg: number for arg in numbered(rule)})
        fixed = {arg: sorted(c.items)[0] for arg, c in rule._converters.items() if hasattr(c, "items")}
        path = fill(rule_text, values, fixed)
        client = staff if rule_text.startswith("/admin/platform") else chair
        response = request_as(client, method, path, values)
        text = response.get_data(as_text=True)
        if response.status_code not in (400, 404) or traceback_signs(text):
            problems.append(f"{method} {path}: {response.status_code}")
    assert not problems, "\n".join(problems)
    assert not errors_logged(caplog)


def test_the_largest_id_a_column_holds_is_an_ordinary_not_found(app, world, caplog):
    chair = app.test_client()
    login_as(chair, world.chair)
    for path in (f"/maple/n/{LARGEST}", f"/maple/topics/{LARGEST}/results", f"/admin/maple/ledger/entries/{LARGEST}"):
        assert chair.get(path).status_code == 404, path
    assert not errors_logged(caplog)


def query_paths(values):
    """Pages that read a whole number from their query string, with {n} where the number goes."""
    period = values["period_id"].pick("ledger_admin.period") if hasattr(values["period_id"], "pick") \
        else values["period_id"]
    return [
        f"/maple/ledger/{period}?page={{n}}",
        f"/admin/maple/ledger/periods/{period}?page={{n}}",
        "/admin/maple/households/?page={n}",
        "/admin/maple/audit?page={n}",
        "/admin/maple/topics/new?from_proposal={n}",
        "/maple/pulse?v={n}",
        "/maple/pulse?v=1&s={n}",
        "/maple/pulse?v={n}&s={n}",
    ]


@pytest.mark.parametrize("number", [HUGE, "-" + HUGE, JUST_TOO_BIG, LARGEST, "1" * 5000])
def test_a_number_too_large_in_the_query_string_is_ignored_calmly(app, world, caplog, number):
    """?page=, ?v=, ?s=, ?from_proposal= with a number no column holds: the page as if it were not given
    (or a calm "not found"), nothing logged as an error."""
    caplog.set_level(logging.WARNING)
    chair = app.test_client()
    login_as(chair, world.chair)
    for template in query_paths(world.values):
        path = template.format(n=number)
        response = chair.get(path)
        assert response.status_code in (200, 404), (path[:120], response.status_code)
        assert not traceback_signs(response.get_data(as_text=True)), path[:120]
    assert not errors_logged(caplog)


def test_a_form_number_too_large_is_refused_like_a_word(app):
    """request.form.get(..., type=int) gives the default for a huge number, as for "abc"."""
    with app.test_request_context("/", method="POST", data={"household_id": HUGE, "page": "12"},
                                  query_string={"page": JUST_TOO_BIG}):
        from flask import request

        assert request.form.get("household_id", type=int) is None
        assert request.form.get("page", type=int) == 12
        assert request.args.get("page", 1, type=int) == 1
