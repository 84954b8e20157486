"""gzip for text responses, so a kiosk on a slow link loads quickly even without a proxy in front."""
import gzip

from flask import request

TYPES = frozenset({"text/html", "text/css", "text/javascript", "application/javascript", "application/json",
                   "image/svg+xml", "text/plain"})
MIN_SIZE = 1024
LEVEL = 6
_static_cache: dict[tuple, bytes] = {}


def _compressible(response):
    return (response.status_code == 200 and response.mimetype in TYPES
            and "gzip" in request.headers.get("Accept-Encoding", "")
            and "Content-Encoding" not in response.headers)


def compress(response):
    """gzip the body when the client accepts it; static files are compressed once and kept."""
    if not _compressible(response):
        return response
    response.vary.add("Accept-Encoding")
    if response.direct_passthrough:
        # A static file: key on its ETag (which changes with the file) so each version is compressed once.
        key = (request.path, response.get_etag()[0])
        body = _static_cache.get(key)
        if body is None:
            response.direct_passthrough = False
            body = gzip.compress(response.get_data(), compresslevel=LEVEL, mtime=0)
            if len(_static_cache) < 256:
                _static_cache[key] = body
        else:
            response.response = []
        etag = response.get_etag()[0]
        if etag:
            response.set_etag(etag + "-gz")
    else:
        data = response.get_data()
        if len(data) < MIN_SIZE:
            return response
        body = gzip.compress(data, compresslevel=LEVEL, mtime=0)
    response.direct_passthrough = False
    response.set_data(body)
    response.headers["Content-Encoding"] = "gzip"
    return response


def init_app(app):
    """Compress responses after every other after_request hook has run."""
    app.after_request(compress)
