"""The OpenAPI 3.1 document for /api/v1, written by hand so it reads as documentation.

tests/test_api_openapi.py checks that every route is here and everything here is a route, and runs
schemathesis against it: keep it true when an endpoint changes.
"""

from shifangbang import current_deployment, labels

from .common import PAGE_MAX, PER_PAGE_DEFAULT, PER_PAGE_MAX
from .queries import NEARBY_TOTAL_LIMIT

NULLABLE_STR = {"type": ["string", "null"]}
NULLABLE_DATE = {"type": ["string", "null"], "format": "date"}
NULLABLE_DATETIME = {"type": ["string", "null"], "format": "date-time"}
DATE = {"type": "string", "format": "date"}


def ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def obj(properties: dict, required: list | None = None, nullable: bool = False) -> dict:
    return {
        "type": ["object", "null"] if nullable else "object",
        "properties": properties,
        "required": list(properties) if required is None else required,
    }


def json_response(description: str, schema: dict) -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def error(description: str) -> dict:
    return json_response(description, ref("Error"))


def query(name: str, schema: dict, description: str, required: bool = False) -> dict:
    return {
        "name": name,
        "in": "query",
        "required": required,
        "schema": schema,
        "description": description,
    }


PAGE_PARAMS = [
    query(
        "page",
        {"type": "integer", "minimum": 1, "maximum": PAGE_MAX, "default": 1},
        "页码，从 1 开始。",
    ),
    query(
        "per_page",
        {"type": "integer", "minimum": 1, "maximum": PER_PAGE_MAX, "default": PER_PAGE_DEFAULT},
        f"每页条数，最多 {PER_PAGE_MAX}。",
    ),
]
CODE_PARAM = {"type": "string", "maxLength": 20}


def filter_params(tier_codes: list[str]) -> list[dict]:
    return [
        query("q", {"type": "string", "maxLength": 100}, "关键词：作坊名称、地址或品种。"),
        query("tier", {"type": "string", "enum": tier_codes}, "榜级代码（见 /tiers）。"),
        query("county", CODE_PARAM, "区县辖区代码（见 /jurisdictions）。"),
        query("station", CODE_PARAM, "所/中队辖区代码。"),
        query(
            "category",
            {"type": "string", "maxLength": 40},
            "食品类别代码或名称（见 /categories）。",
        ),
        query("high_risk", {"type": "boolean"}, "只看（true）或排除（false）高风险类别。"),
        query(
            "status",
            {"type": "string", "enum": [*labels.WORKSHOP_STATUS, "all"], "default": "open"},
            "经营状态；默认只列在营作坊，all 为全部。",
        ),
    ]


