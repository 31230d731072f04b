"""The regulator's complaints inbox: list, detail, workflow actions, identity on request, photos."""

from flask import (
    Blueprint,
    abort,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from sqlalchemy import select

from shifangbang import access, complaints, deadlines, wechat
from shifangbang.extensions import db
from shifangbang.labels import COMPLAINT_KIND, COMPLAINT_STATUS
from shifangbang.models import IN_SERVICE, Jurisdiction, User
from shifangbang.timeutil import today

from .auth import role_required
from .confirm import confirm_first

bp = Blueprint(
    "admin_complaints", __name__, url_prefix="/admin/complaints", template_folder="templates"
)


def _int(value, default=None):
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def _scope_jurisdictions() -> list[Jurisdiction]:
    scope = access.visible_jurisdiction_ids(current_user)
    q = (
        select(Jurisdiction)
        .where(Jurisdiction.level.in_(("county", "station")), IN_SERVICE)
        .order_by(Jurisdiction.code)
    )
    if scope is not None:
        q = q.where(Jurisdiction.id.in_(scope))
    return list(db.session.scalars(q))


def _scope_officers() -> list[User]:
    scope = access.visible_jurisdiction_ids(current_user)
    q = (
        select(User)
        .where(User.active.is_(True), User.role.in_(("officer", "admin")))
        .order_by(User.display_name)
    )
    if scope is not None:
        q = q.where(User.jurisdiction_id.in_(scope))
    return list(db.session.scalars(q))


@bp.get("")
@role_required()
def inbox():
    args = request.args
    f = complaints.InboxFilter(
        status=args.get("status", "" if args.get("q") else "open"),
        kind=args.get("kind", ""),
        jurisdiction_id=_int(args.get("jurisdiction")),
        overdue=args.get("overdue") == "1",
        due_soon=args.get("due_soon") == "1",
        assignee_id=_int(args.get("assignee")),
        q=(args.get("q") or "").strip()[:50],
        page=max(1, _int(args.get("page"), 1)),
    )
    items, total = complaints.inbox(current_user, f)
    pages = max(1, (total + f.per_page - 1) // f.per_page)
    query = {k: v for k, v in args.items() if k != "page" and v}
    return render_template(
        "admin/complaints/inbox.html",
        items=items,
        total=total,
        f=f,
        pages=pages,
        query=query,
        jurisdictions=_scope_jurisdictions(),
        officers=_scope_officers(),
        today=today(),
        statuses=COMPLAINT_STATUS,
        kinds=COMPLAINT_KIND,
        is_overdue=complaints.is_overdue,
        deadline_note=complaints.deadline_note,
        can_search_phone=access.can(current_user, "view_reporter"),
    )


def _load(complaint_id: int):
    c = complaints.get_for(current_user, complaint_id)
    if c is None:
        abort(404)
    return c


def _detail_page(
    c, identity=None, error: str | None = None, posted: dict | None = None, status: int = 200
):
    page = render_template(
        "admin/complaints/detail.html",
        c=c,
        identity=identity,
        error=error,
        posted=posted or {},
        posted_form=(posted or {}).get("_form"),
        events=complaints.events_for(c),
        photos=complaints.attachment_meta(c),
        related=complaints.related(c),
        actions=complaints.available_actions(current_user, c),
        can_handle=access.can(current_user, "handle_complaint", c.jurisdiction_id),
        can_identify=access.can(current_user, "view_reporter", c.jurisdiction_id),
        officers=complaints.assignable_officers(c)
        if access.can(current_user, "handle_complaint", c.jurisdiction_id)
        else [],
        targets=_scope_jurisdictions(),
        overdue=complaints.is_overdue(c),
        deadline_note=complaints.deadline_note(c),
        open=complaints.is_open(c),
        official_calendar=deadlines.has_official_calendar,
        wechat=wechat.officer_view(c),  # "已绑定微信", never the openid
    )
    return make_response(page, status)


@bp.get("/<int:complaint_id>")
@role_required()
def detail(complaint_id: int):
    return _detail_page(_load(complaint_id))


@bp.post("/<int:complaint_id>/identity")
@role_required()
def identity(complaint_id: int):
    """A POST (with CSRF) so that each reading is a deliberate act; it is audited."""
    c = _load(complaint_id)
    return _detail_page(c, identity=complaints.reporter_identity(current_user, c))


def _run(complaint_id: int, form_name: str, operation, success: str):
    c = _load(complaint_id)
    try:
        result = operation(c)
    except complaints.ComplaintError as e:
        db.session.rollback()
        c = _load(complaint_id)
        return _detail_page(
            c, error=str(e), posted=dict(request.form.to_dict(), _form=form_name), status=422
        )
    flash(success if not callable(success) else success(result), "success")
    return redirect(url_for(".detail", complaint_id=complaint_id))


def _ask_closing(complaint_id: int):
    """A step that ends the item (不予受理, 调解成功, 结案, 移送 …) cannot be undone: asked first,
    with the reply the complainant will read. A step the rules would refuse is not asked: the form
    comes back with the message at once."""
    form = request.form
    step = complaints.TRANSITIONS.get(form.get("action", ""))
    if step is None or step.target not in complaints.CLOSED_STATUSES:
        return None  # nothing to ask: no need to load the item or run the checks twice
    c = _load(complaint_id)
    try:
        t, _note, reply = complaints.check_transition(
            current_user,
            c,
            step.action,
            form.get("reason") or None,
            form.get("note", ""),
            form.get("public_reply"),
        )
    except complaints.ComplaintError:
        return None
    told = (
        f"投诉举报人查询时将看到答复：“{reply}”"
        if reply
        else "未填写对外答复：投诉举报人查询时只看到办理结果。"
    )
    return (
        f"{t.label}并办结 {c.tracking_no}",
        f"此件将以“{t.label}”办结，办结后不能再改动。{told}",
    )


@bp.post("/<int:complaint_id>/act")
@role_required()
@confirm_first(_ask_closing)
def act(complaint_id: int):
    form = request.form
    action = form.get("action", "")
    label = complaints.TRANSITIONS[action].label if action in complaints.TRANSITIONS else "操作"
    return _run(
        complaint_id,
        f"act-{action}",
        lambda c: complaints.transition(
            current_user,
            c,
            action,
            reason=form.get("reason") or None,
            note=form.get("note", ""),
            public_reply=form.get("public_reply"),
        ),
        f"已{label}。",
    )


@bp.post("/<int:complaint_id>/extend")
@role_required()
def extend(complaint_id: int):
    return _run(
        complaint_id,
        "extend",
        lambda c: complaints.extend(current_user, c, request.form.get("reason", "")),
        "已延长办理期限。",
    )


@bp.post("/<int:complaint_id>/assign")
@role_required()
def assign(complaint_id: int):
    def op(c):
        uid = _int(request.form.get("assignee"))
        assignee = db.session.get(User, uid) if uid else None
        if uid and assignee is None:
            raise complaints.ComplaintError("找不到该人员。")
        return complaints.assign(current_user, c, assignee)

    return _run(complaint_id, "assign", op, "已更新指派。")


@bp.post("/<int:complaint_id>/note")
@role_required()
def note(complaint_id: int):
    return _run(
        complaint_id,
        "note",
        lambda c: complaints.add_note(current_user, c, request.form.get("note", "")),
        "已添加内部备注。",
    )


@bp.post("/<int:complaint_id>/reply")
@role_required()
def reply(complaint_id: int):
    return _run(
        complaint_id,
        "reply",
        lambda c: complaints.reply(current_user, c, request.form.get("reply", "")),
        "已答复，投诉举报人可在查询页看到。",
    )


@bp.post("/<int:complaint_id>/finding")
@role_required()
def finding(complaint_id: int):
    verified = request.form.get("verified") == "1"

    def done(review):
        if review is not None:
            return "已记录：查实。已生成降榜复核建议，待县局决定。"
        return "已记录：查实。" if verified else "已记录：查无实据。"

    return _run(
        complaint_id,
        "finding",
        lambda c: complaints.record_finding(
            current_user, c, verified, request.form.get("note", "")
        ),
        done,
    )


@bp.post("/<int:complaint_id>/reroute")
@role_required()
def reroute(complaint_id: int):
    def op(c):
        target = db.session.get(Jurisdiction, _int(request.form.get("jurisdiction"), 0) or 0)
        if target is None:
            raise complaints.ComplaintError("请选择转交的所/中队。")
        return complaints.reroute(current_user, c, target, request.form.get("note", ""))

    return _run(complaint_id, "reroute", op, "已转交。")


@bp.get("/<int:complaint_id>/photos/<int:attachment_id>")
@role_required()
def photo(complaint_id: int, attachment_id: int):
    a = complaints.attachment_for(current_user, complaint_id, attachment_id)
    if a is None:
        abort(404)
    response = make_response(a.data)
    response.headers["Content-Type"] = a.mime
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Disposition"] = (
        f'inline; filename="complaint-{complaint_id}-{attachment_id}.jpg"'
    )
    return response
