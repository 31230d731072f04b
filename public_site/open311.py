"""Open311 GeoReport v2 for complaints and reports, so existing Open311 clients work.

Services: `complaint` (投诉, needs a real name, a phone and a demand: attribute[demand]) and `report`
(举报, may be anonymous); services/{code} lists their attributes. POST requests.{json,xml} creates one
through the same validation as /api/v1/complaints; the answer's service_notice carries the query
password for the website's tracking page.

Privacy: the public list shows only the number, kind, status, dates and the agency — never the text,
the workshop (an allegation is unverified), officers' replies or notes, or anything about the person.
A request's own detail (with the officers' latest public reply) needs its query password, in the
X-Tracking-Password header as in /api/v1 — never in the URL, where it would land in access logs.

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

from shifangbang import complaints, labels
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


# XML element name for each item of a list, by the list's name (GeoReport v2's XML shapes).
XML_ITEMS = {
    "formats": "format",
    "endpoints": "endpoint",
    "attributes": "attribute",
    "values": "value",
}


def _fill(el: ET.Element, value) -> None:
    if isinstance(value, dict):
        for key, v in value.items():
            _fill(ET.SubElement(el, key), v)
    elif isinstance(value, list):
        for v in value:
            _fill(ET.SubElement(el, XML_ITEMS.get(el.tag, "item")), v)
    elif isinstance(value, bool):
        el.text = "true" if value else "false"
    elif value is not None:
        el.text = str(value)


def _xml(root: str, item: str | None, rows) -> str:
    """rows: a list (each row an <item>) or one dict (the root's children, as discovery)."""
    top = ET.Element(root)
    if isinstance(rows, dict):
        _fill(top, rows)
    else:
        for row in rows:
            _fill(ET.SubElement(top, item), row)
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


def error_response(status: int, description: str, headers=None):
    """GeoReport v2 errors, in the format the URL asks for (any error under /open311/)."""
    fmt = "xml" if request.path.endswith(".xml") else "json"
    response = respond(
        fmt, "errors", "error", [{"code": status, "description": description}], status
    )
    response.headers.extend(headers or {})
    return response


@bp.errorhandler(Open311Error)
def open311_error(e: Open311Error):
    return error_response(e.status, e.description)


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
    return respond("xml", "discovery", None, body)


def _attr(code: str, description: str, required: bool, order: int, **extra) -> dict:
    return {
        "variable": True,
        "code": code,
        "datatype": extra.pop("datatype", "string"),
        "required": required,
        "datatype_description": extra.pop("datatype_description", ""),
        "order": order,
        "description": description,
        **extra,
    }


def _attributes(code: str) -> list[dict]:
    """What attribute[...] fields each service takes (GeoReport v2 service definition)."""
    categories = [{"key": k, "name": v} for k, v in labels.COMPLAINT_CATEGORIES.items()]
    rows = [
        _attr("workshop_code", "作坊公示码（二维码海报上的编号）；也可用 address_id。", False, 1),
        _attr(
            "category",
            "问题类别。",
            False,
            2,
            datatype="singlevaluelist",
            values=categories,
        ),
        _attr("product", "涉及的产品。", False, 3),
        _attr("unregistered_name", "未登记作坊的名称（不知道可不填）。", False, 4),
    ]
    if code == "complaint":
        rows.append(_attr("demand", "您的诉求，例如退款、赔偿、道歉（投诉必填）。", True, 5))
    return rows


def _service_row(code: str) -> dict:
    name, text = SERVICES[code]
    return {
        "service_code": code,
        "service_name": name,
        "description": text,
        "metadata": True,
        "type": "realtime",
        "keywords": "食品小作坊,食品安全," + name,
        "group": "食品小作坊",
    }


@bp.get("/services.<fmt>")
def services(fmt: str):
    return respond(_format(fmt), "services", "service", [_service_row(c) for c in SERVICES])


@bp.get("/services/<code>.<fmt>")
def service_definition(code: str, fmt: str):
    fmt = _format(fmt)
    if code not in SERVICES:
        raise Open311Error(404, "没有这项服务，可选：complaint（投诉）、report（举报）。")
    body = {"service_code": code, "attributes": _attributes(code)}
    if fmt == "json":
        return jsonify(body)
    return respond("xml", "service_definition", None, body)


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
        "demand": f.get("attribute[demand]", ""),
    }
    if not code:
        form["unregistered_name"] = f.get("attribute[unregistered_name]", "")
        point = _point(f.get("lat"), f.get("long"))
        # Only a position (a phone's GPS): the coordinates are the address officers go to.
        form["unregistered_address"] = f.get("address_string", "") or (
            f"位置坐标 {point[0]:.5f},{point[1]:.5f}" if point else ""
        )
        if not form["jurisdiction"] and point:
            form["jurisdiction"] = _nearest_county(*point) or ""
    return form


def _point(lat: str | None, lng: str | None) -> tuple[float, float] | None:
    try:
        la, lo = float(lat), float(lng)
    except (TypeError, ValueError):
        return None
    return (la, lo) if -90 <= la <= 90 and -180 <= lo <= 180 else None


def _nearest_county(la: float, lo: float) -> str | None:
    found, _total = queries.nearby(la, lo, 30.0, {"status": "all"}, 1, 1, count_limit=1)
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
    has_point = _point(f.get("lat"), f.get("long")) is not None
    if not has_point and not any(
        f.get(k) for k in ("address_string", "address_id", "attribute[workshop_code]")
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


def public_request(c: Complaint, own: bool = False) -> dict:
    """One request as GeoReport v2 lists it; description, location, workshop and identity are
    withheld. Officers' replies only for `own` (asked with the request's query password)."""
    replies = [e for e in c.events if e.public_reply] if own else []
    # Only status changes date the public record: a note or an identity view is internal.
    changes = [e.at for e in c.events if e.to_status or (own and e.public_reply)]
    updated = max([c.received_at, *changes])
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
@limiter.limit("20 per minute;200 per hour")
def get_request(request_id: str, fmt: str):
    """A request's own detail: needs its query password (X-Tracking-Password), as /track does.
    An unknown number and a wrong password answer alike."""
    fmt = _format(fmt)
    if "password" in request.args:
        raise Open311Error(400, "查询密码不能放在网址里，请放在 X-Tracking-Password 请求头中。")
    password = request.headers.get("X-Tracking-Password", "")
    usable = len(request_id) <= 20 and len(password) <= 64
    if not usable or complaints.track(request_id, password) is None:
        raise Open311Error(404, "找不到这个服务请求。")
    c = db.session.scalar(
        select(Complaint)
        .where(Complaint.tracking_no == complaints.normalise_tracking_no(request_id))
        .options(selectinload(Complaint.events), selectinload(Complaint.jurisdiction))
    )
    return respond(fmt, "service_requests", "request", [public_request(c, own=True)])
