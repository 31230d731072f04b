"""The change log that every server's search index follows (docs/architecture.md).

Domain functions call `touch()` for each workshop whose public face they changed, inside their
own transaction, so the log entry commits (or rolls back) together with the change itself.
"""

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
