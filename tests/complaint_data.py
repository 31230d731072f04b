"""Test helpers for complaints: a valid public form, and a few Pillow-made pictures."""

import io

from PIL import Image

from shifangbang import changes, complaints
from tests import factories

NAME, PHONE = "李秀英", "13812345678"
CONTENT = "昨天在这家作坊买的豆腐有酸味，吃了以后肚子疼，怀疑原料变质。"


def form(workshop=None, kind="complaint", **extra) -> dict:
    values = {
        "kind": kind,
        "category": "spoiled",
        "content": CONTENT,
        "product": "豆腐",
        "demand": "退款并道歉" if kind in ("complaint", "both") else "",
        "name": NAME,
        "phone": PHONE,
    }
    if workshop is not None:
        values["w"] = workshop.public_code
    values.update(extra)
    return values


def place():
    """Jurisdictions, a workshop at 西脑包所, and officers: one there, one at 南门外所, a viewer, an admin."""
    j = factories.jurisdictions()
    w = factories.workshop(j["xinaobao"])
    changes.touch(w)  # as the registry does: searches (the complaint form's too) find it
    return {
        **j,
        "workshop": w,
        "officer": factories.user("officer", j["xinaobao"]),
        "county_officer": factories.user("officer", j["donghe"]),
        "other_officer": factories.user("officer", j["nanmen"]),
        "viewer": factories.user("viewer", j["xinaobao"]),
        "admin": factories.user("admin"),
    }


def submit(
    workshop=None, kind="complaint", uploads=(), ip="10.0.0.1", **extra
) -> complaints.Receipt:
    return complaints.submit(form(workshop, kind, **extra), list(uploads), client_ip=ip)


def one(receipt, kind=None):
    from shifangbang.extensions import db
    from shifangbang.models import Complaint

    number = next(no for k, no, _ in receipt.items if kind is None or k == kind)
    return db.session.query(Complaint).filter_by(tracking_no=number).one()


def jpeg_with_gps(size=(2400, 1800), orientation: int | None = 6) -> bytes:
    """A JPEG carrying GPS coordinates, a camera model and (by default) an orientation tag."""
    img = Image.new("RGB", size, (200, 30, 30))
    img.paste((30, 30, 200), (0, 0, size[0] // 2, size[1] // 3))  # marks the top-left corner
    exif = Image.Exif()
    exif[0x010F] = "TestPhone"  # Make
    exif[0x0110] = "Model X"
    if orientation:
        exif[0x0112] = orientation
    gps = {1: "N", 2: (40.0, 39.0, 30.5), 3: "E", 4: (109.0, 50.0, 12.25)}
    exif[0x8825] = gps
    out = io.BytesIO()
    img.save(out, "JPEG", exif=exif.tobytes(), quality=90)
    return out.getvalue()


def png(size=(300, 200), mode="RGBA") -> bytes:
    out = io.BytesIO()
    Image.new(mode, size, (0, 128, 0, 128) if mode == "RGBA" else 0).save(out, "PNG")
    return out.getvalue()


def bomb() -> bytes:
    """A PNG of 10 000 × 10 000 pixels (100 MP) that compresses to a few kilobytes."""
    out = io.BytesIO()
    Image.new("1", (10_000, 10_000), 0).save(out, "PNG", optimize=True)
    return out.getvalue()
