"""Open data: a daily export per jurisdiction (JSON and CSV) and a LIVES feed (zip of CSV files).

Layout of the export directory (OPENDATA_DIR, default instance/opendata):
    latest.json                    manifest of the newest export (written last, atomically)
    2026-11-23/<code>.json|.csv    one pair per county and per city, the whole subtree
    2026-11-23/lives.zip           LIVES: businesses, inspections, violations, feed_info, legend
    2026-11-23/public_history.jsonl the public statement chain; chain_head.json its head
    2026-11-23/revocations.json    取消称号通报 of the last 12 months, with plaque recovery

Only what the public workshop page shows: operators masked, no phones, no identity numbers, nothing
about complaints. Ids are stable: a workshop is its permanent public code; an inspection is
<public code>_<inspection id>.

LIVES scores (0–100) come from the inspection checklist, so the score bands match the legal results:
    符合 (pass)            100
    基本符合 (basic)       90 − 3 × failed ordinary items        → 66–87
    不符合 (fail)          60 − 5 × failed key items − 2 × failed ordinary items, at least 0 → 0–55
An inspection recorded without items scores its band's middle (100 / 75 / 40). The tier (榜级) is a
decision, not an inspection score: it is in the per-jurisdiction export, and each LIVES inspection's
description names the tier in force at export time.
"""

import io
import json
import os
import shutil
import tempfile
import zipfile
from datetime import date
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from . import access, current_deployment, labels, public_history, public_status, spreadsheet
from .extensions import db
from .models import IN_SERVICE, Inspection, Jurisdiction, Workshop
from .templating import mask_name
from .timeutil import local, today, utcnow

KEEP_DAYS = 7
EXPORT_LEVELS = ("city", "county")
CSV_FIELDS = (
    "code",
    "name",
    "address",
    "status",
    "tier_code",
    "tier_name",
    "tier_colour",
    "tier_since",
    "last_inspected_on",
    "last_inspection_result",
    "categories",
    "high_risk",
    "varieties",
    "cert_type",
    "cert_no",
    "operator",
    "titles",
    "county_code",
    "county_name",
    "station_code",
    "station_name",
    "lat",
    "lng",
    "page_url",
    # The read model's statement (public_status.summary): the same words as the page and the API.
    "status_label",
    "status_since",
    "headline",
    "statement",
    "inspection_overdue",
    "titles_under_review",
    # The action programme (DESIGN.md §2b), from the public read model (public_status).
    "colour_code_status",
    "colour_code_completed_on",
    "penalties",
)
LIVES_FILES = {
    "businesses.csv": (
        "business_id",
        "name",
        "address",
        "city",
        "state",
        "postal_code",
        "latitude",
        "longitude",
        "phone_number",
        "business_certificate",
        "owner_name",
    ),
    # inspection_id is the LIVES flattened-schema field, kept so each inspection has a stable id.
    "inspections.csv": ("business_id", "score", "date", "description", "type", "inspection_id"),
    "violations.csv": ("business_id", "date", "code", "description", "inspection_id"),
    "feed_info.csv": (
        "feed_date",
        "feed_version",
        "municipality_name",
        "municipality_url",
        "contact_email",
    ),
    "legend.csv": ("minimum_score", "maximum_score", "description"),
}
LIVES_LEGEND = (
    (90, 100, "符合 (compliant)"),
    (60, 89, "基本符合 (basically compliant)"),
    (0, 59, "不符合 (non-compliant)"),
)
LIVES_TYPES = {
    "routine": "routine",
    "random": "routine",
    "special": "routine",
    "flying": "routine",
    "complaint": "complaint",
}
BAND_MIDDLE = {"pass": 100, "basic": 75, "fail": 40}


def export_dir() -> Path:
    return Path(current_app.config["OPENDATA_DIR"])


# --- records -------------------------------------------------------------------------------------


def lives_score(inspection: Inspection) -> int:
    failed = [i for i in inspection.items if i.outcome == "fail"]
    if not inspection.items:
        return BAND_MIDDLE.get(inspection.result, 40)
    key = sum(1 for i in failed if i.is_key)
    ordinary = len(failed) - key
    if inspection.result == "pass":
        return 100
    if inspection.result == "basic":
        return 90 - 3 * ordinary
    return max(0, 60 - 5 * key - 2 * ordinary)


