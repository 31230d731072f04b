"""The audit log as a regulator reads it: actions and fields in Chinese, entities and ids by
name, codes in their display form (tier names, statuses, reasons).

The rows themselves are never changed (audit.py owns them); this only reads them.
"""

from datetime import date, datetime

from sqlalchemy import select

from shifangbang import current_deployment
from shifangbang import labels as L
from shifangbang.extensions import db
from shifangbang.models import (
    Complaint,
    Inspection,
    Jurisdiction,
    Poster,
    RandomDraw,
    RectificationItem,
    RevocationProposal,
    Sampling,
    TierDecision,
    Title,
    TitleGrant,
    User,
    Workshop,
)
from shifangbang.templating import date_cn, datetime_cn

EMPTY = "（空）"

FIELD_LABELS = {
    "cert_type": "证件类型",
    "cert_no": "证件编号",
    "name": "作坊名称",
    "operator_name": "经营者",
    "operator_phone": "联系电话",
    "address": "地址",
    "station_id": "所属所",
    "lat": "纬度",
    "lng": "经度",
    "varieties": "品种明细",
    "valid_from": "有效期起",
    "valid_to": "有效期至",
    "status": "状态",
    "status_changed_on": "状态变更日期",
    "reason": "原因",
    "safety_manager": "食品安全管理员",
    "plate_no": "公示牌编号",
    "trademark": "商标",
    "time_honoured": "老字号",
    "geo_indication": "地理标志",
    "intangible_heritage": "非遗",
    "regional_brand": "区域公用品牌",
    "pledge_signed_on": "承诺书签署日期",
    "seven_in_place": "七到位",
    "additives": "食品添加剂",
    "categories": "食品类别",
    "staff": "从业人员（姓名、岗位、健康证有效期）",
    "username": "用户名",
    "display_name": "姓名",
    "role": "角色",
    "jurisdiction_id": "辖区",
    "active": "启用",
    "totp": "动态验证码",
    "totp_required": "必须启用动态验证码",
    "workshop_id": "作坊",
    "inspected_on": "检查日期",
    "kind": "类型",
    "result": "结果",
    "summary": "检查情况",
    "rectification_required": "需要整改",
    "rectification_due": "整改期限",
    "rectification_done_on": "整改完成日期",
    "inspection_id": "监督检查",
    "problem": "问题",
    "measure": "整改措施",
    "due_on": "期限",
    "fixed_on": "销号日期",
    "verified_by_id": "核实人",
    "sampled_on": "抽样日期",
    "product": "样品",
    "batch": "批号",
    "lab": "检验机构",
    "failed_item": "不合格项目",
    "measured_value": "检测值",
    "limit_value": "标准值",
    "notice_no": "通知书编号",
    "notice_on": "通知书送达日期",
    "retest_status": "复检状态",
    "retest_requested_on": "复检申请日期",
    "retest_decided_on": "复检结论日期",
    "from_tier": "原榜级",
    "to_tier": "新榜级",
    "tier_code": "榜级",
    "direction": "方向",
    "reason_category": "原因类别",
    "effective_on": "生效日期",
    "sampling_id": "抽检",
    "complaint_id": "投诉举报",
    "is_upgrade_request": "升榜申请",
    "source": "来源",
    "title_id": "称号",
    "grant_id": "称号授予",
    "granted_on": "授予日期",
    "certificate_no": "证书编号",
    "last_reviewed_on": "最近复核日期",
    "revoked_on": "撤销日期",
    "revoke_rule": "撤销依据",
    "revoke_reason": "撤销理由",
    "barred_until": "禁止申请至",
    "serious_problem": "严重问题",
    "incident": "食品安全事故",
    "rule": "依据",
    "bar_years": "禁止申请年数",
    "note": "说明",
    "evaluated_on": "评估日期",
    "authority": "授予机关",
    "level": "级别",
    "extended": "已延期",
    "extension_reason": "延期理由",
    "assigned_to_id": "承办人",
    "refusal_reason": "不予受理理由",
    "termination_reason": "终止调解理由",
    "verified": "经查属实",
    "closed_at": "办结时间",
    "public_reply": "公开答复",
    "event_id": "办理记录",
    "seed": "随机种子",
    "params": "抽取条件",
    "pool_size": "候选作坊数",
    "published": "已公开",
    "issue_no": "公示牌序号",
    "size": "纸张",
    "issued_at": "发放时间",
    "count": "数量",
    "size_n": "规模",
}
# Where one field name means different things on different entities.
ENTITY_FIELD_LABELS = {"title": {"name": "称号名称"}, "database": {"size": "作坊数"}}

