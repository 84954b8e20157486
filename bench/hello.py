"""The benchmark's baseline: a bare WSGI "hello world" (no Flask), served under the same waitress settings.

bench/run.py starts it with `python -m waitress --listen=127.0.0.1:PORT --threads=N --ident=kiosk bench.hello:app`.
"""

BODY = b"hello world"
HEADERS = [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(BODY)))]


def app(environ, start_response):
    """Answer every request with 200 "hello world"."""
    start_response("200 OK", HEADERS)
    return [BODY]
