"""整改通知书: the numbered rectification notice handed over after an inspection (DESIGN.md §2b).

Numbered per calendar year (…整改〔2026〕0007号) once, when first issued; reprinting shows the
same number. Its items are the inspection's ledger problems (一坊一策) with their deadlines.
"""

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from . import access, audit, current_deployment
from .errors import DomainError
from .extensions import db
from .models import Inspection, RectificationItem
from .programme_models import RectificationNotice
from .timeutil import today
from .tx import transactional


class NoticeError(DomainError):
    pass


def for_inspection(inspection: Inspection) -> RectificationNotice | None:
    return db.session.scalar(
        select(RectificationNotice).where(RectificationNotice.inspection_id == inspection.id)
    )


@transactional
def issue(actor, inspection: Inspection) -> RectificationNotice:
    """The inspection's notice, numbered now if it has none yet."""
    access.require(actor, "inspect", inspection.workshop.station_id)
    existing = for_inspection(inspection)
    if existing is not None:
        return existing
    if not inspection.rectification_required:
        raise NoticeError("该次检查结果为符合，无需下达整改通知书。")
    day = today()
    seq = (
        db.session.scalar(
            select(func.max(RectificationNotice.seq)).where(RectificationNotice.year == day.year)
        )
        or 0
    ) + 1
    prefix = current_deployment().bureau.short_name or "市场监管"
    notice = RectificationNotice(
        inspection_id=inspection.id,
        year=day.year,
        seq=seq,
        notice_no=f"{prefix}整改〔{day.year}〕{seq:04d}号",
        issued_on=day,
        issued_by_id=getattr(actor, "id", None),
    )
    db.session.add(notice)
    try:
        db.session.flush()
    except IntegrityError:
        raise NoticeError("编号被同时占用，请再试一次。") from None
    audit.record(
        actor,
        "notice.issue",
        "rectification_notice",
        notice.id,
        after={"inspection_id": inspection.id, "notice_no": notice.notice_no},
    )
    return notice


def items(inspection: Inspection) -> list[RectificationItem]:
    return list(
        db.session.scalars(
            select(RectificationItem)
            .where(RectificationItem.inspection_id == inspection.id)
            .order_by(RectificationItem.due_on, RectificationItem.id)
        )
    )
