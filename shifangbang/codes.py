"""Public codes: the short, permanent, unguessable part of a workshop's QR URL (/w/<code>)."""

import secrets

from sqlalchemy import select

from .extensions import db
from .models import Workshop

# No 0/O, 1/I/L, U/V: read aloud over the phone or copied from a faded poster without confusion.
ALPHABET = "ABCDEFGHJKMNPQRSTWXYZ23456789"
LENGTH = 8  # 29**8 ≈ 5·10^11 codes: cannot be enumerated, and the URL stays under 40 characters
MAX_LENGTH = 10  # Workshop.public_code is String(10)


def generate(length: int = LENGTH) -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(length))


def new_public_code(attempts: int = 20) -> str:
    """A code no workshop has yet. Call it once when a workshop is created; never change a code.

    The unique constraint on Workshop.public_code still guards a race between two creators.
    """
    for _ in range(attempts):
        code = generate()
        if db.session.scalar(select(Workshop.id).where(Workshop.public_code == code)) is None:
            return code
    raise RuntimeError("could not find a free public code")  # only if the space is nearly full


def normalise(code: str) -> str:
    """What a person typed from a poster (lower case, stray spaces) → the stored form."""
    return code.strip().upper()
