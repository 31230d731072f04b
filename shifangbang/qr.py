"""QR codes for workshop pages: error correction M, a 4-module quiet zone, the canonical URL."""

import io

import qrcode
from flask import current_app
from qrcode.constants import ERROR_CORRECT_M

BORDER = 4  # the quiet zone the QR standard asks for; phones fail on posters with less


def page_url(public_code: str, issue_no: int | None = None) -> str:
    """The canonical public URL; a poster adds its issue number so stale posters can be told."""
    url = f"{current_app.config['BASE_URL']}/w/{public_code}"
    return url if issue_no is None else f"{url}?p={issue_no}"


def _qr(data: str) -> qrcode.QRCode:
    qr = qrcode.QRCode(error_correction=ERROR_CORRECT_M, border=BORDER, box_size=10)
    qr.add_data(data)
    qr.make(fit=True)
    return qr


def svg(data: str, css_class: str = "qr") -> str:
    """A compact standalone/inline SVG: one path, horizontal runs per row, white background.

    Drawn from the library's module matrix (not its SVG factory) so the output is small enough
    to inline in posters and has an opaque quiet zone on any paper or screen.
    """
    rows = _qr(data).get_matrix()  # includes the quiet zone
    n = len(rows)
    parts = []
    for y, row in enumerate(rows):
        x = 0
        while x < n:
            if row[x]:
                start = x
                while x < n and row[x]:
                    x += 1
                parts.append(f"M{start} {y}h{x - start}v1h-{x - start}z")
            else:
                x += 1
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="{css_class}" viewBox="0 0 {n} {n}" '
        f'shape-rendering="crispEdges" role="img" aria-label="二维码"><rect width="{n}" height="{n}" '
        f'fill="#fff"/><path fill="#000" d="{"".join(parts)}"/></svg>'
    )


def png(data: str, box_size: int = 10) -> bytes:
    qr = _qr(data)
    qr.box_size = box_size
    out = io.BytesIO()
    qr.make_image(fill_color="black", back_color="white").save(out, format="PNG", optimize=True)
    return out.getvalue()
