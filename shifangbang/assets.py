"""Delivery without a proxy in front: static files fingerprinted, precompressed and cached for a
year (WhiteNoise); HTML pages gzip-compressed; /favicon.ico.

Consumers open pages on slow rural networks, so every byte saved counts. A fingerprinted name
(`css/site.3f2a1b9c0d7e.css`) changes whenever the file does, so browsers may keep it for a
year; `url_for('static', filename='css/site.css')` gives the fingerprinted address. The copies
and their `.gz` twins are built once per set of contents into the instance folder (atomically,
so several workers starting together agree).
"""

import gzip
import hashlib
import os
import shutil
import tempfile
from pathlib import Path, PurePosixPath

from flask import Flask, Response, request, send_from_directory
from whitenoise import WhiteNoise

from . import palette
from .config import ROOT

STATIC = ROOT / "static"
YEAR = 365 * 24 * 3600
PLAIN_MAX_AGE = 300  # un-fingerprinted names (old bookmarks): revalidated after five minutes
COMPRESSIBLE = (".css", ".js", ".svg", ".ico", ".txt", ".json", ".html")
# Pages are compressed here; JSON, feeds and downloads are left to the client's proxy or CDN
# (API clients and tests read them as sent). Smaller bodies than this gain nothing.
COMPRESS_TYPES = ("text/html",)
COMPRESS_MIN_BYTES = 500
COMPRESS_LEVEL = 6


def _fingerprinted(rel: str, digest: str) -> str:
    path = PurePosixPath(rel)
    return str(path.with_name(f"{path.stem}.{digest}{path.suffix}"))


def _contents(root: Path, rel: str, appended: dict[str, bytes]) -> bytes:
    return (root / rel).read_bytes() + appended.get(rel, b"")


def manifest(root: Path = STATIC, appended: dict[str, bytes] | None = None) -> dict[str, str]:
    """Each static file's path (relative, with /) → its fingerprinted name. `appended`: text
    added to the end of some files (the deployment's palette), part of what names them."""
    appended, out = appended or {}, {}
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        rel = path.relative_to(root).as_posix()
        digest = hashlib.sha256(_contents(root, rel, appended)).hexdigest()[:12]
        out[rel] = _fingerprinted(rel, digest)
    return out


def build(
    names: dict[str, str],
    target_parent: Path,
    root: Path = STATIC,
    appended: dict[str, bytes] | None = None,
) -> Path:
    """The folder of fingerprinted copies and gzip twins for these contents (built if missing)."""
    key = hashlib.sha256("\n".join(names.values()).encode()).hexdigest()[:16]
    target = target_parent / key
    if target.is_dir():
        return target
    target_parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".build-", dir=target_parent))
    for rel, name in names.items():
        data = _contents(root, rel, appended or {})
        out = tmp / name
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(data)
        if name.endswith(COMPRESSIBLE):
            packed = gzip.compress(data, 9, mtime=0)
            if len(packed) < len(data) * 0.95:
                (tmp / (name + ".gz")).write_bytes(packed)
    try:
        os.rename(tmp, target)
    except OSError:  # another worker finished first: its copy is identical
        shutil.rmtree(tmp, ignore_errors=True)
    return target


def compress(response: Response) -> Response:
    """gzip an HTML page when the client accepts it (HTML is most of a page's weight)."""
    if (
        response.direct_passthrough
        or response.is_streamed
        or response.status_code < 200
        or response.status_code in (204, 304)
        or "Content-Encoding" in response.headers
        or not (response.mimetype or "").startswith(COMPRESS_TYPES)
    ):
        return response
    response.vary.add("Accept-Encoding")  # caches keep the two codings apart
    if "gzip" not in request.accept_encodings:
        return response
    body = response.get_data()
    if len(body) < COMPRESS_MIN_BYTES:
        return response
    response.set_data(gzip.compress(body, COMPRESS_LEVEL, mtime=0))
    response.headers["Content-Encoding"] = "gzip"
    # Same content, another coding: a strong validator must differ, a weak one may stay.
    etag, weak = response.get_etag()
    if etag and not weak:
        response.set_etag(etag, weak=True)
    return response


def init_app(app: Flask) -> None:
    colours = palette.css(app.extensions["deployment"]).encode()
    appended = dict.fromkeys(palette.SHEETS, colours)
    names = manifest(appended=appended)
    builds = Path(app.instance_path) / "static-build"
    built = build(names, builds, appended=appended)

    def static_headers(headers, path: str, url: str) -> None:
        for name, value in app.extensions.get("security_headers", {}).items():
            headers.setdefault(name, value)
        if path.startswith(str(builds) + os.sep):
            headers["Cache-Control"] = f"public, max-age={YEAR}, immutable"

    static = WhiteNoise(app.wsgi_app, max_age=PLAIN_MAX_AGE, add_headers_function=static_headers)
    static.add_files(str(STATIC), prefix="static/")
    # Earlier builds too: a page cached before a deploy still finds its stylesheet (names differ
    # by content, so they never clash). `make clean` removes them with the instance folder.
    for path in builds.iterdir():
        if not path.name.startswith(".") and path != built:
            static.add_files(str(path), prefix="static/")
    static.add_files(str(built), prefix="static/")
    app.wsgi_app = static
    app.extensions["static_manifest"] = names

    @app.url_defaults
    def _fingerprint(endpoint, values):
        if endpoint == "static" and values.get("filename") in names:
            values["filename"] = names[values["filename"]]

    app.after_request(compress)

    @app.get("/favicon.ico")
    def favicon():
        return send_from_directory(STATIC, "favicon.ico", max_age=7 * 24 * 3600)