PROPOSAL_STATUS = {"pending": "待处理", "confirmed": "已确认", "dismissed": "已驳回"}
STATUS_BY_ENTITY = {
    "workshop": L.WORKSHOP_STATUS,
    "tier_decision": L.TIER_DECISION_STATUS,
    "complaint": L.COMPLAINT_STATUS,
    "title_grant": L.GRANT_STATUS,
    "revocation_proposal": PROPOSAL_STATUS,
}
RESULT_BY_ENTITY = {"inspection": L.INSPECTION_RESULT, "sampling": L.SAMPLING_RESULT}
CODE_LISTS = {
    "retest_status": L.RETEST_STATUS,
    "direction": L.TIER_DIRECTION,
    "reason_category": L.TIER_REASONS,
    "refusal_reason": L.REFUSAL_REASONS,
    "termination_reason": L.TERMINATION_REASONS,
    "rule": L.REVOCATION_RULES,
    "revoke_rule": L.REVOCATION_RULES,
    "level": L.TITLE_LEVEL,
    "role": L.ROLES,
}
TIER_FIELDS = ("from_tier", "to_tier", "tier_code")
# Entities that belong to a workshop, with the model holding workshop_id.
WORKSHOP_CHILDREN = {
    "tier_decision": TierDecision,
    "inspection": Inspection,
    "sampling": Sampling,
    "rectification_item": RectificationItem,
    "title_grant": TitleGrant,
    "poster": Poster,
    "complaint": Complaint,
}


