"""A station merged into another (机构改革, jurisdictions.merge): its workshops, accounts and case
files move; public pages, filters and the API show the station that took it over; the merged
station is offered nowhere again but stays in the history that names it."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from shifangbang import access, complaints, jurisdictions, rankings
from shifangbang.extensions import db
from shifangbang.models import AuditLog, ChangeLog, Complaint, JurisdictionMerge, User, Workshop
from shifangbang.programme_models import EnforcementCase
from shifangbang.registry import validation
from shifangbang.timeutil import today
from shifangbang.users import UserError, create_user

from . import complaint_data as cd
from . import factories as f

DOC = "包市监发〔2026〕12号"


@pytest.fixture
def merged(db):
    """西脑包所 (a workshop, an officer, a complaint, a case) merged into 南门外所."""
    data = cd.place()
    source, target = data["xinaobao"], data["nanmen"]
    complaint = cd.one(cd.submit(data["workshop"]))
    case = EnforcementCase(
        case_no="测-2026-001",
        workshop_id=data["workshop"].id,
        station_id=source.id,
        source="inspection",
        opened_on=today(),
        due_on=today() + timedelta(days=90),
    )
    db.session.add(case)
    db.session.commit()
    before = jurisdictions.merge_preview(source)
    logged = db.session.scalar(select(ChangeLog.id).order_by(ChangeLog.id.desc()).limit(1))
    moved = jurisdictions.merge(data["admin"], source, target, DOC)
    db.session.commit()
    return {
        **data,
        "source": source,
        "target": target,
        "complaint": complaint,
        "case": case,
        "before": before,
        "moved": moved,
        "logged": logged,
    }


def test_workshops_accounts_and_case_files_move(merged):
    target = merged["target"]
    assert merged["moved"] == merged["before"] == {"作坊": 1, "账号": 2, "投诉举报": 1, "案件": 1}
    assert db.session.get(Workshop, merged["workshop"].id).station_id == target.id
    assert db.session.get(User, merged["officer"].id).jurisdiction_id == target.id
    assert db.session.get(Complaint, merged["complaint"].id).jurisdiction_id == target.id
    assert db.session.get(EnforcementCase, merged["case"].id).station_id == target.id
    # The station's former officer now handles the file; the source keeps nothing.
    assert access.can(db.session.get(User, merged["officer"].id), "handle_complaint", target.id)
    assert jurisdictions.merge_preview(merged["source"]) == dict.fromkeys(merged["before"], 0)
    record = db.session.get(JurisdictionMerge, merged["source"].id)
    assert (record.target_id, record.merged_on, record.document) == (target.id, today(), DOC)


def test_the_merger_is_audited_and_reaches_every_channel(merged, client):
    entry = db.session.scalars(
        select(AuditLog).where(AuditLog.action == "jurisdiction.merge")
    ).one()
    assert entry.after["into"] == merged["target"].code and entry.after["document"] == DOC
    # Logged as a public change of the moved workshop: page, poster and index follow.
    changed = db.session.scalars(
        select(ChangeLog.workshop_id).where(ChangeLog.id > merged["logged"])
    )
    assert merged["workshop"].id in set(changed)
    page = client.get(f"/w/{merged['workshop'].public_code}").get_data(as_text=True)
    assert "南门外市场监管所" in page and "西脑包市场监管所" not in page
    api = client.get(f"/api/v1/workshops/{merged['workshop'].public_code}").get_json()
    assert api["station"]["code"] == merged["target"].code


def test_the_merged_station_is_offered_nowhere(merged, client):
    source = merged["source"]
    assert source.id not in {p.id for p in rankings.stations()}
    codes = set()
    stack = client.get("/api/v1/jurisdictions").get_json()["items"]
    while stack:
        node = stack.pop()
        codes.add(node["code"])
        stack += node["children"]
    assert source.code not in codes and merged["target"].code in codes
    # A workshop, an account or a complaint cannot be given to it any more, in Chinese.
    with pytest.raises(validation.ValidationError) as refused:
        validation.clean({"station_id": str(source.id)}, check_unique=False)
    assert (
        refused.value.errors["station_id"] == "西脑包市场监管所已并入南门外市场监管所，请改选后者。"
    )
    with pytest.raises(UserError, match="已并入南门外市场监管所"):
        create_user(
            merged["admin"], "newofficer", "Qx7-long-passphrase", "officer", "新人", source.id
        )
    other = cd.one(cd.submit(f.workshop(merged["kun1"])))
    with pytest.raises(complaints.ComplaintError):
        complaints.reroute(merged["admin"], other, source)


def test_old_links_and_filters_follow_to_the_new_station(merged, client, index):
    index.rebuild()
    by_old = client.get(f"/api/v1/workshops?station={merged['source'].code}").get_json()
    assert [w["code"] for w in by_old["items"]] == [merged["workshop"].public_code]
    found = client.get(f"/api/v1/search?q=豆腐&station={merged['source'].code}").get_json()
    assert merged["workshop"].public_code in [w["code"] for w in found["items"]]
    page = client.get(f"/search?q=豆腐&station={merged['source'].id}").get_data(as_text=True)
    assert f"/w/{merged['workshop'].public_code}" in page


def test_a_merger_is_refused_with_a_reason(merged):
    admin, source, target = merged["admin"], merged["source"], merged["target"]
    kun1 = merged["kun1"]
    for a, b, message in (
        (source, kun1, "已于"),  # merged already
        (kun1, source, "请选择仍在设置的所"),  # into a merged station
        (kun1, kun1, "不能把一个所并入它自己"),
        (merged["donghe"], kun1, "只能把一个所（中队）并入另一个所（中队）"),
        (kun1, None, "请选择"),
    ):
        with pytest.raises(jurisdictions.JurisdictionError, match=message):
            jurisdictions.merge(admin, a, b, DOC)
    with pytest.raises(jurisdictions.JurisdictionError, match="文号"):
        jurisdictions.merge(admin, kun1, target, "  ")
    with pytest.raises(access.Forbidden):
        jurisdictions.merge(merged["officer"], kun1, target, DOC)


def test_the_admin_merges_a_station_from_its_page(db, client):
    j = f.jurisdictions()
    w = f.workshop(j["xinaobao"])
    admin = f.user("admin")
    db.session.commit()
    f.login(client, admin)
    url = f"/admin/jurisdictions/{j['xinaobao'].id}"
    page = client.get(url).get_data(as_text=True)
    assert "撤并：并入其他所（中队）" in page and "作坊 <strong>1</strong>" in page
    refused = client.post(url + "/merge", data={"target_id": j["nanmen"].id, "document": ""})
    assert refused.status_code == 422 and "请填写撤并依据的文号" in refused.get_data(as_text=True)
    assert db.session.get(Workshop, w.id).station_id == j["xinaobao"].id
    done = client.post(
        url + "/merge", data={"target_id": j["nanmen"].id, "document": DOC}, follow_redirects=True
    )
    text = done.get_data(as_text=True)
    assert "西脑包市场监管所已并入南门外市场监管所：作坊 1" in text
    assert "（已并入南门外市场监管所）" in text
    assert "已撤并" in client.get(url).get_data(as_text=True)


def test_flask_jurisdictions_merge(runner, db):
    j = f.jurisdictions()
    f.workshop(j["xinaobao"])
    db.session.commit()
    args = ["jurisdictions", "merge", j["xinaobao"].code, j["nanmen"].code]
    dry = runner.invoke(args=args + ["--dry-run"])
    assert dry.exit_code == 0 and "作坊 1" in dry.output and "未写入" in dry.output
    assert db.session.get(JurisdictionMerge, j["xinaobao"].id) is None
    missing = runner.invoke(args=args)
    assert missing.exit_code != 0 and "文号" in missing.output
    done = runner.invoke(args=args + ["--document", DOC])
    assert done.exit_code == 0, done.output
    assert "西脑包市场监管所已并入南门外市场监管所：作坊 1" in done.output
    again = runner.invoke(args=args + ["--document", DOC])
    assert again.exit_code != 0 and "已于" in again.output
