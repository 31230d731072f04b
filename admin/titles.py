"""示范称号: grants, revocation proposals to confirm or dismiss, grant and title forms, review."""

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from shifangbang import labels, titles
from shifangbang.errors import DomainError
from shifangbang.extensions import db
from shifangbang.models import RevocationProposal, Title, TitleGrant, Workshop

from .auth import role_required
from .confirm import confirm_first
from .helpers import (
    InputError,
    find_workshop,
    get_visible,
    local_path,
    parse_date,
    posted,
    scope,
)

bp = Blueprint("admin_titles", __name__, url_prefix="/admin/titles")


def _page(form=None, error=None):
    ids = scope()
    status = request.args.get("status", "held")
    gq = (
        select(TitleGrant)
        .join(Workshop, Workshop.id == TitleGrant.workshop_id)
        .options(selectinload(TitleGrant.workshop), selectinload(TitleGrant.title))
        .order_by(TitleGrant.granted_on.desc(), TitleGrant.id.desc())
        .limit(300)
    )
    pq = (
        select(RevocationProposal)
        .join(TitleGrant, TitleGrant.id == RevocationProposal.grant_id)
        .join(Workshop, Workshop.id == TitleGrant.workshop_id)
        .where(RevocationProposal.status == "pending")
        .options(
            selectinload(RevocationProposal.grant).selectinload(TitleGrant.workshop),
            selectinload(RevocationProposal.grant).selectinload(TitleGrant.title),
        )
        .order_by(RevocationProposal.created_at)
    )
    if status in labels.GRANT_STATUS:
        gq = gq.where(TitleGrant.status == status)
    if ids is not None:
        gq, pq = gq.where(Workshop.station_id.in_(ids)), pq.where(Workshop.station_id.in_(ids))
    return render_template(
        "admin/titles/index.html",
        grants=list(db.session.scalars(gq)),
        proposals=list(db.session.scalars(pq)),
        status=status,
        form=form or {},
        error=error,
        titles=list(db.session.scalars(select(Title).order_by(Title.name))),
    )


@bp.get("/")
@role_required()
def index():
    return _page()


@bp.post("/grant")
@role_required("admin")
def grant():
    form = request.form
    try:
        w = find_workshop(form.get("workshop"))
        if w is None:
            raise InputError("找不到该作坊，请核对公示码或登记证号。")
        title = db.session.get(Title, int(form.get("title_id") or 0))
        if title is None:
            raise InputError("请选择称号。")
        titles.grant(
            current_user,
            w,
            title,
            parse_date(form.get("granted_on"), "授予日期"),
            form.get("certificate_no", ""),
        )
    except DomainError as e:
        return _page(form, str(e)), 422
    flash(f"已向 {w.name} 授予“{title.name}”。", "success")
    return redirect(url_for(".index"))


@bp.post("/new-title")
@role_required("admin")
def new_title():
    try:
        t = titles.create_title(
            current_user,
            request.form.get("name"),
            request.form.get("authority"),
            request.form.get("level"),
        )
    except DomainError as e:
        return _page(request.form, str(e)), 422
    flash(f"已添加称号“{t.name}”。", "success")
    return redirect(url_for(".index"))


@bp.route("/kinds/<int:title_id>", methods=["GET", "POST"])
@role_required("admin")
def edit_title(title_id: int):
    """Rename a title, or correct its authority or level: every page showing it follows."""
    title = db.session.get(Title, title_id)
    if title is None:
        abort(404)
    typed, error, done = posted(
        ("name", "authority", "level"), lambda **v: titles.update_title(current_user, title, **v)
    )
    if done:
        flash(f"已保存称号“{title.name}”，公示页面随即更新。", "success")
        return redirect(url_for(".index"))
    held = db.session.scalar(
        select(func.count())
        .select_from(TitleGrant)
        .where(TitleGrant.title_id == title.id, TitleGrant.status == "held")
    )
    page = render_template("admin/titles/title.html", t=title, typed=typed, error=error, held=held)
    return page, 422 if error else 200


@bp.post("/proposals/<int:proposal_id>")
@role_required("admin")
@confirm_first(lambda proposal_id: _ask_revoke(proposal_id))
def decide(proposal_id: int):
    p = get_visible(RevocationProposal, proposal_id, workshop_of=lambda o: o.grant.workshop)
    try:
        if request.form.get("action") == "confirm":
            titles.confirm(current_user, p, request.form.get("note", ""))
            flash(f"已撤销 {p.grant.workshop.name} 的“{p.grant.title.name}”。", "success")
        else:
            titles.dismiss(current_user, p, request.form.get("note", ""))
            flash("已驳回该撤销建议。", "success")
    except titles.TitleError as e:
        db.session.rollback()
        return _show_page(p.grant, {p.id: request.form}, str(e)), 422
    return redirect(local_path(request.form.get("back"), url_for(".index")))


def _ask_revoke(proposal_id: int):
    p = db.session.get(RevocationProposal, proposal_id)
    if p is None or request.form.get("action") != "confirm":
        return None
    return (
        "确认撤销",
        f"将撤销“{p.grant.workshop.name}”的“{p.grant.title.name}”称号"
        f"（{labels.REVOCATION_RULES.get(p.rule, p.rule)}），公示页面随即显示。",
    )


@bp.get("/grants/<int:grant_id>")
@role_required()
def show(grant_id: int):
    return _show_page(get_visible(TitleGrant, grant_id))


def _show_page(g, kept=None, error=None):
    """A grant's page; a refused form is shown again with what was typed."""
    proposals = list(
        db.session.scalars(
            select(RevocationProposal)
            .where(RevocationProposal.grant_id == g.id)
            .order_by(RevocationProposal.created_at.desc())
        )
    )
    return render_template(
        "admin/titles/show.html",
        g=g,
        proposals=proposals,
        findings=titles.evaluate(g),
        kept=kept or {},
        error=error,
    )


@bp.post("/grants/<int:grant_id>/review")
@role_required("admin")
def review(grant_id: int):
    g = get_visible(TitleGrant, grant_id)
    try:
        p = titles.review(current_user, g)
    except titles.TitleError as e:
        flash(str(e), "error")
    else:
        flash(
            "已完成年度复核。"
            + (
                f"规则提示应撤销（{labels.REVOCATION_RULES[p.rule]}），已生成撤销建议。"
                if p
                else "未发现撤销情形。"
            ),
            "success",
        )
    return redirect(url_for(".show", grant_id=g.id))


@bp.post("/grants/<int:grant_id>/flag")
@role_required("admin")
def flag(grant_id: int):
    g = get_visible(TitleGrant, grant_id)
    try:
        titles.flag(current_user, g, request.form.get("kind", ""), request.form.get("note", ""))
        p = titles.propose_revocations(g, actor=current_user)
    except titles.TitleError as e:
        db.session.rollback()
        return _show_page(g, {"flag": request.form}, str(e)), 422
    flash("已登记。" + ("已生成撤销建议，待确认。" if p else ""), "success")
    return redirect(url_for(".show", grant_id=g.id))
