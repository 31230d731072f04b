"""/open-data/: the daily export's index page and its files (see shifangbang/opendata.py)."""

from flask import Blueprint, abort, render_template, send_from_directory

from shifangbang import opendata

bp = Blueprint("opendata", __name__, url_prefix="/open-data")

MIMETYPES = {
    ".json": "application/json",
    ".jsonl": "application/jsonl",
    ".csv": "text/csv",
    ".zip": "application/zip",
}


@bp.get("/")
def index():
    info = opendata.ensure_published()
    return render_template("public/opendata.html", info=info)


@bp.get("/<name>")
def download(name: str):
    info = opendata.ensure_published()
    allowed = {info["lives"], "latest.json"} | {
        e[k] for e in info["jurisdictions"] for k in ("json", "csv")
    }
    if info.get("public_history"):  # exports made before the public chain existed have none
        allowed |= {info["public_history"], "chain_head.json"}
    if info.get("revocations"):
        allowed.add(info["revocations"])
    if name not in allowed:
        abort(404)
    directory = opendata.export_dir()
    if name != "latest.json":
        directory = directory / info["directory"]
    suffix = name[name.rfind(".") :]
    download_name = name if name == "latest.json" else f"shifangbang-{info['published_on']}-{name}"
    response = send_from_directory(
        directory,
        name,
        mimetype=MIMETYPES.get(suffix),
        as_attachment=suffix not in (".json", ".jsonl"),
        download_name=download_name,
        max_age=3600,
    )
    response.headers["X-Published-On"] = info["published_on"]
    return response
