"""Open311 GeoReport v2, driven by raw requests as the GeoReport v2 document describes them.

The one maintained Python client on PyPI (georeport 0.3.1) has no call to create a request, so the
whole flow uses plain form-encoded POSTs and GETs: services → POST requests → GET request(s).
"""

import io
import xml.etree.ElementTree as ET
from datetime import timedelta

from PIL import Image

from shifangbang.extensions import db as _db
from shifangbang.models import Complaint, ComplaintEvent
from shifangbang.timeutil import utcnow

from .api_data import arrange

BASE = "/open311/v2"
REQUEST_FIELDS = {
    "service_request_id",
    "status",
    "status_notes",
    "service_name",
    "service_code",
    "description",
    "agency_responsible",
    "service_notice",
    "requested_datetime",
    "updated_datetime",
    "expected_datetime",
    "address",
    "address_id",
    "zipcode",
    "lat",
    "long",
    "media_url",
}


def test_services_list(client, db):
    services = client.get(f"{BASE}/services.json").get_json()
    assert {s["service_code"] for s in services} == {"complaint", "report"}
    for s in services:
        assert set(s) == {
            "service_code",
            "service_name",
            "description",
            "metadata",
            "type",
            "keywords",
            "group",
        }
        # metadata: each service has a definition (services/{code}) listing its attributes.
        assert s["metadata"] is True and s["type"] == "realtime"
    xml = ET.fromstring(client.get(f"{BASE}/services.xml").data)
    assert xml.tag == "services" and len(xml.findall("service")) == 2
    assert (
        client.get(f"{BASE}/discovery.json")
        .get_json()["endpoints"][0]["specification"]
        .endswith("GeoReport_v2")
    )


def test_create_report_then_query_status(client, db):
    data = arrange()
    r = client.post(
        f"{BASE}/requests.json",
        data={
            "service_code": "report",
            "address_id": data["bronze"].public_code,
            "lat": "40.6",
            "long": "110.03",
            "description": "作坊门口堆放垃圾，苍蝇很多。",
            "first_name": "明",
            "last_name": "吴",
            "phone": "138-0000-2222",
            "email": "wu@example.com",
            "attribute[category]": "hygiene",
        },
    )
    assert r.status_code == 201, r.get_data(as_text=True)
    [created] = r.get_json()
    assert set(created) == {"service_request_id", "service_notice", "account_id"}
    no = created["service_request_id"]
    c = Complaint.query.filter_by(tracking_no=no).one()
    assert c.channel == "open311" and c.kind == "report" and c.workshop_id == data["bronze"].id
    assert (
        c.reporter_name == "吴明" and c.reporter_phone == "13800002222" and c.category == "hygiene"
    )
    password = created["service_notice"].split("查询密码 ")[1].split("，")[0]
    own = {"X-Tracking-Password": password}
    assert client.get(f"/api/v1/complaints/{no}", headers=own).status_code == 200  # same tracking

    [status] = client.get(f"{BASE}/requests/{no}.json", headers=own).get_json()
    assert set(status) == REQUEST_FIELDS
    assert status["status"] == "open" and status["service_code"] == "report"
    assert status["agency_responsible"] == "南门外市场监管所"
    assert status["requested_datetime"].endswith("+08:00")
    for field in ("description", "address", "address_id", "lat", "long"):
        assert status[field] is None, field

    c.status = "no_case"
    c.events.append(
        ComplaintEvent(
            from_status="verifying",
            to_status="no_case",
            note="内部",
            public_reply="经核查，未发现违法行为。",
        )
    )
    _db.session.commit()
    [status] = client.get(f"{BASE}/requests/{no}.json", headers=own).get_json()
    assert status["status"] == "closed" and status["status_notes"] == "经核查，未发现违法行为。"

    listed = client.get(f"{BASE}/requests.json?service_request_id={no},NOPE").get_json()
    assert [x["service_request_id"] for x in listed] == [no]
    body = client.get(f"{BASE}/requests.json").get_data(as_text=True)
    for secret in ("吴明", "13800002222", "wu@example.com", "苍蝇", "内部"):
        assert secret not in body
    closed = {
        x["service_request_id"]
        for x in client.get(f"{BASE}/requests.json?status=closed").get_json()
    }
    open_ = {
        x["service_request_id"] for x in client.get(f"{BASE}/requests.json?status=open").get_json()
    }
    assert no in closed and no not in open_


def test_create_complaint_needs_name_and_phone(client, db):
    data = arrange()
    r = client.post(
        f"{BASE}/requests.json",
        data={
            "service_code": "complaint",
            "address_id": data["gold"].public_code,
            "description": "买到的凉糕变质了。",
        },
    )
    assert r.status_code == 400
    [err] = r.get_json()
    assert err["code"] == 400 and "reporter_name" in err["description"]


def test_unregistered_workshop_goes_to_county_of_nearest_workshop(client, db):
    data = arrange()
    img = io.BytesIO()
    Image.new("RGB", (20, 20), "blue").save(img, "PNG")
    img.seek(0)
    r = client.post(
        f"{BASE}/requests.xml",
        data={
            "service_code": "report",
            "lat": "40.5905",
            "long": "110.0205",
            "address_string": "东河区某巷 7 号",
            "description": "无证加工豆腐，环境脏乱。",
            "media": (img, "p.png"),
        },
        content_type="multipart/form-data",
    )
    assert r.status_code == 201 and r.mimetype == "text/xml"
    root = ET.fromstring(r.data)
    no = root.find("request/service_request_id").text
    c = Complaint.query.filter_by(tracking_no=no).one()
    assert c.workshop_id is None and c.unregistered_address == "东河区某巷 7 号"
    assert c.jurisdiction_id == data["j"]["donghe"].id and c.anonymous
    assert len(c.attachments) == 1 and c.attachments[0].mime == "image/jpeg"


def test_errors_follow_georeport(client, db):
    r = client.post(
        f"{BASE}/requests.json",
        data={"service_code": "pothole", "lat": "1", "long": "1", "description": "x"},
    )
    assert r.status_code == 400 and r.get_json()[0]["code"] == 400
    r = client.post(
        f"{BASE}/requests.json",
        data={"service_code": "report", "description": "没有位置信息的举报"},
    )
    assert r.status_code == 400 and "位置" in r.get_json()[0]["description"]
    r = client.get(f"{BASE}/requests/NOSUCH.json")
    assert r.status_code == 404 and r.get_json() == [
        {"code": 404, "description": "找不到这个服务请求。"}
    ]
    r = client.get(f"{BASE}/requests/NOSUCH.xml")
    assert r.status_code == 404 and ET.fromstring(r.data).find("error/code").text == "404"
    start = (utcnow() - timedelta(days=200)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert client.get(f"{BASE}/requests.json?start_date={start}").status_code == 400  # > 90 days
    assert client.get(f"{BASE}/requests.json?start_date=yesterday").status_code == 400
    r = client.delete(f"{BASE}/services.json")
    assert r.status_code == 405 and r.get_json()[0]["code"] == 405