def schemas() -> dict:
    tier_ref = obj(
        {
            "code": {"type": "string"},
            "name": {"type": "string"},
            "colour": {"type": "string"},
            "rank": {"type": "integer"},
            "since": NULLABLE_DATE,
        },
        ["code", "name", "colour", "rank"],
    )
    jref = obj(
        {"code": {"type": "string"}, "name": {"type": "string"}, "level": {"type": "string"}},
        nullable=True,
    )
    links = obj(
        {"self": {"type": "string"}, "page": {"type": "string"}, "badge": {"type": "string"}}
    )
    summary_props = {
        "code": {"type": "string", "description": "作坊公示码（二维码中的编号），永久不变。"},
        "name": {"type": "string"},
        "address": {"type": "string"},
        "tier": ref("TierRef"),
        "last_inspected_on": NULLABLE_DATE,
        "status": {"type": "string", "enum": list(labels.WORKSHOP_STATUS)},
        "status_label": {"type": "string"},
        "categories": {
            "type": "array",
            "items": obj(
                {
                    "code": {"type": "string"},
                    "name": {"type": "string"},
                    "high_risk": {"type": "boolean"},
                }
            ),
        },
        "high_risk": {"type": "boolean"},
        "station": ref("JurisdictionRef"),
        "county": ref("JurisdictionRef"),
        "location": obj({"lat": {"type": "number"}, "lng": {"type": "number"}}, nullable=True),
        "links": ref("WorkshopLinks"),
        "public_status": ref("PublicStatus"),
    }
    public_status = obj(
        {
            "status": {"type": "string", "enum": list(labels.WORKSHOP_STATUS)},
            "status_label": {"type": "string"},
            "operating": {"type": "boolean", "description": "在营；否则不作为消费参考"},
            "status_since": {**NULLABLE_DATE, "description": "停业/注销/吊销的日期"},
            "headline": {"type": "string", "description": "徽标与卡片上的一词：榜级名或已停业等"},
            "colour": {"type": "string"},
            "rated": {"type": "boolean"},
            "tier_code": {"type": "string"},
            "tier_since": NULLABLE_DATE,
            "meaning": {**NULLABLE_STR, "description": "榜级含义；不在营时为 null"},
            "statement": {"type": "string", "description": "对该状态的公示说明"},
            "last_inspected_on": NULLABLE_DATE,
            "never_inspected": {"type": "boolean", "description": "尚无监督检查记录"},
            "inspection_overdue": {"type": "boolean", "description": "超期未检"},
            "overdue_text": NULLABLE_STR,
            "titles_held": {"type": "array", "items": {"type": "string"}},
            "titles_under_review": {
                "type": "array",
                "items": {"type": "string"},
                "description": "称号复核中（撤销建议待决超过规定工作日）",
            },
        },
        [
            "status",
            "status_label",
            "operating",
            "status_since",
            "headline",
            "colour",
            "rated",
            "tier_code",
            "tier_since",
            "meaning",
            "statement",
            "last_inspected_on",
            "never_inspected",
            "inspection_overdue",
            "overdue_text",
        ],
    )
    summary = obj(
        dict(
            summary_props,
            distance_km={"type": "number", "description": "仅 /nearby：距离（公里）。"},
        ),
        list(summary_props),
    )
    title = {
        "name": {"type": "string"},
        "authority": {"type": "string"},
        "level": {"type": "string"},
        "level_label": {"type": "string"},
        "granted_on": DATE,
        "certificate_no": NULLABLE_STR,
        "last_reviewed_on": NULLABLE_DATE,
        "under_review": {"type": "boolean", "description": "称号复核中"},
    }
    inspection = obj(
        {
            "date": DATE,
            "kind": {"type": "string"},
            "kind_label": {"type": "string"},
            "result": {"type": "string", "enum": list(labels.INSPECTION_RESULT)},
            "result_label": {"type": "string"},
            "failed_items": {
                "type": "array",
                "items": obj(
                    {
                        "code": {"type": "string"},
                        "text": {"type": "string"},
                        "is_key": {"type": "boolean"},
                    }
                ),
            },
            "rectification_required": {"type": "boolean"},
            "rectification_due": NULLABLE_DATE,
            "rectification_done_on": NULLABLE_DATE,
        },
        nullable=True,
    )
    sampling = obj(
        {
            "date": DATE,
            "product": {"type": "string"},
            "batch": {"type": "string"},
            "lab": {"type": "string"},
            "result": {"type": "string", "enum": list(labels.SAMPLING_RESULT)},
            "result_label": {"type": "string"},
            "failed_item": NULLABLE_STR,
            "measured_value": NULLABLE_STR,
            "limit_value": NULLABLE_STR,
            "notice_no": NULLABLE_STR,
            "retest_status": {"type": "string", "enum": list(labels.RETEST_STATUS)},
            "retest_label": {"type": "string"},
            "retest_pending": {"type": "boolean", "description": "复检中：结论待定。"},
        }
    )
    decision = obj(
        {
            "from_tier": ref("TierRef"),
            "to_tier": ref("TierRef"),
            "direction": {"type": "string", "enum": list(labels.TIER_DIRECTION)},
            "direction_label": {"type": "string"},
            "reason_category": {"type": "string"},
            "reason_label": {"type": "string"},
            "reason": {"type": "string", "description": "公示的定榜理由"},
            "effective_on": NULLABLE_DATE,
            "published_at": NULLABLE_DATETIME,
        }
    )
    board = obj(
        {
            "certificate": obj(
                {
                    "type": {"type": "string"},
                    "number": {"type": "string"},
                    "valid_from": NULLABLE_DATE,
                    "valid_to": NULLABLE_DATE,
                }
            ),
            "operator": {"type": "string", "description": "负责人，只显示姓氏（张**）。"},
            "safety_manager": NULLABLE_STR,
            "staff_health": {
                "type": "array",
                "items": obj(
                    {
                        "name": {"type": "string"},
                        "role": {"type": "string"},
                        "health_cert_expires": NULLABLE_DATE,
                        "valid": {"type": "boolean"},
                    }
                ),
            },
            "pledge": obj(
                {
                    "signed_on": NULLABLE_DATE,
                    "items": {"type": "array", "items": {"type": "string"}},
                }
            ),
            "seven_in_place": {
                "type": "array",
                "items": obj(
                    {
                        "key": {"type": "string"},
                        "label": {"type": "string"},
                        "in_place": {"type": "boolean"},
                    }
                ),
            },
            "additives": {"type": "array", "items": {"type": "string"}},
            "plate_no": NULLABLE_STR,
            "supervising_station": obj(
                {
                    "code": {"type": "string"},
                    "name": {"type": "string"},
                    "phone": NULLABLE_STR,
                    "address": NULLABLE_STR,
                },
                nullable=True,
            ),
            "complaint_phones": {"type": "array", "items": {"type": "string"}},
            "whistleblower_reward_notice": {"type": "string"},
            "colour_codes": {
                "type": "array",
                "items": obj(
                    {
                        "colour": {"type": "string"},
                        "hex": {"type": "string"},
                        "use": {"type": "string"},
                    }
                ),
            },
        }
    )
    detail_props = dict(summary_props)
    detail_props.update(
        {
            "tier": {
                "allOf": [ref("TierRef")],
                "type": "object",
                "properties": {"description": {**NULLABLE_STR, "description": "不在营时为 null"}},
                "required": ["description"],
            },
            "states": obj(
                {
                    "unrated": {"type": "boolean", "description": "待评定"},
                    "new_rating_pending": {"type": "boolean", "description": "新评级待发布"},
                    "inspection_overdue": {"type": "boolean", "description": "超期未检"},
                }
            ),
            "varieties": {"type": "array", "items": {"type": "string"}},
            "brand": obj(
                {
                    "trademark": NULLABLE_STR,
                    "time_honoured": {"type": "boolean"},
                    "geo_indication": NULLABLE_STR,
                    "intangible_heritage": NULLABLE_STR,
                    "regional_brand": NULLABLE_STR,
                }
            ),
            "titles": obj(
                {
                    "held": {"type": "array", "items": obj(title)},
                    "recently_revoked": {
                        "type": "array",
                        "items": obj(
                            dict(
                                title,
                                revoked_on=NULLABLE_DATE,
                                reason=NULLABLE_STR,
                                barred_until=NULLABLE_DATE,
                            )
                        ),
                    },
                }
            ),
            "latest_inspection": inspection,
            "samplings": {"type": "array", "maxItems": 3, "items": sampling},
            "tier_history": {"type": "array", "items": ref("TierDecision")},
            "rectification": obj(
                {
                    "open": {
                        "type": "array",
                        "items": obj(
                            {
                                "problem": {"type": "string"},
                                "measure": {"type": "string"},
                                "due_on": DATE,
                                "overdue": {"type": "boolean"},
                            }
                        ),
                    },
                    "recently_fixed": {
                        "type": "array",
                        "items": obj(
                            {
                                "problem": {"type": "string"},
                                "measure": {"type": "string"},
                                "due_on": DATE,
                                "fixed_on": DATE,
                            }
                        ),
                    },
                },
                nullable=True,
            ),
            "info_board": board,
            "penalties": {
                "type": "array",
                "description": "公示期内的行政处罚决定；公示期满后不再出现。",
                "items": ref("Penalty"),
            },
            "colour_code": {
                "anyOf": [ref("ColourCode"), {"type": "null"}],
                "description": "色标化进度；部署未设完成期限时为 null。",
            },
            "updated_at": NULLABLE_DATETIME,
        }
    )
    ladder = obj(
        {
            "code": {"type": "string"},
            "name": {"type": "string"},
            "colour": {"type": "string"},
            "rank": {"type": "integer"},
            "description": {"type": "string"},
            "needs_rectification": {"type": "boolean"},
        }
    )
    jnode = obj(
        {
            "code": {"type": "string"},
            "name": {"type": "string"},
            "level": {"type": "string"},
            "level_label": {"type": "string"},
            "phone": NULLABLE_STR,
            "address": NULLABLE_STR,
            "children": {"type": "array", "items": ref("JurisdictionNode")},
        }
    )
    complaint = obj(
        {
            "tracking_no": {"type": "string"},
            "kind": {"type": "string", "enum": list(labels.COMPLAINT_KIND)},
            "kind_label": {"type": "string"},
            "status": {"type": "string", "enum": list(labels.COMPLAINT_STATUS)},
            "status_label": {"type": "string"},
            "open": {"type": "boolean"},
            "overdue": {"type": "boolean", "description": "已超期：超过法定办理期限仍未办结"},
            "received_at": NULLABLE_DATETIME,
            "due_on": NULLABLE_DATE,
            "closed_at": NULLABLE_DATETIME,
            "replies": {
                "type": "array",
                "items": obj({"at": NULLABLE_DATETIME, "text": {"type": "string"}}),
            },
        }
    )
    return {
        "Error": obj(
            {
                "error": obj(
                    {
                        "status": {"type": "integer"},
                        "code": {"type": "string"},
                        "message": {"type": "string"},
                        "details": {"type": "object", "additionalProperties": {"type": "string"}},
                    },
                    ["status", "code", "message"],
                )
            }
        ),
        "TierRef": tier_ref,
        "PublicStatus": public_status,
        "LadderTier": ladder,
        "JurisdictionRef": jref,
        "JurisdictionNode": jnode,
        "WorkshopLinks": links,
        "WorkshopSummary": summary,
        "WorkshopDetail": obj(detail_props),
        "TierDecision": decision,
        "PageLinks": obj({"self": {"type": "string"}, "next": NULLABLE_STR, "prev": NULLABLE_STR}),
        "ComplaintStatus": complaint,
        "Penalty": obj(
            {
                "decision_no": {"type": "string", "description": "行政处罚决定书文号"},
                "decided_on": DATE,
                "violation": {"type": "string", "description": "违法行为"},
                "penalty": {"type": "string", "description": "处罚内容"},
                "published_until": DATE,
            }
        ),
        "ColourCode": obj(
            {
                "status": {"type": "string", "enum": list(labels.COLOUR_STATUS)},
                "status_label": {"type": "string"},
                "completed_on": NULLABLE_DATE,
                "deadline": DATE,
                "overdue": {"type": "boolean", "description": "已过完成期限仍未完成"},
            }
        ),
        "RevocationNotice": obj(
            {
                "workshop": obj(
                    {
                        "code": {"type": "string"},
                        "name": {"type": "string"},
                        "links": ref("WorkshopLinks"),
                    }
                ),
                "title": {"type": "string"},
                "authority": {"type": "string"},
                "revoked_on": DATE,
                "reason": {"type": "string"},
                "barred_until": NULLABLE_DATE,
                "plaque_recovered_on": NULLABLE_DATE,
            }
        ),
        "ChainHead": obj(
            {
                "seq": {"type": "integer", "minimum": 1},
                "hash": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
                "recorded_at": {"type": "string", "format": "date-time"},
            },
            nullable=True,
        ),
        "PublicRecord": obj(
            {
                "seq": {"type": "integer", "minimum": 1},
                "recorded_at": {"type": "string", "format": "date-time"},
                "statement": {
                    "type": "string",
                    "description": "公开陈述的规范 JSON 原文；hash = SHA-256(prev_hash + statement)。",
                },
                "prev_hash": {"type": ["string", "null"]},
                "hash": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
                "audit_seq": {"type": ["integer", "null"]},
            }
        ),
    }


