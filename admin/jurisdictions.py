"""Back office: the jurisdiction tree's names, phones and addresses (bureau administrators only).

Every workshop page shows its station and county with their phone (where to complain), so a
renamed station or a new number is edited here and shows on every public page at once
(jurisdictions.update touches the workshops below it). A station closed in a reorganisation is
merged into another here (jurisdictions.merge)."""

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from shifangbang import access, jurisdictions
from shifangbang.extensions import db
from shifangbang.models import IN_SERVICE, Jurisdiction, JurisdictionMerge

from .auth import role_required
from .helpers import posted

bp = Blueprint("admin_jurisdictions", __name__, url_prefix="/admin/jurisdictions")


def _tree() -> list[tuple[int, Jurisdiction]]:
    """(depth, jurisdiction) in tree order: each under its parent, siblings by code."""
    rows = db.session.scalars(
        select(Jurisdiction)
        .options(selectinload(Jurisdiction.merge).joinedload(JurisdictionMerge.target))
        .order_by(Jurisdiction.code)
    ).all()
    children: dict[int | None, list[Jurisdiction]] = {}
    for j in rows:
        children.setdefault(j.parent_id, []).append(j)
    out: list[tuple[int, Jurisdiction]] = []
    stack = [(0, j) for j in reversed(children.get(None, []))]
    while stack:
        depth, j = stack.pop()
        out.append((depth, j))
        stack.extend((depth + 1, c) for c in reversed(children.get(j.id, [])))
    return out


@bp.get("")
@role_required("admin")
def index():
    access.require(current_user, "edit_jurisdiction")
    return render_template("admin/jurisdictions.html", tree=_tree())


def _found(jurisdiction_id: int) -> Jurisdiction:
    access.require(current_user, "edit_jurisdiction")
    j = db.session.get(Jurisdiction, jurisdiction_id)
    if j is None:
        abort(404)
    return j


@bp.route("/<int:jurisdiction_id>", methods=["GET", "POST"])
@role_required("admin")
def edit(jurisdiction_id: int):
    j = _found(jurisdiction_id)
    typed, error, done = posted(
        jurisdictions.FIELDS, lambda **v: jurisdictions.update(current_user, j, **v)
    )
    if done:
        flash(f"已保存：{j.name}。辖区内作坊的公示页面随即更新。", "success")
        return redirect(url_for(".index"))
    page = render_template("admin/jurisdiction.html", **_page(j), typed=typed, error=error)
    return page, 422 if error else 200


def _page(j: Jurisdiction, **merge_form) -> dict:
    """The edit page's merge section: for a station in service, what would move and where to."""
    if j.level != "station" or j.merge is not None:
        return {"j": j}
    targets = db.session.scalars(
        select(Jurisdiction)
        .where(Jurisdiction.level == "station", IN_SERVICE, Jurisdiction.id != j.id)
        .order_by(Jurisdiction.code)
    ).all()
    return {"j": j, "targets": targets, "moving": jurisdictions.merge_preview(j), **merge_form}


@bp.post("/<int:jurisdiction_id>/merge")
@role_required("admin")
def merge(jurisdiction_id: int):
    """机构改革: this station into another, as the bureau's document decides."""
    j = _found(jurisdiction_id)
    target = db.session.get(Jurisdiction, request.form.get("target_id", type=int) or 0)
    moved = {}
    typed, error, done = posted(
        ("document",),
        lambda document: moved.update(jurisdictions.merge(current_user, j, target, document)),
    )
    if done:
        flash(f"{j.name}已并入{target.name}：{jurisdictions.say_moved(moved)}。", "success")
        return redirect(url_for(".index"))
    merge_form = {"merge_error": error, "merge_typed": request.form}
    return render_template("admin/jurisdiction.html", **_page(j, **merge_form), typed={}), 422


@bp.route("/<int:parent_id>/new", methods=["GET", "POST"])
@role_required("admin")
def new(parent_id: int):
    """A county under a city, or a station under a county (a new 所 or 中队)."""
    parent = _found(parent_id)
    if parent.level not in ("city", "county"):
        abort(404)
    fields = ("code",) + jurisdictions.FIELDS
    typed, error, done = posted(fields, lambda **v: jurisdictions.create(current_user, parent, **v))
    if done:
        flash(f"已新增：{typed['name'].strip()}。", "success")
        return redirect(url_for(".index"))
    level = jurisdictions.CHILD_LEVEL[parent.level]
    page = render_template(
        "admin/jurisdiction_new.html", parent=parent, level=level, typed=typed, error=error
    )
    return page, 422 if error else 200
