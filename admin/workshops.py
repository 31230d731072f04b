"""Back office: the workshop registry — list, create, edit, status, import and export."""

import base64
import binascii
import hashlib

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from shifangbang import access, registry, workshops
from shifangbang.extensions import db, limiter
from shifangbang.labels import CLOSED_STATUSES, SEVEN_IN_PLACE, WORKSHOP_STATUS
from shifangbang.models import Workshop
from shifangbang.timeutil import today

from .auth import role_required
from .confirm import confirm_first

bp = Blueprint("admin_workshops", __name__, url_prefix="/admin/workshops")

PER_PAGE = 50
FORM_FIELDS = (
    "name",
    "cert_type",
    "cert_no",
    "operator_name",
    "operator_phone",
    "operator_id_no",
    "address",
    "station_id",
    "varieties",
    "valid_from",
    "valid_to",
    "lat",
    "lng",
    "safety_manager",
    "plate_no",
    "trademark",
    "time_honoured",
    "geo_indication",
    "intangible_heritage",
    "regional_brand",
    "pledge_signed_on",
    "additives",
)
STAFF_ROWS_EXTRA = 3


def _load(workshop_id: int, action: str = "view"):
    try:
        return registry.get_workshop(current_user, workshop_id, action)
    except access.Forbidden:
        raise
    except registry.RegistryError:
        abort(404)


def _form_data(form) -> dict:
    """The posted form as registry.clean() input (also re-shown as typed when invalid)."""
    data = {key: form.get(key, "") for key in FORM_FIELDS}
    data["category_ids"] = form.getlist("category_ids")
    data["seven_in_place"] = form.getlist("seven_in_place")
    staff, i = [], 0
    while f"staff-{i}-name" in form and i < 200:
        staff.append(
            {
                "name": form.get(f"staff-{i}-name", ""),
                "role": form.get(f"staff-{i}-role", ""),
                "health_cert_expires": form.get(f"staff-{i}-expires", ""),
            }
        )
        i += 1
    data["staff"] = staff
    return data


def _values_of(w) -> dict:
    data = {key: getattr(w, key) for key in FORM_FIELDS}
    data = {k: ("" if v is None else v) for k, v in data.items()}
    for key in ("valid_from", "valid_to", "pledge_signed_on"):
        data[key] = data[key].isoformat() if data[key] else ""
    data["time_honoured"] = "1" if w.time_honoured else ""
    data["category_ids"] = [str(c.id) for c in w.categories]
    data["seven_in_place"] = [k for k, v in (w.seven_in_place or {}).items() if v]
    data["staff"] = [
        {
            "name": s.name,
            "role": s.role,
            "health_cert_expires": s.health_cert_expires.isoformat()
            if s.health_cert_expires
            else "",
        }
        for s in w.staff
    ]
    return data


def _render_form(
    values: dict, errors: dict | None = None, workshop=None, version=None, current=None, status=200
):
    staff = (
        list(values.get("staff") or [])
        + [{"name": "", "role": "", "health_cert_expires": ""}] * STAFF_ROWS_EXTRA
    )
    return render_template(
        "admin/workshop_form.html",
        v=values,
        errors=errors or {},
        workshop=workshop,
        version=version,
        stations=registry.stations_for(current_user),
        categories=registry.categories(),
        staff=staff,
        chosen_categories=set(map(str, values.get("category_ids") or [])),
        chosen_seven=set(values.get("seven_in_place") or []),
        seven=SEVEN_IN_PLACE,
        current=current,
    ), status


@bp.get("")
@role_required()
def index():
    filters = registry.Filters.from_args(request.args)
    page = max(1, request.args.get("page", 1, type=int))
    pagination = db.paginate(
        registry.list_query(current_user, filters), page=page, per_page=PER_PAGE, error_out=False
    )
    return render_template(
        "admin/workshops.html",
        pagination=pagination,
        filters=filters,
        args=filters.as_args(),
        stations=registry.stations_for(current_user),
        categories=registry.categories(),
        statuses=WORKSHOP_STATUS,
        can_write=access.can(current_user, "create"),
    )


@bp.route("/new", methods=["GET", "POST"])
@role_required()
def create():
    access.require(current_user, "create")
    if request.method == "GET":
        own = current_user.jurisdiction_id if current_user.role != "admin" else ""
        return _render_form({"cert_type": "", "station_id": own or "", "seven_in_place": []})[0]
    values = _form_data(request.form)
    try:
        w = registry.create_workshop(current_user, values)
    except registry.ValidationError as e:
        flash(f"有 {len(e.errors)} 处需要修改，请看标红的提示。", "error")
        return _render_form(values, e.errors, status=422)
    flash(f"已建档：{w.name}（公示码 {w.public_code}）。", "success")
    return redirect(url_for(".show", workshop_id=w.id))


@bp.get("/<int:workshop_id>")
@role_required()
def show(workshop_id: int):
    w = _load(workshop_id)
    return render_template(
        "admin/workshop.html",
        w=w,
        seven=SEVEN_IN_PLACE,
        can_edit=access.can(current_user, "edit", w.station_id),
        statuses=WORKSHOP_STATUS,
        links=workshops.record_links(current_user, w),
    )