def page_of(item_schema: dict, **extra) -> dict:
    props = {
        "items": {"type": "array", "items": item_schema},
        "page": {"type": "integer", "minimum": 1},
        "per_page": {"type": "integer", "minimum": 1, "maximum": PER_PAGE_MAX},
        "total": {"type": "integer", "minimum": 0},
        "pages": {"type": "integer", "minimum": 1},
        "links": ref("PageLinks"),
    }
    return obj(dict(props, **extra))


WORKSHOP_CODE = {
    "name": "code",
    "in": "path",
    "required": True,
    "schema": {"type": "string", "maxLength": 20},
    "description": "作坊公示码。",
}
NOT_MODIFIED = {"description": "未变化（If-None-Match 与 ETag 相同）。"}
TOO_MANY = error("请求太频繁。")


def get_op(
    op_id: str, summary: str, ok: dict, params: list | None = None, extra: dict | None = None
) -> dict:
    responses = {"200": ok, "304": NOT_MODIFIED, "429": TOO_MANY}
    if params:
        responses["400"] = error("参数有误。")
    responses.update(extra or {})
    return {
        "get": {
            "operationId": op_id,
            "summary": summary,
            "parameters": params or [],
            "responses": responses,
        }
    }


def document() -> dict:
    deployment = current_deployment()
    tier_codes = [*deployment.tier_codes, deployment.unrated.code]
    filters = filter_params(tier_codes)
    place = [p for p in filters if p["name"] in ("county", "station", "category", "high_risk")]
    ws_page = page_of(ref("WorkshopSummary"))
    complaint_form = {
        "type": "object",
        "required": ["content"],
        "properties": {
            "kind": {
                "type": "string",
                "enum": ["complaint", "report", "both"],
                "default": "report",
                "description": "complaint 投诉（须实名和电话）；report 举报（可匿名）；both 两者。",
            },
            "workshop_code": {
                "type": "string",
                "maxLength": 20,
                "description": "作坊公示码；无证作坊留空。",
            },
            "unregistered_name": {
                "type": "string",
                "maxLength": 100,
                "description": "无证作坊（黑作坊）名称。",
            },
            "unregistered_address": {
                "type": "string",
                "maxLength": 200,
                "description": "无证作坊地址；没有作坊公示码时必填。",
            },
            "jurisdiction": {
                "type": "string",
                "maxLength": 20,
                "description": "无证作坊所在区县（或所/中队）代码。",
            },
            "category": {
                "type": "string",
                "enum": list(labels.COMPLAINT_CATEGORIES),
                "default": "other",
            },
            "content": {
                "type": "string",
                "minLength": 10,
                "maxLength": 2000,
                "description": "情况说明：什么时间、什么产品、发现了什么（至少 10 个字）。",
            },
            "product": {"type": "string", "maxLength": 80},
            "purchased_on": {"type": "string", "format": "date"},
            "amount_yuan": {"type": "number", "minimum": 0, "maximum": 1000000},
            "demand": {
                "type": "string",
                "maxLength": 300,
                "description": "投诉诉求（投诉必填，例如退款、赔偿、道歉）。",
            },
            "reporter_name": {
                "type": "string",
                "maxLength": 40,
                "description": "真实姓名（2–20 个字）；投诉和实名举报必填。",
            },
            "reporter_phone": {
                "type": "string",
                "pattern": "^[0-9]{7,20}$",
                "description": "11 位手机号码；投诉和实名举报必填。",
            },
            "anonymous": {
                "type": "boolean",
                "description": "匿名举报（投诉不能匿名）。不填姓名和电话的举报视为匿名。",
            },
            "insider": {"type": "boolean", "description": "内部知情人举报。"},
            "photos": {
                "type": "array",
                "maxItems": 3,
                "items": {"type": "string", "format": "binary"},
                "description": "最多 3 张 JPG/PNG/WebP，每张不超过 8 MB；重新编码并去除 EXIF 等全部元数据。",
            },
        },
    }
    paths = {
        "/openapi.json": get_op(
            "openapi",
            "本文档（OpenAPI 3.1）。",
            json_response("OpenAPI 文档。", {"type": "object"}),
        ),
        "/workshops": get_op(
            "listWorkshops",
            "作坊列表（可按榜级、辖区、类别、风险、状态筛选）。",
            json_response("一页作坊。", ws_page),
            filters + PAGE_PARAMS,
        ),
        "/workshops/{code}": get_op(
            "getWorkshop",
            "作坊公示信息：榜级、状态、称号、检查、抽检、定榜记录、整改清单、公示栏。",
            json_response("作坊。", ref("WorkshopDetail")),
            [WORKSHOP_CODE],
            {"404": error("找不到这个作坊。")},
        ),
        "/workshops/{code}/history": get_op(
            "getWorkshopHistory",
            "作坊的公开记录（定榜、称号授予与撤销、经营状态）及其在公开哈希链中的位置，可与每日公开数据中的链头核对。",
            json_response(
                "公开记录。",
                obj(
                    {
                        "workshop": {"type": "string"},
                        "entries": {"type": "array", "items": ref("PublicRecord")},
                        "head": ref("ChainHead"),
                    }
                ),
            ),
            [WORKSHOP_CODE],
            {"404": error("找不到这个作坊。")},
        ),
        "/history/head": get_op(
            "getHistoryHead",
            "公开哈希链的最新位置（序号与哈希）。",
            json_response("链头。", obj({"head": ref("ChainHead")})),
        ),
        "/search": get_op(
            "search",
            "搜索作坊（与网站相同的筛选条件）。",
            json_response("一页结果。", page_of(ref("WorkshopSummary"), query=NULLABLE_STR)),
            filters + PAGE_PARAMS,
        ),
        "/nearby": get_op(
            "nearby",
            f"附近的作坊，按距离由近到远。范围内的作坊只数到 {NEARBY_TOTAL_LIMIT} 家"
            "（翻页更深时数到本页之后一家）：超过时 total 为下限，total_is_lower_bound 为 true，links.next 照常指向下一页。",
            json_response(
                "一页结果。",
                page_of(
                    ref("WorkshopSummary"),
                    total_is_lower_bound={
                        "type": "boolean",
                        "description": "true：范围内至少有 total 家（只数到上限，pages 也是下限）；"
                        "false：total 是确切数目。",
                    },
                    center=obj({"lat": {"type": "number"}, "lng": {"type": "number"}}),
                    radius_km={"type": "number"},
                ),
            ),
            [
                query(
                    "lat",
                    {"type": "number", "minimum": -90, "maximum": 90},
                    "纬度（WGS-84）。",
                    True,
                ),
                query(
                    "lng",
                    {"type": "number", "minimum": -180, "maximum": 180},
                    "经度（WGS-84）。",
                    True,
                ),
                query(
                    "radius_km",
                    {"type": "number", "minimum": 0.01, "maximum": 50, "default": 3},
                    "半径（公里）。",
                ),
            ]
            + filters
            + PAGE_PARAMS,
        ),
        "/rankings": get_op(
            "rankings",
            "榜单：已定榜的在营作坊，榜级从高到低，并附各榜人数。",
            json_response(
                "一页榜单。",
                page_of(
                    ref("WorkshopSummary"),
                    counts={
                        "type": "array",
                        "items": {
                            "allOf": [ref("LadderTier")],
                            "type": "object",
                            "properties": {"count": {"type": "integer", "minimum": 0}},
                            "required": ["count"],
                        },
                    },
                ),
            ),
            place + PAGE_PARAMS,
        ),
        "/tiers": get_op(
            "tiers",
            "榜级设置（本地配置）。",
            json_response(
                "榜级。",
                obj(
                    {
                        "items": {"type": "array", "items": ref("LadderTier")},
                        "unrated": ref("LadderTier"),
                        "inspection_overdue_days": {"type": "integer"},
                    }
                ),
            ),
        ),
        "/categories": get_op(
            "categories",
            "食品类别。",
            json_response(
                "类别。",
                obj(
                    {
                        "items": {
                            "type": "array",
                            "items": obj(
                                {
                                    "code": {"type": "string"},
                                    "name": {"type": "string"},
                                    "high_risk": {"type": "boolean"},
                                    "workshop_count": {"type": "integer", "minimum": 0},
                                }
                            ),
                        }
                    }
                ),
            ),
        ),
        "/jurisdictions": get_op(
            "jurisdictions",
            "辖区树：市 → 区县 → 所/中队。",
            json_response(
                "辖区。", obj({"items": {"type": "array", "items": ref("JurisdictionNode")}})
            ),
        ),
        "/announcements": get_op(
            "announcements",
            "定榜公告（已发布的定榜决定），最新在前。",
            json_response(
                "一页公告。",
                page_of(
                    {
                        "allOf": [ref("TierDecision")],
                        "type": "object",
                        "properties": {
                            "id": {"type": "integer"},
                            "workshop": obj(
                                {
                                    "code": {"type": "string"},
                                    "name": {"type": "string"},
                                    "links": ref("WorkshopLinks"),
                                }
                            ),
                        },
                        "required": ["id", "workshop"],
                    }
                ),
            ),
            [query("county", CODE_PARAM, "区县辖区代码。")] + PAGE_PARAMS,
        ),
        "/revocations": get_op(
            "revocations",
            "取消称号通报（近 12 个月撤销的示范称号，含牌匾收回日期），最新在前。",
            json_response(
                "通报。", obj({"items": {"type": "array", "items": ref("RevocationNotice")}})
            ),
            [query("county", CODE_PARAM, "区县辖区代码。")],
        ),
        "/complaints": {
            "post": {
                "operationId": "submitComplaint",
                "summary": "提交投诉或举报（multipart，可附照片）。返回查询码和查询密码。",
                "requestBody": {
                    "required": True,
                    "content": {"multipart/form-data": {"schema": complaint_form}},
                },
                "responses": {
                    "201": json_response(
                        "已受理登记。",
                        obj(
                            {
                                "password": {
                                    "type": "string",
                                    "description": "查询密码，只在此时返回一次。",
                                },
                                "items": {
                                    "type": "array",
                                    "minItems": 1,
                                    "maxItems": 2,
                                    "items": {
                                        "allOf": [ref("ComplaintStatus")],
                                        "type": "object",
                                        "properties": {
                                            "links": obj({"status": {"type": "string"}})
                                        },
                                        "required": ["links"],
                                    },
                                },
                                "notice": {"type": "string"},
                            }
                        ),
                    ),
                    "413": error("内容太大。"),
                    "415": error("不是 multipart/form-data。"),
                    "422": error("内容有误；details 按字段说明。"),
                    "429": TOO_MANY,
                },
            }
        },
        "/complaints/{tracking_no}": get_op(
            "complaintStatus",
            "凭查询码和查询密码查看办理进度（不返回举报内容和身份信息）。",
            json_response("办理进度。", ref("ComplaintStatus")),
            [
                {
                    "name": "tracking_no",
                    "in": "path",
                    "required": True,
                    "schema": {"type": "string", "maxLength": 20},
                },
                {
                    "name": "X-Tracking-Password",
                    "in": "header",
                    "required": True,
                    "schema": {"type": "string", "maxLength": 64},
                    "description": "查询密码，只能放在请求头（不接受查询参数：网址会记入访问日志）。",
                },
            ],
            {"404": error("查询码或密码不正确。")},
        ),
    }
    paths.update(wechat_paths())
    paths["/complaints"]["post"]["security"] = OPTIONAL_BEARER
    paths["/complaints"]["post"]["description"] = (
        "带小程序登录令牌（Authorization: Bearer）提交的实名投诉举报绑定到该微信用户，"
        "可在 /me/complaints 查看；匿名举报不绑定。"
    )
    paths["/complaints"]["post"]["responses"]["401"] = error(
        "登录令牌无效或已过期（不带令牌可匿名提交）。"
    )
    created = paths["/complaints"]["post"]["responses"]["201"]["content"]["application/json"]
    created["schema"]["properties"]["bound"] = {
        "type": "boolean",
        "description": "已绑定到登录的微信用户（小程序“我的投诉举报”可见）。",
    }
    bureau = deployment.bureau
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "食坊榜开放接口",
            "version": "1.0.0",
            "description": (
                f"{bureau.name}食品小作坊分级定榜公示数据。只提供公示页面上公开的信息：负责人只显示姓氏，"
                '不提供任何投诉举报人的信息。所有错误都以 {"error": {status, code, message, details}} 返回。'
                "成功的 GET 响应带 ETag，可用 If-None-Match 获得 304。"
            ),
        },
        "servers": [{"url": "/api/v1"}],
        "paths": paths,
        "components": {
            "schemas": schemas(),
            "securitySchemes": {
                "wechatBearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "POST /wechat/login 换得的不透明令牌，有效期见 expires_in。",
                }
            },
        },
    }


