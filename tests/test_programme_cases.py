"""立案 and 行政处罚 (issue 17 part 3): a case from a verified report or an inspection, a decision
public on the workshop page, the API and open data for the publication period, then withdrawn;
the 取缔 register; roles, jurisdictions, CSRF-protected forms, audit."""

from datetime import timedelta

import pytest

from shifangbang import access, cases, complaints, current_deployment, opendata, public_status
from shifangbang.models import AuditLog, Complaint
from shifangbang.programme_models import EnforcementCase
from shifangbang.timeutil import today

from . import complaint_data as cd
from . import factories as f


@pytest.fixture
def p(db):
    data = cd.place()
    db.session.commit()
    return data


def verified_report(p, workshop=None, **extra):
    report = cd.one(cd.submit(workshop, kind="report", **extra))
    complaints.transition(p["officer"], report, "verify")
    complaints.record_finding(p["officer"], report, True, "现场核实")
    return report


def test_case_from_verified_report_moves_the_report_and_is_audited(p, db):
    report = verified_report(p, p["workshop"])
    case = cases.open_from_report(p["officer"], report, today(), "使用过期原料")
    assert case.case_no.startswith(f"立〔{today().year}〕") and case.status == "open"
    assert report.status == "case_opened" and case.station_id == p["xinaobao"].id
    assert case.due_on > today()
    with pytest.raises(cases.CaseError, match="已立案"):
        cases.open_from_report(p["officer"], report, today(), "再次")
    actions = [a.action for a in db.session.query(AuditLog).order_by(AuditLog.seq)]
    assert "complaint.open_case" in actions and "case.open" in actions


def test_unverified_report_and_other_station_cannot_open(p):
    report = cd.one(cd.submit(p["workshop"], kind="report"))
    with pytest.raises(cases.CaseError, match="核查属实"):
        cases.open_from_report(p["officer"], report, today(), "x")
    report = verified_report(p, p["workshop"])
    with pytest.raises(access.Forbidden):
        cases.open_from_report(p["other_officer"], report, today(), "x")
    with pytest.raises(access.Forbidden):
        cases.open_from_report(p["viewer"], report, today(), "x")


def test_decision_is_public_for_the_period_then_withdrawn(p, db):
    w = p["workshop"]
    report = verified_report(p, w)
    case = cases.open_from_report(p["officer"], report, today() - timedelta(days=3), "过期原料")
    with pytest.raises(access.Forbidden):  # deciding is the bureau's
        cases.decide(
            p["officer"], case, decision_no="X", decided_on=today(), violation="v", penalty="p"
        )
    cases.decide(
        p["admin"],
        case,
        decision_no="包市监罚〔2026〕7号",
        decided_on=today() - timedelta(days=1),
        violation="使用超过保质期的食品原料生产食品",
        penalty="没收违法所得，罚款五千元",
        fine_yuan=5000,
    )
    assert report.status == "case_closed"
    days = current_deployment().programme.penalty_publication_days
    assert case.publish_until == today() - timedelta(days=1) + timedelta(days=days - 1)
    shown = public_status.assemble(w.public_code).penalties
    assert [c.decision_no for c in shown] == ["包市监罚〔2026〕7号"]
    # The last public day, and the day after: withdrawn everywhere.
    assert public_status.penalties_for([w.id], case.publish_until)
    assert not public_status.penalties_for([w.id], case.publish_until + timedelta(days=1))
    row = next(r for r in opendata.records(None) if r["code"] == w.public_code)
    assert row["penalties"][0]["penalty"] == "没收违法所得，罚款五千元"
    with pytest.raises(cases.CaseError, match="已办结"):
        cases.drop(p["admin"], case, "x")


def test_penalty_on_page_api_and_open_data(p, client, db):
    w = p["workshop"]
    case = cases.open_from_report(p["officer"], verified_report(p, w), today(), "掺杂掺假")
    cases.decide(
        p["admin"],
        case,
        decision_no="东市监罚〔2026〕3号",
        decided_on=today(),
        violation="在豆腐中掺入非食品原料",
        penalty="警告，罚款二千元",
    )
    html = client.get(f"/w/{w.public_code}").get_data(as_text=True)
    assert 'id="penalties"' in html and "东市监罚〔2026〕3号" in html and "警告，罚款二千元" in html
    api = client.get(f"/api/v1/workshops/{w.public_code}").get_json()
    assert api["penalties"][0]["decision_no"] == "东市监罚〔2026〕3号"
    csv_text = opendata.to_csv(opendata.records(None)).decode("utf-8-sig")
    assert "东市监罚〔2026〕3号" in csv_text


def test_expired_decision_is_not_shown(p, client, db):
    w = p["workshop"]
    days = current_deployment().programme.penalty_publication_days
    case = cases.open_from_report(
        p["officer"], verified_report(p, w), today() - timedelta(days=days + 10), "旧案"
    )
    cases.decide(
        p["admin"],
        case,
        decision_no="旧罚〔2023〕1号",
        decided_on=today() - timedelta(days=days),
        violation="旧",
        penalty="罚款",
    )
    html = client.get(f"/w/{w.public_code}").get_data(as_text=True)
    assert "旧罚〔2023〕1号" not in html and 'id="penalties"' not in html
    assert client.get(f"/api/v1/workshops/{w.public_code}").get_json()["penalties"] == []


