"""waitress, with the request framings a proxy in front could read differently refused (request smuggling).

waitress 3.0 lets Transfer-Encoding override Content-Length and then keeps the connection open, reads
`Transfer-Encoding: chunked, chunked` (or the header twice) as one chunked body, and frames an HTTP/1.0
request that says chunked by its Content-Length. A front end (nginx, a CDN) that frames such a request
the other way would pass a second, hidden request through on the same connection. RFC 9112 §6.1 and §6.3
allow refusing them; we do: 400, and waitress closes the connection after an error.
"""
from waitress.channel import HTTPChannel
from waitress.parser import HTTPRequestParser, ParsingError, get_header_lines
from waitress.rfc7230 import HEADER_FIELD_RE
from waitress.server import create_server


class StrictRequestParser(HTTPRequestParser):
    """waitress's request parser, refusing any Transfer-Encoding but a single `chunked` on HTTP/1.1 alone."""

    def parse_header(self, header_plus):
        super().parse_header(header_plus)
        codings = []
        for line in get_header_lines(header_plus.split(b"\r\n", 1)[1] if b"\r\n" in header_plus else b""):
            field = HEADER_FIELD_RE.match(line)
            if field and field.group("name").lower() == b"transfer-encoding":
                codings += [c.strip(b" \t").lower() for c in field.group("value").split(b",") if c.strip(b" \t")]
        if not codings:
            return
        if "CONTENT_LENGTH" in self.headers:
            raise ParsingError("Content-Length and Transfer-Encoding together")
        if self.version != "1.1" or codings != [b"chunked"]:
            raise ParsingError("Transfer-Encoding other than one chunked on HTTP/1.1")


class StrictChannel(HTTPChannel):
    parser_class = StrictRequestParser


def make_server(app, host, port, **options):
    """A waitress server (not yet running) that parses requests with StrictRequestParser."""
    server = create_server(app, host=host, port=port, **options)
    server.channel_class = StrictChannel
    return server
