"""练习 on every page of a practice compound (issue 17): the route walk of tests/security_support.py, with the
victim compound turned into a practice compound, finds the banner on every page and X-Robots-Tag: noindex on
every answer."""
import pytest

from kiosk.extensions import db

from security_support import app, by_blueprint, fill, find_rule, rule_variants, world  # noqa: F401
from test_security_web import HTMX, STATIC_VALUES, viewers

BANNER = "练习小区 · 数据不作数"


def compound_rule(rule):
    """A GET route that shows one compound: by its slug, a screen's key or a household card's token."""
    if rule.rule.startswith("/admin/platform"):
        return False
    return bool({"compound", "key", "token"} & set(rule.arguments))


# Banners do not depend on the database engine: the walk runs on SQLite only.
@pytest.mark.sqlite_only
@pytest.mark.parametrize("variants", by_blueprint(rule_variants(compound_rule, methods=("GET",))))
def test_every_page_of_a_practice_compound_carries_the_banner(app, world, variants):
    """Every page (phone, admin, print, lobby screen) of a practice compound shows 练习小区 · 数据不作数, to a
    passer-by, a resident with a card and platform staff; every answer but a redirect says noindex."""
    world.maple.practice_of = world.oak.id  # maple is now oak's practice compound (its staff see every page)
    db.session.commit()
    clients = viewers(app, world)
    clients.pop("chair")  # the chair holds no role in oak, so opening practice pages would take maple from them
    problems, pages = [], 0
    for param in variants:
        rule, method, fixed = param.values
        path = fill(rule, dict(world.values, **STATIC_VALUES), fixed)
        for who, client in clients.items():
            for headers in ({}, HTMX):
                response = client.get(path, headers=headers)
                label = f"{who} {path} {headers or ''} -> {response.status_code}"
                redirected_or_missing = response.status_code in (301, 302, 303, 404)
                if response.headers.get("X-Robots-Tag") != "noindex" and not redirected_or_missing:
                    problems.append(f"{label}: no X-Robots-Tag: noindex")
                html = response.get_data(as_text=True) if response.mimetype == "text/html" else ""
                if response.status_code == 200 and "<html" in html:
                    pages += 1
                    if BANNER not in html:
                        problems.append(f"{label}: no 练习 banner ({find_rule(rule).endpoint})")
    assert not problems, "\n".join(problems)
    assert pages or all("<" in p.values[0] for p in variants)