@bp.route("/<int:workshop_id>/edit", methods=["GET", "POST"])
@role_required()
def edit(workshop_id: int):
    w = _load(workshop_id, "edit")
    if request.method == "GET":
        return _render_form(_values_of(w), workshop=w, version=w.version)[0]
    values = _form_data(request.form)
    try:
        registry.update_workshop(current_user, workshop_id, values, request.form.get("version"))
    except registry.ConflictError as e:
        # Keep what the user typed; show what is saved now; the next save is a deliberate overwrite.
        w = _load(workshop_id, "edit")
        flash(str(e), "error")
        return _render_form(
            values, workshop=w, version=w.version, current=_values_of(w), status=409
        )
    except registry.ValidationError as e:
        flash(f"有 {len(e.errors)} 处需要修改，请看标红的提示。", "error")
        w = _load(workshop_id, "edit")
        return _render_form(
            values, e.errors, workshop=w, version=request.form.get("version"), status=422
        )
    flash("已保存。", "success")
    return redirect(url_for(".show", workshop_id=workshop_id))


def _ask_close(workshop_id: int):
    w = db.session.get(Workshop, workshop_id)
    label = WORKSHOP_STATUS.get(request.form.get("status", ""))
    if w is None or request.form.get("status") not in CLOSED_STATUSES:
        return None
    return f"改为{label}", f"“{w.name}”将标为“{label}”，公示页面随即显示，不再列入榜单。"


@bp.route("/<int:workshop_id>/status", methods=["GET", "POST"])
@role_required()
@confirm_first(_ask_close)
def status(workshop_id: int):
    w = _load(workshop_id, "change_status")
    values = {"status": "", "on": today().isoformat(), "reason": ""}
    errors, code = {}, 200
    if request.method == "POST":
        values = {k: request.form.get(k, "") for k in values}
        try:
            registry.change_status(
                current_user,
                workshop_id,
                values["status"],
                values["on"],
                values["reason"],
                request.form.get("version"),
            )
        except registry.ConflictError as e:
            flash(str(e), "error")
            w, code = _load(workshop_id, "change_status"), 409
        except registry.ValidationError as e:
            errors, code = e.errors, 422
        else:
            flash(f"状态已改为“{WORKSHOP_STATUS[values['status']]}”。", "success")
            return redirect(url_for(".show", workshop_id=workshop_id))
    return render_template(
        "admin/workshop_status.html", w=w, v=values, errors=errors, statuses=WORKSHOP_STATUS
    ), code


# --- import and export ----------------------------------------------------------------------------


@bp.route("/import", methods=["GET", "POST"])
@role_required()
@limiter.limit("20 per minute", methods=["POST"])
def import_sheet():
    """Upload → dry-run report → confirm. The file rides in the confirm form (servers keep no state)
    and is checked again on confirm, so nothing unchecked is ever imported."""
    access.require(current_user, "import")
    if request.method == "GET":
        return render_template(
            "admin/workshop_import.html",
            columns=registry.COLUMNS,
            required=registry.REQUIRED_COLUMNS,
            report=None,
        )
    if request.form.get("payload"):
        filename = request.form.get("filename", "")
        try:
            content = base64.b64decode(request.form["payload"], validate=True)
        except (binascii.Error, ValueError):
            abort(400)
    else:
        upload = request.files.get("file")
        if upload is None or not upload.filename:
            flash("请选择要导入的 .xlsx 或 .csv 文件。", "error")
            return redirect(url_for(".import_sheet"))
        filename, content = upload.filename, upload.read()
    confirm = request.form.get("confirm") == "1"
    try:
        rows = registry.read_sheet(filename, content)
        report = (
            registry.import_rows(current_user, rows)
            if confirm
            else registry.dry_run(current_user, rows)
        )
    except registry.ImportFileError as e:
        flash(str(e), "error")
        return render_template(
            "admin/workshop_import.html",
            columns=registry.COLUMNS,
            required=registry.REQUIRED_COLUMNS,
            report=None,
        ), 422
    if report.applied:
        flash(
            f"导入完成：新增 {report.created} 家，更新 {report.updated} 家，{report.unchanged} 家无变化。",
            "success",
        )
        return redirect(url_for(".index"))
    return render_template(
        "admin/workshop_import.html",
        columns=registry.COLUMNS,
        required=registry.REQUIRED_COLUMNS,
        report=report,
        filename=filename,
        payload=base64.b64encode(content).decode(),
        digest=hashlib.sha256(content).hexdigest()[:12],
    ), (200 if report.ok else 422)


@bp.get("/import/template.csv")
@role_required()
def import_template():
    return Response(
        registry.template_csv(current_user),
        mimetype="text/csv",
        headers={
            "Content-Disposition": "attachment; filename*=UTF-8''%E5%AF%BC%E5%85%A5%E6%A8%A1%E6%9D%BF.csv"
        },
    )


@bp.get("/export.<fmt>")
@role_required()
@limiter.limit("30 per minute")
def export(fmt: str):
    filters = registry.Filters.from_args(request.args)
    stamp = today().strftime("%Y%m%d")
    if fmt == "csv":
        body, mime = registry.export_csv(current_user, filters), "text/csv"
    elif fmt == "xlsx":
        body = registry.export_xlsx(current_user, filters)
        mime = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    else:
        abort(404)
    return Response(
        body,
        mimetype=mime,
        headers={"Content-Disposition": f"attachment; filename=workshops-{stamp}.{fmt}"},
    )
