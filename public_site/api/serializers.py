"""Public views of the model as plain dicts. Only what the public workshop page shows: operators and
staff are masked (templating.mask_name), no phone or identity number, and nothing about complainants."""

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select

from shifangbang import current_deployment, labels, public_status, tiers
from shifangbang.extensions import db
from shifangbang.models import (
    Inspection,
    Jurisdiction,
    RectificationItem,
    Sampling,
    TierDecision,
    TitleGrant,
    Workshop,
)
from shifangbang.templating import mask_name
from shifangbang.timeutil import today

from .common import absolute

RECENTLY_REVOKED_DAYS = 365
RECENTLY_FIXED_DAYS = 365


def iso_date(value: date | None) -> str | None:
    return value.isoformat() if value else None


def iso_datetime(value: datetime | None) -> str | None:
    """Stored naive UTC → RFC 3339 with the Z suffix."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC, microsecond=0).isoformat().replace("+00:00", "Z")


def tier_dict(code: str | None, since: date | None = None) -> dict:
    t = current_deployment().tier(code)
    return {
        "code": t.code,
        "name": t.name,
        "colour": t.colour,
        "rank": t.rank,
        "since": iso_date(since),
    }


def ladder_dict(t) -> dict:
    return {
        "code": t.code,
        "name": t.name,
        "colour": t.colour,
        "rank": t.rank,
        "description": t.description,
        "needs_rectification": t.needs_rectification,
    }


def jurisdiction_ref(j: Jurisdiction | None) -> dict | None:
    if j is None:
        return None
    return {"code": j.code, "name": j.name, "level": j.level}


def overdue(workshop: Workshop) -> bool:
    """超期未检: no inspection within the configured number of days (counted from registration if never)."""
    days = current_deployment().bureau.inspection_overdue_days
    if workshop.status != "open":
        return False
    if workshop.last_inspected_on is not None:
        return (today() - workshop.last_inspected_on).days > days
    created = workshop.created_at.date() if workshop.created_at else today()
    return (today() - created).days > days


def links(workshop: Workshop) -> dict:
    return {
        "self": absolute("api.workshop_detail", code=workshop.public_code),
        "page": absolute("public.home").rstrip("/") + f"/w/{workshop.public_code}",
        "badge": absolute("badge.badge", code=workshop.public_code),
    }


def workshop_summary(w: Workshop, distance_km: float | None = None) -> dict:
    station = w.station
    county = station.county if station is not None else None
    out = {
        "code": w.public_code,
        "name": w.name,
        "address": w.address,
        "tier": tier_dict(w.tier_code, w.tier_since),
        "last_inspected_on": iso_date(w.last_inspected_on),
        "status": w.status,
        "status_label": labels.WORKSHOP_STATUS.get(w.status, w.status),
        "categories": [
            {"code": c.code, "name": c.name, "high_risk": c.high_risk} for c in w.categories
        ],
        "high_risk": w.high_risk,
        "station": jurisdiction_ref(station),
        "county": jurisdiction_ref(county),
        "location": {"lat": w.lat, "lng": w.lng}
        if w.lat is not None and w.lng is not None
        else None,
        "links": links(w),
    }
    if distance_km is not None:
        out["distance_km"] = round(distance_km, 3)
    return out


def _titles(w: Workshop) -> tuple[list, list]:
    grants = db.session.scalars(
        select(TitleGrant)
        .where(TitleGrant.workshop_id == w.id)
        .order_by(TitleGrant.granted_on.desc())
    ).all()
    since = today() - timedelta(days=RECENTLY_REVOKED_DAYS)

    def one(g: TitleGrant) -> dict:
        return {
            "name": g.title.name,
            "authority": g.title.authority,
            "level": g.title.level,
            "level_label": labels.TITLE_LEVEL.get(g.title.level, g.title.level),
            "granted_on": iso_date(g.granted_on),
            "certificate_no": g.certificate_no,
            "last_reviewed_on": iso_date(g.last_reviewed_on),
        }

    held = [one(g) for g in grants if g.status == "held"]
    revoked = [
        dict(
            one(g),
            revoked_on=iso_date(g.revoked_on),
            reason=labels.REVOCATION_RULES.get(g.revoke_rule or "", g.revoke_rule),
            barred_until=iso_date(g.barred_until),
        )
        for g in grants
        if g.status == "revoked" and g.revoked_on and g.revoked_on >= since
    ]
    return held, revoked


def inspection_dict(i: Inspection | None) -> dict | None:
    if i is None:
        return None
    return {
        "date": iso_date(i.inspected_on),
        "kind": i.kind,
        "kind_label": labels.INSPECTION_KIND.get(i.kind, i.kind),
        "result": i.result,
        "result_label": labels.INSPECTION_RESULT.get(i.result, i.result),
        "failed_items": [
            {"code": it.code, "text": it.text, "is_key": it.is_key}
            for it in i.items
            if it.outcome == "fail"
        ],
        "rectification_required": i.rectification_required,
        "rectification_due": iso_date(i.rectification_due),
        "rectification_done_on": iso_date(i.rectification_done_on),
    }


def sampling_dict(s: Sampling) -> dict:
    return {
        "date": iso_date(s.sampled_on),
        "product": s.product,
        "batch": s.batch,
        "lab": s.lab,
        "result": s.result,
        "result_label": labels.SAMPLING_RESULT.get(s.result, s.result),
        "failed_item": s.failed_item,
        "measured_value": s.measured_value,
        "limit_value": s.limit_value,
        "notice_no": s.notice_no,
        "retest_status": s.retest_status,
        "retest_label": labels.RETEST_STATUS.get(s.retest_status, ""),
        "retest_pending": s.retest_status == "requested",
    }


def decision_dict(d: TierDecision) -> dict:
    return {
        "from_tier": tier_dict(d.from_tier),
        "to_tier": tier_dict(d.to_tier),
        "direction": d.direction,
        "direction_label": labels.TIER_DIRECTION.get(d.direction, d.direction),
        "reason_category": d.reason_category,
        "reason_label": labels.TIER_REASONS.get(d.reason_category, d.reason_category),
        "effective_on": iso_date(d.effective_on),
        "published_at": iso_datetime(d.published_at),
    }


def _rectification(w: Workshop) -> dict:
    items = db.session.scalars(
        select(RectificationItem)
        .where(RectificationItem.workshop_id == w.id)
        .order_by(RectificationItem.due_on)
    ).all()
    since = today() - timedelta(days=RECENTLY_FIXED_DAYS)
    now = today()
    return {
        "open": [
            {
                "problem": r.problem,
                "measure": r.measure,
                "due_on": iso_date(r.due_on),
                "overdue": r.due_on < now,
            }
            for r in items
            if r.fixed_on is None
        ],
        "recently_fixed": [
            {
                "problem": r.problem,
                "measure": r.measure,
                "due_on": iso_date(r.due_on),
                "fixed_on": iso_date(r.fixed_on),
            }
            for r in items
            if r.fixed_on is not None and r.fixed_on >= since
        ],
    }


def _info_board(w: Workshop) -> dict:
    deployment = current_deployment()
    bureau = deployment.bureau
    station = w.station
    now = today()
    return {
        "certificate": {
            "type": w.cert_type,
            "number": w.cert_no,
            "valid_from": iso_date(w.valid_from),
            "valid_to": iso_date(w.valid_to),
        },
        "operator": mask_name(w.operator_name),
        "safety_manager": mask_name(w.safety_manager) or None,
        "staff_health": [
            {
                "name": mask_name(s.name),
                "role": s.role,
                "health_cert_expires": iso_date(s.health_cert_expires),
                "valid": s.health_cert_expires is not None and s.health_cert_expires >= now,
            }
            for s in w.staff
        ],
        "pledge": {"signed_on": iso_date(w.pledge_signed_on), "items": list(labels.SEVEN_PLEDGES)},
        "seven_in_place": [
            {"key": k, "label": v, "in_place": bool((w.seven_in_place or {}).get(k))}
            for k, v in labels.SEVEN_IN_PLACE.items()
        ],
        "additives": [a for a in (w.additives or "").replace(",", "、").split("、") if a.strip()],
        "plate_no": w.plate_no,
        "supervising_station": {
            "code": station.code,
            "name": station.name,
            "phone": station.phone,
            "address": station.address,
        }
        if station
        else None,
        "complaint_phones": list(bureau.complaint_phones),
        "whistleblower_reward_notice": bureau.whistleblower_reward_notice,
        "colour_codes": [
            {"colour": c["colour"], "hex": c["hex"], "use": c["use"]}
            for c in deployment.colour_codes
        ],
    }


def workshop_detail(w: Workshop) -> dict:
    t = current_deployment().tier(w.tier_code)
    latest = db.session.scalars(
        select(Inspection)
        .where(Inspection.workshop_id == w.id)
        .order_by(Inspection.inspected_on.desc(), Inspection.id.desc())
        .limit(1)
    ).first()
    samplings = db.session.scalars(
        select(Sampling)
        .where(Sampling.workshop_id == w.id)
        .order_by(Sampling.sampled_on.desc(), Sampling.id.desc())
        .limit(3)
    ).all()
    held, revoked = _titles(w)
    out = workshop_summary(w)
    out.update(
        {
            "tier": dict(tier_dict(w.tier_code, w.tier_since), description=t.description),
            "states": {
                "unrated": t.rank == 0,
                "new_rating_pending": tiers.pending_publication(w) is not None,
                "inspection_overdue": overdue(w),
            },
            "varieties": [v for v in (w.varieties or "").split("、") if v.strip()],
            "brand": {
                "trademark": w.trademark,
                "time_honoured": w.time_honoured,
                "geo_indication": w.geo_indication,
                "intangible_heritage": w.intangible_heritage,
                "regional_brand": w.regional_brand,
            },
            "titles": {"held": held, "recently_revoked": revoked},
            "latest_inspection": inspection_dict(latest),
            "samplings": [sampling_dict(s) for s in samplings],
            "tier_history": [decision_dict(d) for d in tiers.published_history(w)],
            "rectification": _rectification(w) if t.needs_rectification else None,
            "info_board": _info_board(w),
            "penalties": [
                penalty_dict(c) for c in public_status.penalties_for([w.id]).get(w.id, [])
            ],
            "colour_code": colour_code_dict(public_status.colour_codes_for([w.id]).get(w.id)),
            "updated_at": iso_datetime(w.public_changed_at),
        }
    )
    return out


def penalty_dict(c) -> dict:
    """A penalty decision within its publication period (public_status.penalties_for)."""
    return {
        "decision_no": c.decision_no,
        "decided_on": iso_date(c.decided_on),
        "violation": c.violation,
        "penalty": c.penalty,
        "published_until": iso_date(c.publish_until),
    }


def colour_code_dict(cc) -> dict | None:
    if cc is None:
        return None
    return {
        "status": cc.status,
        "status_label": cc.label,
        "completed_on": iso_date(cc.completed_on),
        "deadline": iso_date(cc.deadline),
        "overdue": cc.overdue,
    }


def revocation_dict(n) -> dict:
    """One 取消称号通报 (public_status.revocation_notices)."""
    g = n.grant
    return {
        "workshop": {
            "code": g.workshop.public_code,
            "name": g.workshop.name,
            "links": links(g.workshop),
        },
        "title": g.title.name,
        "authority": g.title.authority,
        "revoked_on": iso_date(g.revoked_on),
        "reason": labels.REVOCATION_RULES.get(g.revoke_rule or "", g.revoke_reason or ""),
        "barred_until": iso_date(g.barred_until),
        "plaque_recovered_on": iso_date(n.plaque_recovered_on),
    }
