"""The area protocol: how an area (notices, consultations, the ledger, ...) plugs into the application.

create_app walks its AREAS list and calls each area's init_app(app), which says everything the area brings:
- the names its changes are recorded under (`declare`): record_change refuses any other name, so a typo fails
  at once (in tests) instead of silently stopping the lobby screens from refreshing, and the screens' refresh
  events (screen/views.py area_event) are made from these names;
- its blueprints (`register_blueprints`) and template helpers (`template_helpers`, `template_filters`: two
  areas may not claim one name);
- what it adds to the parts it extends, each through that part's own register function, kept per app here
  (`register`, `registered`): lobby-screen slides (screen/registry.py), a section of the "our household"
  page (households/sections.py), images residents may see (media.py), pages the page cache may keep
  (pagecache.py), and work the clock decides (sweeper.py).
Nothing central lists what the areas have. `check` runs at the end of create_app: every registration names a
declared area, and every cacheable endpoint exists.
"""
from types import MappingProxyType

from flask import current_app

_KEY = "kiosk_areas"


class UnknownArea(ValueError):
    """A name no area declared (record_change with a typo, a slide for an area that does not exist)."""


def _state(app):
    return app.extensions.setdefault(_KEY, {"names": set(), "points": {}})


def declare(app, *names):
    """Declare the names an area records its changes under (usually one: the area's AREA constant)."""
    _state(app)["names"].update(names)


def declared(app=None):
    """Every declared area name."""
    return frozenset(_state(app or current_app)["names"])


def require(name, app=None):
    """Raise UnknownArea unless `name` was declared."""
    if name not in _state(app or current_app)["names"]:
        raise UnknownArea(f"no area declares {name!r}: declare it in the area's init_app (areas.declare)")


def register(app, point, area, item):
    """Add one area's `item` to an extension point (e.g. "slides"); an area registers once per point."""
    _state(app)["points"].setdefault(point, {})[area] = item


def registered(point, app=None):
    """{area: item} of an extension point (read-only)."""
    return MappingProxyType(_state(app or current_app)["points"].get(point, {}))


def register_blueprints(app, *blueprints):
    """Register an area's blueprints."""
    for blueprint in blueprints:
        app.register_blueprint(blueprint)


def _add_once(app, where, kind, helpers):
    for name, helper in helpers.items():
        if name in where and where[name] is not helper:
            raise ValueError(f"two areas define the template {kind} {name!r}")
        where[name] = helper


def template_helpers(app, **helpers):
    """Template globals an area's pages use; a name another area took already is refused."""
    _add_once(app, app.jinja_env.globals, "global", helpers)


def template_filters(app, **filters):
    """Template filters an area's pages use; a name another area took already is refused."""
    _add_once(app, app.jinja_env.filters, "filter", filters)


def check(app):
    """What create_app verifies once every area is in: each registration belongs to a declared area, and each
    endpoint an area lets the page cache keep exists."""
    names = _state(app)["names"]
    for point, items in _state(app)["points"].items():
        for area in items:
            if area not in names:
                raise UnknownArea(f"{point} registered for {area!r}, which no area declares")
    for area, endpoints in registered("cacheable", app).items():
        missing = [e for e in endpoints if e not in app.view_functions]
        if missing:
            raise ValueError(f"{area} lets the page cache keep endpoints that do not exist: {missing}")
