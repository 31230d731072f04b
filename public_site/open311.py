"""Open311 GeoReport v2 for complaints and reports, so existing Open311 clients work.

Services: `complaint` (投诉, needs a real name and phone) and `report` (举报, may be anonymous).
POST requests.{json,xml} creates one through the same validation as /api/v1/complaints; the answer's
service_notice carries the query password for the website's tracking page. GET requests never return
the submitted text, the workshop, or anything about the person who submitted it.

Mapping: address_id or attribute[workshop_code] = the workshop's public code; without one the request
is about an unregistered workshop at address_string, in the county given by jurisdiction_id (a
jurisdiction code) or, failing that, the county of the nearest registered workshop to lat/long.
media_url is not fetched (no server-side requests to arbitrary URLs); a file in `media` is accepted.
"""

from datetime import UTC, datetime, time, timedelta
from xml.etree import ElementTree as ET

from flask import Blueprint, Response, jsonify, request
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from shifangbang import labels
from shifangbang.extensions import csrf, db, limiter
from shifangbang.models import Complaint
from shifangbang.timeutil import CHINA, local, utcnow

from .api import adapters, queries

bp = Blueprint("open311", __name__, url_prefix="/open311/v2")
csrf.exempt(bp)

SERVICES = {
    "complaint": ("投诉", "消费者与作坊之间的消费纠纷，须提供真实姓名和联系电话，进入调解程序。"),
    "report": ("举报", "食品安全违法线索（含无证“黑作坊”），可以匿名，经核查可能立案。"),
}
DEFAULT_SPAN = timedelta(days=90)
MAX_RESULTS = 1000


class Open311Error(Exception):
    def __init__(self, status: int, description: str):
        super().__init__(description)
        self.status = status
        self.description = description


def _xml(root: str, item: str, rows: list[dict]) -> str:
    top = ET.Element(root)
    for row in rows:
        el = ET.SubElement(top, item)
        for key, value in row.items():
            child = ET.SubElement(el, key)
            if isinstance(value, bool):
                child.text = "true" if value else "false"
            elif value is not None:
                child.text = str(value)
    return '<?xml version="1.0" encoding="utf-8"?>' + ET.tostring(top, encoding="unicode")


def respond(fmt: str, root: str, item: str, rows: list[dict], status: int = 200):
    if fmt == "xml":
        return Response(
            _xml(root, item, rows),
            status=status,
            mimetype="text/xml",
            content_type="text/xml; charset=utf-8",
        )
    response = jsonify(rows)
    response.status_code = status
    return response


@bp.errorhandler(Open311Error)
def open311_error(e: Open311Error):
    fmt = "xml" if request.path.endswith(".xml") else "json"
    return respond(
        fmt, "errors", "error", [{"code": e.status, "description": e.description}], e.status
    )


def _format(fmt: str) -> str:
    if fmt not in ("json", "xml"):
        raise Open311Error(404, "只支持 .json 和 .xml 格式。")
    return fmt


def w3c(dt: datetime | None) -> str | None:
    """W3C date-time with the China offset, as GeoReport v2 asks."""
    return local(dt).replace(microsecond=0).isoformat() if dt else None


@bp.get("/discovery.<fmt>")
def discovery(fmt: str):
    fmt = _format(fmt)
    from flask import current_app

    base = current_app.config["BASE_URL"] + "/open311/v2/"
    body = {
        "changeset": "2026-01-01T00:00:00+08:00",
        "contact": "12315",
        "key_service": "",
        "endpoints": [
            {
                "specification": "http://wiki.open311.org/GeoReport_v2",
                "url": base,
                "changeset": "2026-01-01T00:00:00+08:00",
                "type": "production",
                "formats": ["application/json", "text/xml"],
            }
        ],
    }
    if fmt == "json":
        return jsonify(body)
    return respond("xml", "discovery", "endpoint", body["endpoints"])


@bp.get("/services.<fmt>")
def services(fmt: str):
    rows = [
        {
            "service_code": code,
            "service_name": name,
            "description": text,
            "metadata": False,
            "type": "realtime",
            "keywords": "食品小作坊,食品安全," + name,
            "group": "食品小作坊",
        }
        for code, (name, text) in SERVICES.items()
    ]
    return respond(_format(fmt), "services", "service", rows)


def _location_form() -> dict:
    f = request.form
    code = (f.get("address_id") or f.get("attribute[workshop_code]") or "").strip()
    form = {
        "kind": f.get("service_code", ""),
        "content": f.get("description", ""),
        "category": f.get("attribute[category]", "other"),
        "workshop_code": code,
        "reporter_name": ((f.get("last_name") or "") + (f.get("first_name") or "")).strip(),
        "reporter_phone": (f.get("phone") or "").replace("-", "").replace(" ", "").lstrip("+"),
        "jurisdiction": f.get("jurisdiction_id", ""),
        "product": f.get("attribute[product]", ""),
    }
    if not code:
        form["unregistered_name"] = f.get("attribute[unregistered_name]", "")
        form["unregistered_address"] = f.get("address_string", "")
        if not form["jurisdiction"]:
            form["jurisdiction"] = _nearest_county(f.get("lat"), f.get("long")) or ""
    return form


