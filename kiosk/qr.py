"""QR codes as compact SVG: opaque light background, a 4-module quiet zone, error correction Q."""
import functools

import qrcode
from flask import current_app, request
from qrcode.constants import ERROR_CORRECT_Q


def public_url(path):
    """Return the absolute URL residents' phones should open for a site path (KIOSK_PUBLIC_URL first)."""
    base = (current_app.config.get("PUBLIC_URL") or request.host_url).rstrip("/")
    return base + path


@functools.lru_cache(maxsize=1024)
def qr_svg(payload, title=""):
    """Return an SVG document of a QR code for payload; Q survives print smudges and a logo-free poster."""
    code = qrcode.QRCode(error_correction=ERROR_CORRECT_Q, border=4, box_size=1)
    code.add_data(payload)
    code.make(fit=True)
    matrix = code.get_matrix()
    size = len(matrix)
    runs = []
    for y, row in enumerate(matrix):
        x = 0
        while x < size:
            if row[x]:
                start = x
                while x < size and row[x]:
                    x += 1
                runs.append(f"M{start} {y}h{x - start}v1h-{x - start}z")
            else:
                x += 1
    label = f"<title>{_escape(title)}</title>" if title else ""
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {size} {size}" '
            f'shape-rendering="crispEdges" role="img">{label}'
            f'<rect width="{size}" height="{size}" fill="#fff"/>'
            f'<path fill="#000" d="{"".join(runs)}"/></svg>')


def _escape(text):
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
