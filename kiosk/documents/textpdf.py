"""A tiny writer of plain text PDFs (one font, lines of Chinese or Latin text per page), for the demo and tests.

The text uses the Adobe standard CJK font STSong-Light with the UniGB-UCS2-H encoding, which PDF readers
(PDFium too) know without an embedded font file: the pages render with a system font and their text extracts.
`pages` is a list of pages, each a list of lines. `extra_catalog` and `extra_objects` let tests add hostile
parts (an OpenAction, a names tree) to an otherwise ordinary file.
"""


def _hex_utf16(text):
    """A PDF hex string of `text` in UCS-2 big-endian (what UniGB-UCS2-H expects)."""
    return "<" + text.encode("utf-16-be").hex().upper() + ">"


def _content(lines, size=16, top=800, left=56):
    """The content stream drawing `lines` from the top of an A4 page."""
    parts = ["BT", f"/F1 {size} Tf", f"{size + 8} TL", f"{left} {top} Td"]
    for line in lines:
        parts.append(f"{_hex_utf16(line)} Tj T*")
    parts.append("ET")
    return "\n".join(parts).encode("ascii")


def build(pages, extra_catalog="", extra_objects=()):
    """Return the bytes of a PDF whose pages hold the given lines (objects numbered from 1, a correct xref)."""
    objects = []  # bodies, object n at index n-1

    def add(body):
        objects.append(body)
        return len(objects)

    catalog = add(b"")  # filled in once the pages tree exists
    pages_obj = add(b"")
    font = add(b"<< /Type /Font /Subtype /Type0 /BaseFont /STSong-Light /Encoding /UniGB-UCS2-H "
               b"/DescendantFonts [<< /Type /Font /Subtype /CIDFontType0 /BaseFont /STSong-Light "
               b"/CIDSystemInfo << /Registry (Adobe) /Ordering (GB1) /Supplement 2 >> "
               b"/FontDescriptor << /Type /FontDescriptor /FontName /STSong-Light /Flags 6 "
               b"/FontBBox [-25 -254 1000 880] /ItalicAngle 0 /Ascent 880 /Descent -120 /CapHeight 880 "
               b"/StemV 93 >> >>] >>")
    kids = []
    for lines in pages:
        stream = _content(lines)
        content = add(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
        kids.append(add(b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 595 842] "
                        b"/Resources << /Font << /F1 %d 0 R >> >> /Contents %d 0 R >>" % (pages_obj, font, content)))
    for body in extra_objects:
        add(body if isinstance(body, bytes) else body.encode("latin-1"))
    objects[catalog - 1] = (f"<< /Type /Catalog /Pages {pages_obj} 0 R {extra_catalog}>>").encode("latin-1")
    objects[pages_obj - 1] = (f"<< /Type /Pages /Kids [{' '.join(f'{k} 0 R' for k in kids)}] "
                              f"/Count {len(kids)} >>").encode("latin-1")
    return assemble(objects, catalog)


def assemble(objects, root=1):
    """Bytes of a PDF from object bodies (object n = objects[n-1]) with a correct cross-reference table."""
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root %d 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, root, xref)
    return bytes(out)