def _nearest_county(lat: str | None, lng: str | None) -> str | None:
    try:
        la, lo = float(lat), float(lng)
    except (TypeError, ValueError):
        return None
    if not (-90 <= la <= 90 and -180 <= lo <= 180):
        return None
    found, _total = queries.nearby(la, lo, 30.0, {"status": "all"}, 1, 1)
    if not found or found[0][0].station is None:
        return None
    station = found[0][0].station
    return (station.county or station).code


@bp.post("/requests.<fmt>")
@limiter.limit("5 per minute;50 per day")
def create_request(fmt: str):
    fmt = _format(fmt)
    f = request.form
    if f.get("service_code") not in SERVICES:
        raise Open311Error(400, "service_code 无效，可选：complaint（投诉）、report（举报）。")
    if not any(
        f.get(k) for k in ("lat", "address_string", "address_id", "attribute[workshop_code]")
    ):
        raise Open311Error(
            400, "请提供位置：lat/long、address_string 或 address_id（作坊公示码）之一。"
        )
    files = [x for x in request.files.getlist("media") if x and x.filename]
    try:
        receipt = adapters.submit(_location_form(), files, request.remote_addr, channel="open311")
    except adapters.SubmissionError as e:
        raise Open311Error(
            400, "；".join(f"{k}：{v}" for k, v in e.errors.items()) or str(e)
        ) from None
    tracking_no = receipt.items[0][1]
    notice = f"已受理登记。查询码 {tracking_no}，查询密码 {receipt.password}，请妥善保存。"
    rows = [{"service_request_id": tracking_no, "service_notice": notice, "account_id": None}]
    return respond(fmt, "service_requests", "request", rows, 201)


def public_request(c: Complaint) -> dict:
    """One request as GeoReport v2 lists it; description, location and identity are withheld."""
    replies = [e for e in c.events if e.public_reply]
    updated = max([c.received_at, *(e.at for e in c.events)]) if c.events else c.received_at
    return {
        "service_request_id": c.tracking_no,
        "status": "open" if c.status in labels.OPEN_COMPLAINT_STATUSES else "closed",
        "status_notes": replies[-1].public_reply
        if replies
        else labels.COMPLAINT_STATUS.get(c.status, c.status),
        "service_name": SERVICES[c.kind][0],
        "service_code": c.kind,
        "description": None,
        "agency_responsible": c.jurisdiction.name if c.jurisdiction else None,
        "service_notice": None,
        "requested_datetime": w3c(c.received_at),
        "updated_datetime": w3c(updated),
        "expected_datetime": datetime.combine(c.due_on, time(17, 0), CHINA).isoformat()
        if c.due_on
        else None,
        "address": None,
        "address_id": None,
        "zipcode": None,
        "lat": None,
        "long": None,
        "media_url": None,
    }


def _parse_dt(name: str) -> datetime | None:
    raw = request.args.get(name)
    if not raw:
        return None
    try:
        dt = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise Open311Error(400, f"{name} 应为 W3C 日期时间，例如 2026-01-01T00:00:00Z。") from None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=CHINA)
    return dt.astimezone(UTC).replace(tzinfo=None)


@bp.get("/requests.<fmt>")
def list_requests(fmt: str):
    fmt = _format(fmt)
    q = select(Complaint)
    ids = [
        s.strip() for s in (request.args.get("service_request_id") or "").split(",") if s.strip()
    ]
    if ids:
        q = q.where(
            Complaint.tracking_no.in_(ids[:MAX_RESULTS])
        )  # overrides the other filters, per the spec
    else:
        codes = [
            s.strip() for s in (request.args.get("service_code") or "").split(",") if s.strip()
        ]
        if codes:
            q = q.where(Complaint.kind.in_(codes))
        end = _parse_dt("end_date") or utcnow()
        start = _parse_dt("start_date") or end - DEFAULT_SPAN
        if end - start > DEFAULT_SPAN:
            raise Open311Error(400, "start_date 与 end_date 相隔不能超过 90 天。")
        q = q.where(Complaint.received_at.between(start, end))
        statuses = {s.strip() for s in (request.args.get("status") or "").split(",") if s.strip()}
        if statuses - {"open", "closed"}:
            raise Open311Error(400, "status 只能是 open 或 closed。")
        if statuses == {"open"}:
            q = q.where(Complaint.status.in_(labels.OPEN_COMPLAINT_STATUSES))
        elif statuses == {"closed"}:
            q = q.where(Complaint.status.not_in(labels.OPEN_COMPLAINT_STATUSES))
    rows = db.session.scalars(
        q.order_by(Complaint.received_at.desc(), Complaint.id.desc())
        .limit(MAX_RESULTS)
        .options(selectinload(Complaint.events), selectinload(Complaint.jurisdiction))
    ).all()
    return respond(fmt, "service_requests", "request", [public_request(c) for c in rows])


@bp.get("/requests/<request_id>.<fmt>")
def get_request(request_id: str, fmt: str):
    fmt = _format(fmt)
    c = db.session.scalar(select(Complaint).where(Complaint.tracking_no == request_id[:40]))
    if c is None:
        raise Open311Error(404, "找不到这个服务请求。")
    return respond(fmt, "service_requests", "request", [public_request(c)])
