"""The 辖区 screen: bureau administrators keep each station's and county's name, phone and address,
which every workshop page below it shows at once; everyone else is kept out."""

from sqlalchemy import select

from shifangbang.extensions import db as _db
from shifangbang.models import AuditLog

from . import factories as f


def test_admin_renames_a_station_and_every_page_below_it_follows(client, db):
    j = f.jurisdictions()
    w = f.workshop(j["xinaobao"], name="西脑包凉皮坊")
    admin = f.user("admin")
    db.session.commit()
    f.login(client, admin)
    listing = client.get("/admin/jurisdictions").get_data(as_text=True)
    # In tree order: the city, then each county with its stations under it.
    city, county, station = (listing.index(n) for n in ("包头市", "东河区", j["xinaobao"].name))
    assert city < county < station and ">辖区<" in client.get("/admin/").get_data(as_text=True)

    url = f"/admin/jurisdictions/{j['xinaobao'].id}"
    form = {"name": "西脑包市场监督管理所", "phone": "0472-4100000转8", "address": "西脑包大街1号"}
    resp = client.post(url, data=form)
    assert resp.status_code == 302
    page = client.get(f"/w/{w.public_code}").get_data(as_text=True)
    assert "西脑包市场监督管理所" in page and "0472-4100000转8" in page
    entry = _db.session.scalars(
        select(AuditLog).where(AuditLog.action == "jurisdiction.update")
    ).one()
    assert entry.actor_id == admin.id and entry.entity_id == str(j["xinaobao"].id)


def test_a_bad_phone_comes_back_with_what_was_typed(client, db):
    j = f.jurisdictions()
    admin = f.user("admin")
    db.session.commit()
    f.login(client, admin)
    url = f"/admin/jurisdictions/{j['xinaobao'].id}"
    for phone, kept in (("410 abc", "410 abc"), ("0472-41000", "0472-41000")):
        resp = client.post(url, data={"name": "新名称所", "phone": phone, "address": "新地址"})
        text = resp.get_data(as_text=True)
        assert resp.status_code == 422 and "电话应为带区号的固定电话" in text
        assert f'value="{kept}"' in text and 'value="新名称所"' in text
    resp = client.post(url, data={"name": "", "phone": "", "address": ""})
    assert resp.status_code == 422 and "请填写名称" in resp.get_data(as_text=True)
    resp = client.post(url, data={"name": "所", "phone": "", "address": "地" * 201})
    assert resp.status_code == 422 and "地址不能超过 200 字" in resp.get_data(as_text=True)
    db.session.expire_all()
    assert j["xinaobao"].name != "新名称所"  # nothing saved


def test_officers_and_viewers_cannot_open_or_post(client, db):
    j = f.jurisdictions()
    url = f"/admin/jurisdictions/{j['xinaobao'].id}"
    for role in ("officer", "viewer"):
        client.post("/admin/logout")
        user = f.user(role, j["xinaobao"])
        db.session.commit()
        f.login(client, user)
        assert client.get("/admin/jurisdictions").status_code == 403
        assert client.post(url, data={"name": "改名"}).status_code == 403
        new = f"/admin/jurisdictions/{j['donghe'].id}/new"
        assert client.post(new, data={"code": "X9", "name": "新所"}).status_code == 403
        assert ">辖区<" not in client.get("/admin/").get_data(as_text=True)
    db.session.expire_all()
    assert j["xinaobao"].name != "改名"


def test_admin_opens_a_new_station_under_a_county(client, db):
    from shifangbang.models import Jurisdiction

    j = f.jurisdictions()
    admin = f.user("admin")
    db.session.commit()
    f.login(client, admin)
    listing = client.get("/admin/jurisdictions").get_data(as_text=True)
    new = f"/admin/jurisdictions/{j['donghe'].id}/new"
    assert f'href="{new}"' in listing and "新增所/中队" in listing
    form = {"code": "DH9", "name": "沙尔沁中队", "phone": "0472-4100009", "address": ""}
    assert client.post(new, data=dict(form, code="D H")).status_code == 422  # a bad code
    taken = client.post(new, data=dict(form, code=j["xinaobao"].code))
    text = taken.get_data(as_text=True)
    assert taken.status_code == 422 and j["xinaobao"].name in text and 'value="沙尔沁中队"' in text
    assert client.post(new, data=form).status_code == 302
    made = _db.session.scalar(select(Jurisdiction).where(Jurisdiction.code == "DH9"))
    assert (made.level, made.parent_id, made.phone) == ("station", j["donghe"].id, "0472-4100009")
    assert "沙尔沁中队" in client.get("/admin/jurisdictions").get_data(as_text=True)
    entry = _db.session.scalars(
        select(AuditLog).where(AuditLog.action == "jurisdiction.create")
    ).one()
    assert entry.actor_id == admin.id and entry.entity_id == str(made.id)
    # Nothing goes under a station.
    assert client.get(f"/admin/jurisdictions/{made.id}/new").status_code == 404