# --- the mini-program's endpoints (public_site/api/wechat.py) ----------------------------------

BEARER = [{"wechatBearer": []}]
OPTIONAL_BEARER = [{}, {"wechatBearer": []}]
UNAUTHORIZED = error("未登录，或登录令牌无效、已过期：请重新 wx.login 并调用 /wechat/login。")
WECHAT_BUSY = {
    "description": "微信服务繁忙、限频或本站未开通小程序：稍后重试。",
    "headers": {
        "Retry-After": {"schema": {"type": "integer", "minimum": 1}, "description": "秒。"}
    },
    "content": {"application/json": {"schema": ref("Error")}},
}
NOT_JSON = error("不是 application/json 的 JSON 对象。")
WX_CODE = {"type": "string", "minLength": 1, "maxLength": 128}


def json_body(schema: dict) -> dict:
    return {"required": True, "content": {"application/json": {"schema": schema}}}


def post_op(op_id: str, summary: str, body: dict, responses: dict, **extra) -> dict:
    return {
        "post": {
            "operationId": op_id,
            "summary": summary,
            "requestBody": json_body(body),
            "responses": dict(responses, **{"415": NOT_JSON, "429": TOO_MANY}),
            **extra,
        }
    }


def wechat_paths() -> dict:
    tracking_no = {
        "name": "tracking_no",
        "in": "path",
        "required": True,
        "schema": {"type": "string", "maxLength": 20},
    }
    me = get_op(
        "myComplaints",
        "我的投诉举报：用小程序登录提交并绑定的事项，含状态、办理期限和公开答复（无需查询密码）。",
        json_response(
            "全部已绑定事项，最新在前。",
            obj(
                {
                    "items": {"type": "array", "items": ref("ComplaintStatus")},
                    "total": {"type": "integer", "minimum": 0},
                }
            ),
        ),
        extra={"401": UNAUTHORIZED},
    )
    me["get"]["security"] = BEARER
    return {
        "/wechat/login": post_op(
            "wechatLogin",
            "小程序登录：用 wx.login 的 code 换取本站令牌（openid 和 session_key 不返回）。",
            obj({"code": dict(WX_CODE, description="wx.login 返回的 code，只能用一次。")}),
            {
                "200": json_response(
                    "登录成功。",
                    obj(
                        {
                            "token": {
                                "type": "string",
                                "description": "放在 Authorization: Bearer 中。",
                            },
                            "expires_in": {"type": "integer", "minimum": 1, "description": "秒。"},
                        }
                    ),
                ),
                "400": error("缺少 code。"),
                "401": error("code 无效或已使用（微信 40029/40163）。"),
                "503": WECHAT_BUSY,
            },
        ),
        "/me/complaints": me,
        "/me/complaints/{tracking_no}/phone": post_op(
            "verifyPhone",
            "用 getPhoneNumber 的 code 验证实名投诉举报登记的手机号。",
            obj({"code": dict(WX_CODE, description="手机号快速验证组件返回的 code。")}),
            {
                "200": json_response(
                    "手机号已验证。",
                    obj(
                        {
                            "tracking_no": {"type": "string"},
                            "phone_verified": {"type": "boolean"},
                            "verified_at": NULLABLE_DATETIME,
                        }
                    ),
                ),
                "400": error("缺少 code。"),
                "401": UNAUTHORIZED,
                "404": error("没有绑定到本用户的这件事项。"),
                "422": error("匿名举报、code 无效，或微信手机号与登记的不一致。"),
                "503": WECHAT_BUSY,
            },
            parameters=[tracking_no],
            security=BEARER,
        ),
        "/me/subscriptions": post_op(
            "subscribe",
            "记录用户在小程序中同意的一次性订阅：某件投诉举报的办理进度，或某个作坊的榜级、称号、经营状态变化。",
            {
                "type": "object",
                "required": ["kind"],
                "properties": {
                    "kind": {"type": "string", "enum": ["case", "workshop"]},
                    "tracking_no": {
                        "type": "string",
                        "maxLength": 20,
                        "description": "kind=case：已绑定事项的查询码。",
                    },
                    "workshop_code": {
                        "type": "string",
                        "maxLength": 20,
                        "description": "kind=workshop：作坊公示码。",
                    },
                },
            },
            {
                "201": json_response(
                    "已记录；事项或作坊有变化时发送一条订阅消息。",
                    obj(
                        {
                            "id": {"type": "integer"},
                            "kind": {"type": "string", "enum": ["case", "workshop"]},
                            "target": {"type": "string"},
                            "template_id": {"type": "string"},
                            "status": {"type": "string"},
                        }
                    ),
                ),
                "400": error("kind、tracking_no 或 workshop_code 有误。"),
                "401": UNAUTHORIZED,
                "404": error("找不到该事项（或不是本用户的）或作坊。"),
                "422": error("事项已办结，或订阅过多。"),
                "503": WECHAT_BUSY,
            },
            security=BEARER,
        ),
        "/scan": get_op(
            "scan",
            "扫码：公示牌二维码中的链接 → 作坊，以及这张公示牌是否为最新（与网页相同的规则）。",
            json_response(
                "作坊及公示牌状态。",
                obj(
                    {
                        "code": {"type": "string"},
                        "workshop": ref("WorkshopSummary"),
                        "poster": obj(
                            {
                                "issue_no": {"type": "integer"},
                                "found": {"type": "boolean"},
                                "current": {"type": "boolean"},
                                "state": {
                                    "type": "string",
                                    "enum": ["current", "outdated", "unknown"],
                                },
                                "issued_at": NULLABLE_DATETIME,
                                "message": {"type": "string"},
                            },
                            nullable=True,
                        ),
                    }
                ),
            ),
            [
                query(
                    "q",
                    {"type": "string", "maxLength": 300},
                    "扫描到的完整链接（小程序 onLoad 的 options.q，已解码）。",
                    True,
                )
            ],
            {"404": error("不是本站公示牌的链接，或作坊不存在。")},
        ),
        # Last: schemathesis calls operations in this order, and these two end the sign-in.
        "/wechat/logout": {
            "post": {
                "operationId": "wechatLogout",
                "summary": "退出登录：本次登录的令牌随即失效（其他设备的登录不受影响）。",
                "responses": {
                    "204": {"description": "已退出。"},
                    "401": UNAUTHORIZED,
                    "429": TOO_MANY,
                },
                "security": BEARER,
            }
        },
        "/me": {
            "delete": {
                "operationId": "forgetMe",
                "summary": "注销：删除本站保存的该用户的一切信息（openid、登录、订阅、消息和与事项的绑定）。"
                "已提交的投诉举报作为监管记录保留，仍可凭查询码和查询密码查询。",
                "responses": {
                    "200": json_response(
                        "已注销。",
                        obj(
                            {
                                "deleted": {"type": "boolean"},
                                "cases_unbound": {"type": "integer", "minimum": 0},
                            }
                        ),
                    ),
                    "401": UNAUTHORIZED,
                    "429": TOO_MANY,
                },
                "security": BEARER,
            }
        },
    }