def test_case_from_inspection_and_unlicensed_register_through_the_pages(p, client, db):
    f.login(client, p["officer"])
    listing = client.get("/admin/programme/cases/").get_data(as_text=True)
    assert "查实待立案的举报" in listing
    # An unregistered workshop: a verified report about a 黑作坊, opened, then closed (取缔).
    black = Complaint(
        tracking_no="JB-TEST-1",
        password_hash="x",
        submission_id="s1",
        kind="report",
        jurisdiction_id=p["xinaobao"].id,
        category="unlicensed",
        content="无证生产",
        unregistered_name="无名豆腐坊",
        unregistered_address="东河区某巷 3 号",
        status="verifying",
        due_on=today() + timedelta(days=10),
        verified=True,
    )
    db.session.add(black)
    db.session.commit()
    assert "JB-TEST-1" in client.get("/admin/programme/cases/").get_data(as_text=True)
    r = client.post(
        f"/admin/programme/cases/new?report={black.id}",
        data={"report": black.id, "opened_on": today().isoformat(), "summary": ""},
    )
    assert r.status_code == 422 and "请填写案由" in r.get_data(as_text=True)
    r = client.post(
        "/admin/programme/cases/new",
        data={"report": black.id, "opened_on": today().isoformat(), "summary": "无证生产豆制品"},
    )
    assert r.status_code == 302
    case = db.session.query(EnforcementCase).filter_by(complaint_id=black.id).one()
    r = client.post(
        f"/admin/programme/cases/{case.id}/close-unlicensed",
        data={"closed_on": today().isoformat()},
    )
    register = client.get("/admin/programme/cases/?register=closed").get_data(as_text=True)
    assert "无名豆腐坊" in register and case.case_no in register


def test_decide_form_errors_and_roles(p, client, db):
    case = cases.open_from_report(p["officer"], verified_report(p, p["workshop"]), today(), "x")
    db.session.commit()
    f.login(client, p["officer"])
    page = client.get(f"/admin/programme/cases/{case.id}").get_data(as_text=True)
    assert "作出行政处罚决定" not in page  # officers do not decide
    assert client.post(f"/admin/programme/cases/{case.id}/decide", data={}).status_code == 403
    client.post("/admin/logout")
    f.login(client, p["other_officer"])
    assert client.get(f"/admin/programme/cases/{case.id}").status_code == 403
    client.post("/admin/logout")
    f.login(client, p["admin"])
    r = client.post(
        f"/admin/programme/cases/{case.id}/decide",
        data={
            "decision_no": "罚1号",
            "decided_on": today().isoformat(),
            "violation": "v",
            "penalty": "p",
            "fine_yuan": "五千",
        },
    )
    text = r.get_data(as_text=True)
    assert r.status_code == 422 and "罚款金额须为数字" in text and "罚1号" in text
    r = client.post(
        f"/admin/programme/cases/{case.id}/decide",
        data={
            "decision_no": "罚1号",
            "decided_on": today().isoformat(),
            "violation": "v",
            "penalty": "警告",
            "fine_yuan": "",
        },
    )
    assert r.status_code == 302
    assert "公示期至" in client.get(f"/admin/programme/cases/{case.id}").get_data(as_text=True)


def test_inspection_case_page(p, client, db):
    from shifangbang import inspections
    from shifangbang.inspections import ItemResult

    o2 = f.user("officer", p["xinaobao"])
    items = [
        ItemResult(
            c["code"],
            "fail" if c["code"] == "B2" else "pass",
            "过期原料" if c["code"] == "B2" else "",
        )
        for c in current_deployment().checklist_items()
    ]
    i = inspections.record(
        p["officer"],
        p["workshop"],
        inspected_on=today(),
        kind="routine",
        inspector_ids=[p["officer"].id, o2.id],
        items=items,
        rectification_due=today() + timedelta(days=7),
    )
    f.login(client, p["officer"])
    assert "立案" in client.get(f"/admin/programme/cases/new?inspection={i.id}").get_data(
        as_text=True
    )
    r = client.post(
        "/admin/programme/cases/new",
        data={"inspection": i.id, "opened_on": today().isoformat(), "summary": "检查发现过期原料"},
    )
    assert r.status_code == 302
    case = db.session.query(EnforcementCase).filter_by(inspection_id=i.id).one()
    assert case.source == "inspection" and case.workshop_id == p["workshop"].id


def test_decision_and_colour_change_go_on_the_public_chain(p, client, db):
    import json

    from shifangbang import colourcode

    w = p["workshop"]
    case = cases.open_from_report(p["officer"], verified_report(p, w), today(), "掺杂掺假")
    cases.decide(
        p["admin"],
        case,
        decision_no="链罚〔2026〕1号",
        decided_on=today(),
        violation="掺杂掺假",
        penalty="罚款三千元",
    )
    colourcode.set_status(p["officer"], w, "partial", today())
    colourcode.set_status(p["officer"], w, "partial", today())  # confirmed: audit only
    entries = client.get(f"/api/v1/workshops/{w.public_code}/history").get_json()["entries"]
    statements = [json.loads(e["statement"]) for e in entries]
    kinds = [s["kind"] for s in statements]
    assert kinds.count("penalty") == 1 and kinds.count("colour_code") == 1
    penalty = next(s for s in statements if s["kind"] == "penalty")
    assert penalty["decision_no"] == "链罚〔2026〕1号"
    assert penalty["public_until"] == case.publish_until.isoformat()
