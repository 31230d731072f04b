"""Open311: the public list and detail carry nothing private; a request's own detail needs its
query password (header only); complaint service, lat/long-only requests, service definitions,
discovery formats and XML errors work as GeoReport v2 describes."""

import xml.etree.ElementTree as ET

from shifangbang.extensions import db as _db
from shifangbang.models import Complaint, ComplaintEvent

from ..api_data import arrange

BASE = "/open311/v2"
REPLY = "经核查，已责令该作坊整改。"
NOTE = "内部备注：举报人是隔壁店主"


def _report(client, data) -> tuple[str, str]:
    r = client.post(
        f"{BASE}/requests.json",
        data={
            "service_code": "report",
            "address_id": data["gold"].public_code,
            "description": "后厨有老鼠，地面很脏。",
            "first_name": "明",
            "last_name": "吴",
            "phone": "13800002222",
        },
    )
    assert r.status_code == 201, r.get_data(as_text=True)
    [created] = r.get_json()
    password = created["service_notice"].split("查询密码 ")[1].split("，")[0]
    return created["service_request_id"], password


def _reply(no: str) -> None:
    c = Complaint.query.filter_by(tracking_no=no).one()
    c.status = "accepted"
    c.events.append(ComplaintEvent(to_status="accepted", note=NOTE, public_reply=REPLY))
    _db.session.commit()


def test_public_list_has_no_replies_notes_workshop_or_identity(client, db):
    data = arrange()
    no, _ = _report(client, data)
    _reply(no)
    for fmt in ("json", "xml"):
        body = client.get(f"{BASE}/requests.{fmt}").get_data(as_text=True)
        assert no in body
        for private in (REPLY, NOTE, "吴明", "13800002222", "老鼠", data["gold"].name):
            assert private not in body, (fmt, private)
    [row] = [
        x for x in client.get(f"{BASE}/requests.json").get_json() if x["service_request_id"] == no
    ]
    assert row["status_notes"] == "已受理（调解中）" and row["address_id"] is None


def test_own_detail_needs_the_password_in_a_header(client, db):
    data = arrange()
    no, password = _report(client, data)
    _reply(no)
    # Before: any number answered 200 with the officers' latest reply, no password asked.
    r = client.get(f"{BASE}/requests/{no}.json")
    assert r.status_code == 404 and REPLY not in r.get_data(as_text=True)
    wrong = client.get(f"{BASE}/requests/{no}.json", headers={"X-Tracking-Password": "WRONG123"})
    assert wrong.status_code == 404 and wrong.get_json() == r.get_json()  # alike: no oracle
    in_url = client.get(f"{BASE}/requests/{no}.json?password={password}")
    assert in_url.status_code == 400 and "请求头" in in_url.get_json()[0]["description"]
    ok = client.get(f"{BASE}/requests/{no}.json", headers={"X-Tracking-Password": password})
    assert ok.status_code == 200
    [row] = ok.get_json()
    assert row["status_notes"] == REPLY and NOTE not in ok.get_data(as_text=True)
    xml = client.get(f"{BASE}/requests/{no}.xml", headers={"X-Tracking-Password": password})
    assert ET.fromstring(xml.data).find("request/status_notes").text == REPLY


def test_api_refuses_the_password_in_the_query_string(client, db):
    data = arrange()
    no, password = _report(client, data)
    assert client.get(f"/api/v1/complaints/{no}?password={password}").status_code == 404
    ok = client.get(f"/api/v1/complaints/{no}", headers={"X-Tracking-Password": password})
    assert ok.status_code == 200
    params = client.get("/api/v1/openapi.json").get_json()["paths"]["/complaints/{tracking_no}"]
    names = {(p["name"], p["in"]) for p in params["get"]["parameters"]}
    assert ("X-Tracking-Password", "header") in names and ("password", "query") not in names


def test_complaint_service_takes_its_demand_attribute(client, db):
    data = arrange()
    r = client.post(
        f"{BASE}/requests.json",
        data={
            "service_code": "complaint",
            "address_id": data["gold"].public_code,
            "description": "昨天买的凉糕已经发酸变质。",
            "first_name": "红",
            "last_name": "李",
            "phone": "13800003333",
            "attribute[demand]": "退款并道歉",
        },
    )
    assert r.status_code == 201, r.get_data(as_text=True)
    c = Complaint.query.filter_by(tracking_no=r.get_json()[0]["service_request_id"]).one()
    assert c.kind == "complaint" and c.demand == "退款并道歉"
    definition = client.get(f"{BASE}/services/complaint.json").get_json()
    demand = [a for a in definition["attributes"] if a["code"] == "demand"]
    assert definition["service_code"] == "complaint" and demand[0]["required"] is True
    xml = ET.fromstring(client.get(f"{BASE}/services/report.xml").data)
    assert xml.tag == "service_definition" and xml.find("attributes/attribute/code") is not None
    assert client.get(f"{BASE}/services/pothole.json").status_code == 404


def test_lat_long_only_request_is_accepted(client, db):
    data = arrange()
    r = client.post(
        f"{BASE}/requests.json",
        data={
            "service_code": "report",
            "lat": "40.5905",
            "long": "110.0205",
            "description": "巷子里有人无证加工豆腐。",
        },
    )
    assert r.status_code == 201, r.get_data(as_text=True)
    c = Complaint.query.filter_by(tracking_no=r.get_json()[0]["service_request_id"]).one()
    assert c.unregistered_address == "位置坐标 40.59050,110.02050"
    assert c.jurisdiction_id == data["j"]["donghe"].id


def test_discovery_xml_lists_formats_and_xml_urls_get_xml_errors(client, db):
    root = ET.fromstring(client.get(f"{BASE}/discovery.xml").data)
    formats = [f.text for f in root.findall("endpoints/endpoint/formats/format")]
    assert formats == ["application/json", "text/xml"]
    assert root.find("contact").text
    for r in (
        client.get(f"{BASE}/nothing-here.xml"),
        client.delete(f"{BASE}/services.xml"),
        client.get(f"{BASE}/requests/NOSUCH.xml"),
    ):
        assert r.mimetype == "text/xml", r.get_data(as_text=True)
        assert ET.fromstring(r.data).find("error/code").text == str(r.status_code)
