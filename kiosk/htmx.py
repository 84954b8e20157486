"""One place that decides fragment or full page, and merges events into HX-Trigger."""
import json

from flask import make_response, render_template, request


def wants_fragment():
    """Return whether this request should get a partial: an htmx request that is not a boosted navigation."""
    return bool(request.htmx) and not request.htmx.boosted and not request.htmx.history_restore_request


def render(page, fragment, status=200, **context):
    """Render the fragment for htmx requests and the full page otherwise, varying on HX-Request."""
    template = fragment if wants_fragment() else page
    response = make_response(render_template(template, **context), status)
    response.vary.add("HX-Request")
    return response


def trigger(response, *events, **events_with_detail):
    """Merge event names (and events with detail) into the response's HX-Trigger header."""
    current = response.headers.get("HX-Trigger")
    merged = {}
    if current:
        try:
            merged = json.loads(current)
        except ValueError:
            merged = {name.strip(): None for name in current.split(",") if name.strip()}
    for name in events:
        merged.setdefault(name, None)
    merged.update(events_with_detail)
    response.headers["HX-Trigger"] = json.dumps(merged, ensure_ascii=False)
    return response