def _int(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


class Names:
    """Names for the ids a page of audit rows mentions, fetched in a few queries."""

    def __init__(self, rows):
        ids: dict[str, set[int]] = {}

        def want(kind, value):
            if (n := _int(value)) is not None:
                ids.setdefault(kind, set()).add(n)

        for row in rows:
            want(row.entity, row.entity_id)
            for side in (row.before or {}, row.after or {}):
                for key, value in side.items():
                    if key.endswith("_id") and not isinstance(value, (list, dict)):
                        want(key[:-3], value)
                if row.entity == "random_draw":
                    for item in side.get("result") or []:
                        if isinstance(item, dict):
                            want("workshop", item.get("workshop_id"))
        # Children first: they name the workshops (and grants the titles) to load next.
        self.workshop_of: dict[tuple[str, int], int] = {}
        self.label: dict[tuple[str, int], str] = {}
        self.grant_title: dict[int, int] = {}
        for entity, model in WORKSHOP_CHILDREN.items():
            if ids.get(entity):
                for obj in db.session.scalars(select(model).where(model.id.in_(ids[entity]))):
                    if obj.workshop_id is not None:
                        self.workshop_of[(entity, obj.id)] = obj.workshop_id
                        ids.setdefault("workshop", set()).add(obj.workshop_id)
                    self.label[(entity, obj.id)] = self._child_label(entity, obj)
        if ids.get("revocation_proposal"):
            for p in db.session.scalars(
                select(RevocationProposal).where(
                    RevocationProposal.id.in_(ids["revocation_proposal"])
                )
            ):
                ids.setdefault("grant", set()).add(p.grant_id)
                self.label[("revocation_proposal", p.id)] = L.REVOCATION_RULES.get(p.rule, p.rule)
                self.workshop_of[("revocation_proposal", p.id)] = p.grant.workshop_id
                ids.setdefault("workshop", set()).add(p.grant.workshop_id)
        grant_ids = ids.get("grant", set()) | ids.get("title_grant", set())
        if grant_ids:
            for g in db.session.scalars(select(TitleGrant).where(TitleGrant.id.in_(grant_ids))):
                self.workshop_of[("title_grant", g.id)] = g.workshop_id
                ids.setdefault("workshop", set()).add(g.workshop_id)
                ids.setdefault("title", set()).add(g.title_id)
                self.grant_title[g.id] = g.title_id
        self.workshops = self._map(Workshop, ids.get("workshop"), lambda w: w.name)
        self.places = self._map(
            Jurisdiction,
            ids.get("station", set()) | ids.get("jurisdiction", set()),
            lambda j: j.name,
        )
        user_ids = (
            ids.get("user", set()) | ids.get("assigned_to", set()) | ids.get("verified_by", set())
        )
        self.users = self._map(User, user_ids, lambda u: f"{u.display_name}（{u.username}）")
        self.titles = self._map(Title, ids.get("title"), lambda t: t.name)
        self.draws = self._map(RandomDraw, ids.get("random_draw"), lambda d: f"第 {d.id} 次抽取")

    @staticmethod
    def _map(model, ids, name) -> dict[int, str]:
        if not ids:
            return {}
        return {o.id: name(o) for o in db.session.scalars(select(model).where(model.id.in_(ids)))}

    @staticmethod
    def _child_label(entity, obj) -> str:
        if entity == "inspection":
            return f"{date_cn(obj.inspected_on)}检查"
        if entity == "sampling":
            return f"{date_cn(obj.sampled_on)}抽检 {obj.product}"
        if entity == "complaint":
            return obj.tracking_no
        if entity == "rectification_item":
            return obj.problem[:30]
        if entity == "tier_decision":
            dep = current_deployment()
            return f"{dep.tier(obj.from_tier).name} → {dep.tier(obj.to_tier).name}"
        if entity == "poster":
            return f"第 {obj.issue_no} 张"
        return ""

    def workshop(self, workshop_id) -> str:
        n = _int(workshop_id)
        return self.workshops.get(n, f"已删除的作坊（#{workshop_id}）")

    def ref(self, field: str, value) -> str:
        """An *_id value by name."""
        n = _int(value)
        kind = field[:-3]
        if kind == "workshop":
            return self.workshop(n)
        if kind in ("station", "jurisdiction"):
            return self.places.get(n, f"#{value}")
        if kind in ("assigned_to", "verified_by", "user"):
            return self.users.get(n, f"#{value}")
        if kind == "title":
            return self.titles.get(n, f"#{value}")
        if kind in ("inspection", "sampling", "complaint"):
            return self.label.get((kind, n), f"#{value}")
        if kind == "grant":
            return self.grant(n)
        if kind == "event":
            return f"#{value}"
        return str(value)

    def grant(self, grant_id) -> str:
        key = ("title_grant", grant_id)
        title = self.titles.get(self.grant_title.get(grant_id), "称号")
        if key in self.workshop_of:
            return f"{self.workshop(self.workshop_of[key])} · {title}"
        return f"#{grant_id}"

    def entity(self, row) -> tuple[str, int | None]:
        """(what the row is about, by name; the workshop id to link to, if any)."""
        n = _int(row.entity_id)
        if row.entity == "workshop":
            return self.workshop(n), n
        if row.entity == "user":
            return self.users.get(n, f"#{row.entity_id}"), None
        if row.entity == "title":
            return self.titles.get(n, f"#{row.entity_id}"), None
        if row.entity == "random_draw":
            return self.draws.get(n, f"#{row.entity_id}"), None
        if row.entity == "title_grant":
            return self.grant(n), self.workshop_of.get(("title_grant", n))
        wid = self.workshop_of.get((row.entity, n))
        what = self.label.get((row.entity, n), f"#{row.entity_id}" if row.entity_id else "")
        if wid is not None:
            return f"{self.workshop(wid)} · {what}" if what else self.workshop(wid), wid
        return what, None


def field_label(entity: str, key: str) -> str:
    return ENTITY_FIELD_LABELS.get(entity, {}).get(key) or FIELD_LABELS.get(key, key)


def _moment(text: str) -> str:
    """An ISO date or datetime from a snapshot in Chinese (datetimes are stored UTC)."""
    try:
        if len(text) == 10:
            return date_cn(date.fromisoformat(text))
        return datetime_cn(datetime.fromisoformat(text))
    except ValueError:
        return text


def show(field: str, value, entity: str = "", names: Names | None = None) -> str:
    """A value as a regulator reads it: Chinese labels, names for ids, lists joined, 是/否."""
    if value is None or value == "" or value == [] or value == {}:
        return EMPTY
    if isinstance(value, bool):
        return "是" if value else "否"
    if field == "status" and entity in STATUS_BY_ENTITY:
        return STATUS_BY_ENTITY[entity].get(value, value)
    if field == "status":
        return L.WORKSHOP_STATUS.get(value, value)
    if field == "kind":
        return L.INSPECTION_KIND.get(value, L.COMPLAINT_KIND.get(value, value))
    if field == "result" and entity in RESULT_BY_ENTITY:
        return RESULT_BY_ENTITY[entity].get(value, value)
    if field == "result" and isinstance(value, list) and names is not None:
        shops = [names.workshop(x.get("workshop_id")) for x in value if isinstance(x, dict)]
        return f"{len(shops)} 家：" + "、".join(shops)
    if field in TIER_FIELDS:
        return current_deployment().tier(value).name
    if field in CODE_LISTS and isinstance(value, str):
        return CODE_LISTS[field].get(value, value)
    if field.endswith("_id") and names is not None and not isinstance(value, (list, dict)):
        return names.ref(field, value)
    if field == "seven_in_place" and isinstance(value, dict):
        done = [L.SEVEN_IN_PLACE.get(k, k) for k, v in value.items() if v]
        return "、".join(done) if done else "均未到位"
    if isinstance(value, dict):
        return "；".join(
            f"{field_label(entity, k)}：{show(k, v, entity, names)}" for k, v in value.items()
        )
    if isinstance(value, list):
        return "；".join(
            show("", v, entity, names)
            if not isinstance(v, list)
            else " ".join(_moment(str(x)) if x else "" for x in v)
            for v in value
        )
    if isinstance(value, str) and len(value) >= 10 and value[4] == "-" and value[7] == "-":
        return _moment(value)
    return str(value)


def diff(row, names: Names | None = None) -> list[tuple[str, str, str, bool]]:
    """(label, before, after, changed) for every field either side mentions with a value."""
    before, after = row.before or {}, row.after or {}
    rows = []
    for key in dict.fromkeys([*before, *after]):
        b = show(key, before.get(key), row.entity, names)
        a = show(key, after.get(key), row.entity, names)
        if b == a == EMPTY:
            continue
        rows.append((field_label(row.entity, key), b, a, b != a))
    return rows