def _workshops(jurisdiction_ids: set[int] | None) -> list[Workshop]:
    q = (
        select(Workshop)
        .options(
            selectinload(Workshop.categories),
            selectinload(Workshop.station).selectinload(Jurisdiction.parent),
        )
        .order_by(Workshop.public_code)
    )
    if jurisdiction_ids is not None:
        q = q.where(Workshop.station_id.in_(jurisdiction_ids))
    return list(db.session.scalars(q))


def _latest_results(workshop_ids: list[int]) -> dict[int, str]:
    out: dict[int, str] = {}
    rows = (
        db.session.execute(
            select(Inspection.workshop_id, Inspection.result)
            .where(Inspection.workshop_id.in_(workshop_ids))
            .order_by(Inspection.workshop_id, Inspection.inspected_on, Inspection.id)
        ).all()
        if workshop_ids
        else []
    )
    for wid, result in rows:
        out[wid] = result  # the last one per workshop wins
    return out


def records(jurisdiction_ids: set[int] | None) -> list[dict]:
    """Public rows for the workshops in these jurisdictions (None = all)."""
    deployment = current_deployment()
    base = current_app.config["BASE_URL"]
    rows = _workshops(jurisdiction_ids)
    ids = [w.id for w in rows]
    results, said = _latest_results(ids), public_status.summaries(rows)
    penalties, colours = public_status.penalties_for(ids), public_status.colour_codes_for(ids)
    out = []
    for w in rows:
        tier = deployment.tier(w.tier_code)
        ps = said[w.id]
        county = w.station.county
        out.append(
            {
                "code": w.public_code,
                "name": w.name,
                "address": w.address,
                "status": w.status,
                "tier_code": tier.code,
                "tier_name": tier.name,
                "tier_colour": tier.colour,
                "tier_since": w.tier_since.isoformat() if w.tier_since else None,
                "last_inspected_on": w.last_inspected_on.isoformat()
                if w.last_inspected_on
                else None,
                "last_inspection_result": labels.INSPECTION_RESULT.get(results.get(w.id, ""), None),
                "categories": [c.name for c in w.categories],
                "high_risk": w.high_risk,
                "varieties": w.varieties or "",
                "cert_type": w.cert_type,
                "cert_no": w.cert_no,
                "operator": mask_name(w.operator_name),
                "titles": list(ps.titles_held),
                "county_code": county.code if county else None,
                "county_name": county.name if county else None,
                "station_code": w.station.code,
                "station_name": w.station.name,
                "lat": w.lat,
                "lng": w.lng,
                "page_url": f"{base}/w/{w.public_code}",
                "status_label": ps.status_label,
                "status_since": ps.status_since.isoformat() if ps.status_since else None,
                "headline": ps.headline,
                "statement": ps.statement,
                "inspection_overdue": ps.overdue,
                "titles_under_review": list(ps.titles_under_review),
                "colour_code_status": colours[w.id].status if w.id in colours else None,
                "colour_code_completed_on": colours[w.id].completed_on.isoformat()
                if w.id in colours and colours[w.id].completed_on
                else None,
                "penalties": [
                    {
                        "decision_no": c.decision_no,
                        "decided_on": c.decided_on.isoformat(),
                        "violation": c.violation,
                        "penalty": c.penalty,
                        "published_until": c.publish_until.isoformat(),
                    }
                    for c in penalties.get(w.id, [])
                ],
            }
        )
    return out


def to_csv(rows: list[dict]) -> bytes:
    """UTF-8 with a byte-order mark, so Excel opens the Chinese text correctly."""
    flat = [
        dict(
            row,
            categories="、".join(row["categories"]),
            titles="、".join(row["titles"]),
            titles_under_review="、".join(row["titles_under_review"]),
            inspection_overdue="是" if row["inspection_overdue"] else "否",
            penalties="；".join(
                f"{p['decision_no']}（{p['decided_on']}）：{p['penalty']}" for p in row["penalties"]
            ),
            high_risk="是" if row["high_risk"] else "否",
        )
        for row in rows
    ]
    return spreadsheet.dict_csv_text(CSV_FIELDS, flat, lineterminator="\r\n").encode("utf-8-sig")


# --- LIVES -----------------------------------------------------------------------------------------


def _one_line(text: str) -> str:
    """LIVES field values may not contain tabs or line breaks."""
    return " ".join((text or "").split())


def _csv(fields: tuple, rows: list[dict]) -> bytes:
    return spreadsheet.dict_csv_text(fields, rows, lineterminator="\r\n").encode("utf-8")


