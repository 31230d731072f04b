"""整改通知书: issue (numbered once) and print on A4 with the workshop's QR code."""

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_login import current_user

from shifangbang import notices, qr
from shifangbang.models import Inspection

from ..auth import role_required
from ..helpers import get_visible

bp = Blueprint("admin_notices", __name__, url_prefix="/admin/programme/notices")


@bp.post("/<int:inspection_id>")
@role_required("admin", "officer")
def issue(inspection_id: int):
    i = get_visible(Inspection, inspection_id)
    try:
        notices.issue(current_user, i)
    except notices.NoticeError as e:
        flash(str(e), "error")
        return redirect(url_for("admin_inspections.show", inspection_id=i.id))
    return redirect(url_for(".print_view", inspection_id=i.id))


@bp.get("/<int:inspection_id>")
@role_required()
def print_view(inspection_id: int):
    i = get_visible(Inspection, inspection_id)
    notice = notices.for_inspection(i)
    if notice is None:
        flash("该次检查尚未下达整改通知书。", "error")
        return redirect(url_for("admin_inspections.show", inspection_id=i.id))
    return render_template(
        "admin/programme/notice_print.html",
        n=notice,
        i=i,
        w=i.workshop,
        items=notices.items(i),
        svg=qr.svg(qr.page_url(i.workshop.public_code)),
    )
