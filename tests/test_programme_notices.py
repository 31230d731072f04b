"""整改通知书 (issue 17 part 6): numbered once per inspection, printable A4 with items, deadlines
and the workshop's QR code; from the inspection page; roles and jurisdiction."""

from datetime import timedelta

import pytest

from shifangbang import access, current_deployment, inspections, notices
from shifangbang.inspections import ItemResult
from shifangbang.models import AuditLog
from shifangbang.timeutil import today

from . import factories as f


@pytest.fixture
def s(db):
    j = f.jurisdictions()
    data = {
        "w": f.workshop(j["xinaobao"], name="老东河凉糕作坊"),
        "o1": f.user("officer", j["xinaobao"]),
        "o2": f.user("officer", j["xinaobao"]),
        "kun": f.user("officer", j["kun1"]),
        "viewer": f.user("viewer", j["donghe"]),
    }
    db.session.commit()
    return data


def record(s, fail=("A3", "E1")):
    items = [
        ItemResult(c["code"], "fail" if c["code"] in fail else "pass", "问题" + c["code"])
        for c in current_deployment().checklist_items()
    ]
    return inspections.record(
        s["o1"],
        s["w"],
        inspected_on=today(),
        kind="routine",
        inspector_ids=[s["o1"].id, s["o2"].id],
        items=items,
        rectification_due=today() + timedelta(days=15) if fail else None,
    )


def test_numbered_once_in_sequence_and_audited(s, db):
    a, b = record(s), record(s)
    na = notices.issue(s["o1"], a)
    assert notices.issue(s["o1"], a).notice_no == na.notice_no  # reprint: same number
    nb = notices.issue(s["o1"], b)
    assert nb.seq == na.seq + 1 and f"〔{today().year}〕" in nb.notice_no
    assert db.session.query(AuditLog).filter_by(action="notice.issue").count() == 2
    with pytest.raises(access.Forbidden):
        notices.issue(s["kun"], record(s))
    with pytest.raises(notices.NoticeError, match="无需"):
        notices.issue(s["o1"], record(s, fail=()))


def test_print_page_from_the_inspection(s, client, db):
    i = record(s)
    db.session.commit()
    f.login(client, s["o1"])
    show = client.get(f"/admin/inspections/{i.id}").get_data(as_text=True)
    assert "打印整改通知书" in show
    r = client.post(f"/admin/programme/notices/{i.id}")
    assert r.status_code == 302
    page = client.get(f"/admin/programme/notices/{i.id}").get_data(as_text=True)
    n = notices.for_inspection(i)
    assert n.notice_no in page and "老东河凉糕作坊" in page and "责令整改通知书" in page
    assert "A3" in page and "E1" in page and "<svg" in page and "css/notice.css" in page
    assert (today() + timedelta(days=15)).strftime("%Y年") in page
    client.post("/admin/logout")
    f.login(client, s["kun"])
    assert client.get(f"/admin/programme/notices/{i.id}").status_code == 403
    client.post("/admin/logout")
    f.login(client, s["viewer"])
    assert client.post(f"/admin/programme/notices/{i.id}").status_code == 403
    assert client.get(f"/admin/programme/notices/{i.id}").status_code == 200
