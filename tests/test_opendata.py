"""Open data: the daily export per jurisdiction, the LIVES zip, the download routes and the CLI."""

import csv
import io
import json
import zipfile
from datetime import timedelta

from shifangbang import opendata
from shifangbang.timeutil import today

from .api_data import arrange

LIVES_COLUMNS = {
    "businesses.csv": [
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
    ],
    "inspections.csv": ["business_id", "score", "date", "description", "type", "inspection_id"],
    "violations.csv": ["business_id", "date", "code", "description", "inspection_id"],
    "feed_info.csv": [
        "feed_date",
        "feed_version",
        "municipality_name",
        "municipality_url",
        "contact_email",
    ],
    "legend.csv": ["minimum_score", "maximum_score", "description"],
}


def read_zip(blob: bytes) -> dict[str, list[dict]]:
    out = {}
    with zipfile.ZipFile(io.BytesIO(blob)) as z:
        for name in z.namelist():
            text = z.read(name).decode("utf-8")
            reader = csv.DictReader(io.StringIO(text))
            out[name] = (reader.fieldnames, list(reader))
    return out


def test_lives_zip_has_lives_columns_stable_ids_and_scores(app, db):
    data = arrange()
    with app.test_request_context():
        blob = opendata.lives_zip()
        again = opendata.lives_zip()
    files = read_zip(blob)
    assert set(files) == set(LIVES_COLUMNS)
    for name, columns in LIVES_COLUMNS.items():
        assert files[name][0] == columns, name
    businesses = {b["business_id"]: b for b in files["businesses.csv"][1]}
    gold = businesses[data["gold"].public_code]
    assert (
        gold["name"] == "老东河凉糕坊"
        and gold["owner_name"] == "张**"
        and gold["phone_number"] == ""
    )
    assert "张三丰" not in blob.decode("latin-1") and b"13904720001" not in blob
    inspections = [
        i for i in files["inspections.csv"][1] if i["business_id"] == data["gold"].public_code
    ]
    assert [i["score"] for i in inspections] == [
        "100",
        "87",
    ]  # pass without items; basic with one failure
    assert inspections[1]["date"] == (today() - timedelta(days=40)).strftime("%Y%m%d")
    assert inspections[1]["type"] == "routine" and "基本符合" in inspections[1]["description"]
    bronze = [
        i for i in files["inspections.csv"][1] if i["business_id"] == data["bronze"].public_code
    ]
    assert bronze[0]["score"] == "55" and bronze[0]["type"] == "complaint"  # one key item failed
    violations = files["violations.csv"][1]
    gold_v = [v for v in violations if v["business_id"] == data["gold"].public_code]
    assert [(v["code"], v["inspection_id"]) for v in gold_v] == [
        ("A4", inspections[1]["inspection_id"])
    ]
    assert "纱窗破损" in gold_v[0]["description"]
    # Stable ids: the same rows get the same ids in another export.
    assert [i["inspection_id"] for i in read_zip(again)["inspections.csv"][1]] == [
        i["inspection_id"] for i in files["inspections.csv"][1]
    ]
    feed = files["feed_info.csv"][1][0]
    assert feed["feed_date"] == today().strftime("%Y%m%d") and feed["feed_version"] == "2.0"
    assert feed["municipality_name"] == "包头市市场监督管理局"
    bands = [(int(r["minimum_score"]), int(r["maximum_score"])) for r in files["legend.csv"][1]]
    assert bands == [(90, 100), (60, 89), (0, 59)]


def test_daily_export_per_jurisdiction(app, db, tmp_path):
    data = arrange()
    with app.test_request_context():
        info = opendata.export(tmp_path)
    assert info["published_on"] == today().isoformat()
    assert json.loads((tmp_path / "latest.json").read_text())["published_on"] == today().isoformat()
    entries = {e["code"]: e for e in info["jurisdictions"]}
    donghe = entries[data["j"]["donghe"].code]
    assert donghe["workshops"] == 3  # gold, bronze and the closed one (with its status)
    day = tmp_path / info["directory"]
    payload = json.loads((day / donghe["json"]).read_text("utf-8"))
    assert payload["published_on"] == today().isoformat()
    rows = {w["code"]: w for w in payload["workshops"]}
    assert rows[data["gold"].public_code]["tier_name"] == "金榜"
    assert rows[data["gold"].public_code]["last_inspection_result"] == "基本符合"
    assert rows[data["closed"].public_code]["status"] == "cancelled"
    raw = (day / donghe["csv"]).read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # BOM: Excel reads the Chinese correctly
    reader = csv.DictReader(io.StringIO(raw.decode("utf-8-sig")))
    assert reader.fieldnames == list(opendata.CSV_FIELDS)
    assert {r["code"] for r in reader} == set(rows)
    text = raw.decode("utf-8-sig") + json.dumps(payload, ensure_ascii=False)
    for secret in ("张三丰", "13904720001", "150202198001011234"):
        assert secret not in text
    assert (day / "lives.zip").exists()
    city = entries[data["j"]["city"].code]
    assert city["workshops"] == 4


def test_open_data_routes(app, client, db, tmp_path):
    arrange()
    app.config["OPENDATA_DIR"] = str(tmp_path / "od")
    try:
        page = client.get("/open-data/")
        assert page.status_code == 200
        html = page.get_data(as_text=True)
        assert "开放数据" in html and today().isoformat() in html and "LIVES" in html
        info = json.loads((tmp_path / "od" / "latest.json").read_text())
        first = info["jurisdictions"][0]
        r = client.get(f"/open-data/{first['csv']}")
        assert r.status_code == 200 and r.mimetype == "text/csv"
        assert r.headers["X-Published-On"] == today().isoformat()
        assert "attachment" in r.headers["Content-Disposition"]
        z = client.get("/open-data/lives.zip")
        assert z.status_code == 200 and z.mimetype == "application/zip"
        assert set(read_zip(z.data)) == set(LIVES_COLUMNS)
        assert client.get("/open-data/../secret_key").status_code == 404
        assert client.get("/open-data/nothing.csv").status_code == 404
    finally:
        app.config.pop("OPENDATA_DIR")


def test_cli_export(runner, tmp_path):
    result = runner.invoke(args=["opendata", "export", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "已发布" in result.output
    assert (tmp_path / "latest.json").exists()


def test_stale_export_is_replaced_on_first_use_of_the_day(app, db, tmp_path):
    arrange()
    with app.test_request_context():
        old = opendata.export(tmp_path, day=today() - timedelta(days=1))
        assert old["published_on"] != today().isoformat()
        fresh = opendata.ensure_published(tmp_path)
        assert fresh["published_on"] == today().isoformat()
        marker = tmp_path / fresh["directory"] / "marker"
        marker.write_text("x")
        opendata.ensure_published(tmp_path)
        assert marker.exists()  # not exported again the same day
    assert (tmp_path / old["directory"]).is_dir()  # yesterday's stays, for history
