"""Who may do what, where: role × own/other jurisdiction × action, through the HTTP views and
through the domain functions (authorisation lives in the domain, the views only pass it on)."""

import base64

import pytest
from sqlalchemy import func, select

from shifangbang import access, registry
from shifangbang.models import Workshop
from shifangbang.timeutil import today

from .registry_helpers import csv_bytes, domain_data, edit_form, form, login_as, sheet_row, world

ACTIONS = ["view", "create", "edit", "change_status", "import", "export"]
ROLES = ["admin", "officer", "viewer"]


def expected(role: str, where: str, action: str) -> bool:
    if role == "admin":
        return True
    if where == "other":
        return False
    return role == "officer" or action in ("view", "export")


def _target(w, where):
    return (w.own if where == "own" else w.other), w.stations[
        "xinaobao" if where == "own" else "kun1"
    ]


@pytest.mark.parametrize("action", ACTIONS)
@pytest.mark.parametrize("where", ["own", "other"])
@pytest.mark.parametrize("role", ROLES)
def test_http_matrix(app, db, role, where, action):
    w = world(db)
    user = getattr(w, role)
    client = login_as(app, user)
    workshop, station = _target(w, where)
    count = lambda: db.session.scalar(select(func.count(Workshop.id)))  # noqa: E731
    before = count()
    allow = expected(role, where, action)

    if action == "view":
        r = client.get(f"/admin/workshops/{workshop.id}")
        assert r.status_code == (200 if allow else 403)
        if allow:
            assert workshop.name in r.get_data(as_text=True)
        else:
            assert "没有权限" in r.get_data(as_text=True)
    elif action == "create":
        r = client.post("/admin/workshops/new", data=form(station, name="矩阵新建坊"))
        assert r.status_code == (302 if allow else 403), r.get_data(as_text=True)[:500]
        assert count() == before + (1 if allow else 0)
    elif action == "edit":
        r = client.post(
            f"/admin/workshops/{workshop.id}/edit", data=edit_form(workshop, name="矩阵改名")
        )
        assert r.status_code == (302 if allow else 403), r.get_data(as_text=True)[:500]
        db.session.expire_all()
        assert (db.session.get(Workshop, workshop.id).name == "矩阵改名") is allow
    elif action == "change_status":
        r = client.post(
            f"/admin/workshops/{workshop.id}/status",
            data={
                "status": "suspended",
                "on": today().isoformat(),
                "reason": "矩阵测试",
                "version": workshop.version,
                "confirmed": "1",
            },
        )
        assert r.status_code == (302 if allow else 403)
        db.session.expire_all()
        assert (db.session.get(Workshop, workshop.id).status == "suspended") is allow
    elif action == "import":
        content = csv_bytes(
            [
                sheet_row(station.name, 作坊名称="矩阵导入坊"),
                sheet_row(station.name, 证件编号=workshop.cert_no, 作坊名称="矩阵导入改名"),
            ]
        )
        r = client.post(
            "/admin/workshops/import",
            data={
                "confirm": "1",
                "filename": "m.csv",
                "payload": base64.b64encode(content).decode(),
            },
        )
        if allow:
            assert r.status_code == 302
        else:
            # A viewer may not import at all; an officer's rows for another station are refused.
            assert r.status_code in (403, 422)
            assert ("无权" in r.get_data(as_text=True)) if r.status_code == 422 else True
        db.session.expire_all()
        assert count() == before + (1 if allow else 0)
        assert (db.session.get(Workshop, workshop.id).name == "矩阵导入改名") is allow
    elif action == "export":
        r = client.get(f"/admin/workshops/export.csv?station={station.id}")
        assert r.status_code == (200 if allow else 403)
        if allow:
            body = r.data.decode("utf-8-sig")
            assert workshop.cert_no in body
            other = w.other if where == "own" else w.own
            assert other.cert_no not in body


@pytest.mark.parametrize("action", ACTIONS)
@pytest.mark.parametrize("where", ["own", "other"])
@pytest.mark.parametrize("role", ROLES)
def test_domain_matrix(app, db, role, where, action):
    w = world(db)
    user = getattr(w, role)
    workshop, station = _target(w, where)
    allow = expected(role, where, action)
    with app.test_request_context():  # as in a web request: actor None would not pass either
        try:
            if action == "view":
                registry.get_workshop(user, workshop.id)
            elif action == "create":
                registry.create_workshop(user, domain_data(station))
            elif action == "edit":
                data = domain_data(station, cert_no=workshop.cert_no, name="域改名")
                registry.update_workshop(user, workshop.id, data, workshop.version)
            elif action == "change_status":
                registry.change_status(
                    user, workshop.id, "revoked", today(), "吊销", workshop.version
                )
            elif action == "import":
                rows = registry.read_sheet("x.csv", csv_bytes([sheet_row(station.name)]))
                report = registry.import_rows(user, rows)
                if report.errors:
                    raise access.Forbidden(report.errors[0][1])
            elif action == "export":
                registry.export_csv(user, registry.Filters(station_id=station.id))
            allowed = True
        except access.Forbidden:
            allowed = False
    assert allowed is allow


def test_list_shows_only_own_jurisdiction(app, db):
    w = world(db)
    body = login_as(app, w.officer).get("/admin/workshops").get_data(as_text=True)
    assert w.own.name in body and w.other.name not in body
    body = login_as(app, w.admin).get("/admin/workshops?q=凉糕").get_data(as_text=True)
    assert w.other.name in body and w.own.name not in body


def test_officer_cannot_move_a_workshop_out_of_their_station(app, db):
    w = world(db)
    data = edit_form(w.own, station_id=str(w.stations["kun1"].id))
    r = login_as(app, w.officer).post(f"/admin/workshops/{w.own.id}/edit", data=data)
    assert r.status_code == 403
    db.session.expire_all()
    assert db.session.get(Workshop, w.own.id).station_id == w.stations["xinaobao"].id


def test_system_actor_is_refused_inside_a_request(app, db):
    w = world(db)
    with app.test_request_context(), pytest.raises(access.Forbidden):
        registry.create_workshop(None, domain_data(w.stations["xinaobao"]))


@pytest.mark.parametrize("path", ["/admin/users", "/admin/audit"])
def test_admin_only_pages(app, db, path):
    w = world(db)
    assert login_as(app, w.admin).get(path).status_code == 200
    assert login_as(app, w.officer).get(path).status_code == 403
    assert login_as(app, w.viewer).get(path).status_code == 403
    assert app.test_client().get(path).status_code == 302  # to the sign-in page