def lives_zip(jurisdiction_ids: set[int] | None = None, day: date | None = None) -> bytes:
    deployment = current_deployment()
    bureau = deployment.bureau
    day = day or today()
    workshops = _workshops(jurisdiction_ids)
    by_id = {w.id: w for w in workshops}
    businesses = [
        {
            "business_id": w.public_code,
            "name": _one_line(w.name),
            "address": _one_line(w.address),
            "city": bureau.city,
            "state": bureau.province,
            "postal_code": "",
            "latitude": w.lat,
            "longitude": w.lng,
            "phone_number": "",
            "business_certificate": _one_line(w.cert_no),
            "owner_name": mask_name(w.operator_name),
        }
        for w in workshops
    ]
    inspections, violations = [], []
    if by_id:
        rows = db.session.scalars(
            select(Inspection)
            .where(Inspection.workshop_id.in_(list(by_id)))
            .order_by(Inspection.workshop_id, Inspection.inspected_on, Inspection.id)
            .options(selectinload(Inspection.items))
        )
        for i in rows:
            w = by_id[i.workshop_id]
            iid = f"{w.public_code}_{i.id}"
            when = i.inspected_on.strftime("%Y%m%d")
            headline = public_status.summary(w).headline
            inspections.append(
                {
                    "business_id": w.public_code,
                    "score": lives_score(i),
                    "date": when,
                    "description": f"{labels.INSPECTION_KIND.get(i.kind, i.kind)}：{labels.INSPECTION_RESULT[i.result]}"
                    f"（当前公示：{headline}）",
                    "type": LIVES_TYPES.get(i.kind, "routine"),
                    "inspection_id": iid,
                }
            )
            for item in i.items:
                if item.outcome == "fail":
                    violations.append(
                        {
                            "business_id": w.public_code,
                            "date": when,
                            "code": item.code,
                            "description": _one_line(
                                ("【关键项】" if item.is_key else "")
                                + item.text
                                + (f"：{item.note}" if item.note else "")
                            ),
                            "inspection_id": iid,
                        }
                    )
    feed = [
        {
            "feed_date": day.strftime("%Y%m%d"),
            "feed_version": "2.0",
            "municipality_name": bureau.name,
            "municipality_url": current_app.config["BASE_URL"],
            "contact_email": bureau.contact_email,
        }
    ]
    legend = [
        {"minimum_score": lo, "maximum_score": hi, "description": text}
        for lo, hi, text in LIVES_LEGEND
    ]
    contents = {
        "businesses.csv": businesses,
        "inspections.csv": inspections,
        "violations.csv": violations,
        "feed_info.csv": feed,
        "legend.csv": legend,
    }
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, fields in LIVES_FILES.items():
            info = zipfile.ZipInfo(name, date_time=(day.year, day.month, day.day, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, _csv(fields, contents[name]))
    return buf.getvalue()


# --- the daily export --------------------------------------------------------------------------------


def export_jurisdictions() -> list[Jurisdiction]:
    return list(
        db.session.scalars(
            select(Jurisdiction)
            .where(Jurisdiction.level.in_(EXPORT_LEVELS), IN_SERVICE)
            .order_by(Jurisdiction.code)
        )
    )


def manifest(out_dir: Path | None = None) -> dict | None:
    path = (out_dir or export_dir()) / "latest.json"
    try:
        return json.loads(path.read_text("utf-8"))
    except (FileNotFoundError, ValueError):
        return None


def export(out_dir: Path | str, day: date | None = None) -> dict:
    """Write the day's files into out_dir/<day>/ and then point latest.json at them.

    Files go to a temporary directory first and are renamed into place, so a reader (or another server
    exporting at the same moment) never sees a half-written export.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    day = day or today()
    generated_at = local(utcnow()).replace(microsecond=0).isoformat()
    tmp = Path(tempfile.mkdtemp(prefix=".export-", dir=out_dir))
    entries = []
    try:
        for j in export_jurisdictions():
            rows = records(access.subtree_ids(j.id))
            payload = {
                "jurisdiction": {"code": j.code, "name": j.name, "level": j.level},
                "published_on": day.isoformat(),
                "generated_at": generated_at,
                "licence": "公开数据，可自由使用，请注明来源。",
                "fields": list(CSV_FIELDS),
                "workshops": rows,
            }
            (tmp / f"{j.code}.json").write_text(
                json.dumps(payload, ensure_ascii=False, indent=1), "utf-8"
            )
            (tmp / f"{j.code}.csv").write_bytes(to_csv(rows))
            entries.append(
                {
                    "code": j.code,
                    "name": j.name,
                    "level": j.level,
                    "workshops": len(rows),
                    "json": f"{j.code}.json",
                    "csv": f"{j.code}.csv",
                }
            )
        (tmp / "lives.zip").write_bytes(lives_zip(None, day))
        chain_head = _write_public_chain(tmp, generated_at)
        (tmp / "revocations.json").write_text(
            json.dumps(
                {"published_on": day.isoformat(), "revocations": revocations(day)},
                ensure_ascii=False,
                indent=1,
            ),
            "utf-8",
        )
        target = out_dir / day.isoformat()
        if target.exists():  # a re-run the same day replaces that day's files
            shutil.rmtree(target, ignore_errors=True)
        try:
            os.replace(tmp, target)
        except OSError:
            if not target.is_dir():
                raise
            shutil.rmtree(tmp, ignore_errors=True)  # another server published the same day first
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    info = {
        "published_on": day.isoformat(),
        "generated_at": generated_at,
        "directory": day.isoformat(),
        "jurisdictions": entries,
        "lives": "lives.zip",
        "public_history": "public_history.jsonl",
        "chain_head": chain_head,
        "revocations": "revocations.json",
    }
    pointer = out_dir / f".latest-{os.getpid()}.json"
    pointer.write_text(json.dumps(info, ensure_ascii=False, indent=1), "utf-8")
    os.replace(pointer, out_dir / "latest.json")
    _prune(out_dir, keep=KEEP_DAYS)
    return info


def revocations(day: date | None = None) -> list[dict]:
    """取消称号通报 as public_status.revocation_notices reads them (the announcements page)."""
    base = current_app.config["BASE_URL"]
    return [
        {
            "code": n.grant.workshop.public_code,
            "name": n.grant.workshop.name,
            "title": n.grant.title.name,
            "authority": n.grant.title.authority,
            "revoked_on": n.grant.revoked_on.isoformat(),
            "reason": labels.REVOCATION_RULES.get(n.grant.revoke_rule or "", ""),
            "barred_until": n.grant.barred_until.isoformat() if n.grant.barred_until else None,
            "plaque_recovered_on": n.plaque_recovered_on.isoformat()
            if n.plaque_recovered_on
            else None,
            "page_url": f"{base}/w/{n.grant.workshop.public_code}",
        }
        for n in public_status.revocation_notices(None, day, limit=10_000)
    ]


def _write_public_chain(folder: Path, generated_at: str) -> dict | None:
    """The whole public statement chain, one JSON record a line, and its head: anyone can
    recompute every hash and compare the head with one archived earlier (docs/audit.md)."""
    with open(folder / "public_history.jsonl", "w", encoding="utf-8") as f:
        for rec in public_history.iter_chain():
            f.write(json.dumps(public_history.entry(rec), ensure_ascii=False) + "\n")
    head = public_history.head()
    (folder / "chain_head.json").write_text(
        json.dumps({"head": head, "generated_at": generated_at}, ensure_ascii=False), "utf-8"
    )
    return head


def _prune(out_dir: Path, keep: int) -> None:
    days = sorted(p for p in out_dir.iterdir() if p.is_dir() and not p.name.startswith("."))
    for old in days[:-keep]:
        shutil.rmtree(old, ignore_errors=True)


def ensure_published(out_dir: Path | None = None) -> dict:
    """Today's export, made on first use of the day when the scheduled `flask opendata export` has not run."""
    out_dir = out_dir or export_dir()
    current = manifest(out_dir)
    if (
        current
        and current.get("published_on") == today().isoformat()
        and (out_dir / current["directory"]).is_dir()
    ):
        return current
    return export(out_dir)


# --- CLI -------------------------------------------------------------------------------------------

opendata_cli = AppGroup("opendata", help="开放数据。")


@opendata_cli.command("export")
@click.argument("directory", required=False)
def export_command(directory: str | None):
    """Write today's open-data export (per-jurisdiction JSON and CSV, LIVES zip) into DIRECTORY."""
    info = export(Path(directory) if directory else export_dir())
    click.echo(
        f"已发布 {info['published_on']} 开放数据：{len(info['jurisdictions'])} 个辖区，外加 LIVES 数据包。"
    )


def init_app(app: Flask) -> None:
    app.cli.add_command(opendata_cli)
