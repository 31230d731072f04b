"""The change log that every server's search index follows (docs/architecture.md).

Domain functions call `touch()` for each workshop whose public face they changed, inside their
own transaction, so the log entry commits (or rolls back) together with the change itself. A
change that several workshops show (a station or a title renamed) calls `touch_where()` once.
"""

from sqlalchemy import insert, select, update

from . import wechat_outbox
from .extensions import db
from .models import ChangeLog, Workshop
from .timeutil import utcnow


def touch(workshop: Workshop) -> None:
    """Record that `workshop`'s public data changed: bumps its ETag time and logs it for the index."""
    workshop.public_changed_at = utcnow()
    db.session.flush()  # a new workshop needs its id
    db.session.add(ChangeLog(workshop_id=workshop.id))
    wechat_outbox.workshop_changed(workshop)  # subscribers to its tier, titles or state


def touch_where(*criteria) -> int:
    """touch() for every workshop matching `criteria` (SQL expressions on Workshop), in two
    statements whatever their number: their pages, ETags, posters and index entries follow."""
    ids = list(db.session.scalars(select(Workshop.id).where(*criteria)))
    if ids:
        now = utcnow()
        db.session.execute(
            update(Workshop)
            .where(Workshop.id.in_(ids))
            .values(public_changed_at=now)
            .execution_options(synchronize_session="fetch")
        )
        db.session.execute(insert(ChangeLog), [{"workshop_id": i, "at": now} for i in ids])
    return len(ids)  # a rename changes no tier, title or state: no subscriber message
