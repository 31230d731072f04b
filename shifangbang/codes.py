"""Public codes printed in QR posters (/w/<code>): short, unguessable, permanent.

Minimal version written by the registry feature; the public-page feature owns this module.
"""
import secrets

from sqlalchemy import select

from .extensions import db
from .models import Workshop

# No 0/O, 1/I/L: read aloud or typed from a poster without mistakes.
ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
LENGTH = 8  # 31**8 ≈ 8.5e11: guessing a valid code is hopeless at any rate limit


def new_public_code() -> str:
    """A fresh code not used by any workshop (checked against the database)."""
    while True:
        code = "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))
        if db.session.scalar(select(Workshop.id).where(Workshop.public_code == code)) is None:
            return code
