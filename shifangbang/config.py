"""Settings read from the environment, with safe defaults for a single-machine install."""

import os
import secrets
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _instance_secret(instance_path: Path, name: str = "secret_key") -> str:
    """A secret kept in the instance folder, created on first run (never committed)."""
    path = instance_path / name
    if not path.exists():
        instance_path.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_hex(32))
    return path.read_text().strip()


class Config:
    """Built per app so that tests can point the environment elsewhere before create_app()."""

    def __init__(self, instance_path: str):
        instance = Path(instance_path)
        env = os.environ.get
        self.SECRET_KEY = env("SECRET_KEY") or _instance_secret(instance)
        # Seals the audit chain (HMAC). Keep it off the database server; every app server of one
        # deployment needs the same key. The chain's head is appended to AUDIT_HEAD_FILE.
        self.AUDIT_KEY = env("AUDIT_KEY") or _instance_secret(instance, "audit_key")
        # "auto": instance/audit_heads-<database>.jsonl, one file per database (see create_app).
        self.AUDIT_HEAD_FILE = env("AUDIT_HEAD_FILE") or "auto"
        self.SQLALCHEMY_DATABASE_URI = (
            env("DATABASE_URL") or f"sqlite:///{instance / 'shifangbang.db'}"
        )
        self.SQLALCHEMY_ENGINE_OPTIONS = {}
        self.SEARCH_INDEX_DIR = env("SEARCH_INDEX_DIR") or str(instance / "search_index")
        # Per process: term bitsets kept between searches, and how long place names are cached.
        self.SEARCH_CACHE_MB = float(env("SEARCH_CACHE_MB") or 16)
        self.SEARCH_PLACES_TTL = float(env("SEARCH_PLACES_TTL") or 60)
        # Seconds between change-log checks of this server's index, and the writer lock's wait.
        self.SEARCH_SYNC_INTERVAL = float(env("SEARCH_SYNC_INTERVAL") or 1.0)
        self.SEARCH_LOCK_TIMEOUT = float(env("SEARCH_LOCK_TIMEOUT") or 10.0)
        self.OPENDATA_DIR = env("OPENDATA_DIR") or str(instance / "opendata")
        # Public complaint form and /track, per client address, shared by every worker and server:
        # generous for a family or an office behind one carrier NAT address, tight for a script.
        self.COMPLAINT_SUBMIT_LIMIT = env("COMPLAINT_SUBMIT_LIMIT") or "6 per minute;60 per hour"
        self.COMPLAINT_TRACK_LIMIT = env("COMPLAINT_TRACK_LIMIT") or "20 per minute;200 per hour"
        # Per-worker caches of public pages and lists (public_cache.py, the workshop page's
        # render cache). PUBLIC_CACHE None: on, except under app.testing.
        self.PUBLIC_CACHE = None
        # Seconds a worker trusts its last freshness check (public_cache.head_ttl). None: one
        # second, or none at all under app.testing.
        microcache = env("SHIFANGBANG_PAGE_MICROCACHE")
        self.PUBLIC_HEAD_TTL = float(microcache) if microcache else None
        self.PUBLIC_PAGE_CACHE = True
        self.REDIS_URL = env("REDIS_URL") or None
        # Rate-limit counters shared by every worker and kept across restarts: Redis when set,
        # else a SQLite file beside the database (create_app fills that in).
        self.RATELIMIT_STORAGE_URI = self.REDIS_URL
        self.RATELIMIT_ENABLED = env("RATELIMIT_ENABLED", "true").lower() != "false"
        self.RATELIMIT_HEADERS_ENABLED = True
        self.BASE_URL = (env("BASE_URL") or "http://localhost:8000").rstrip("/")
        self.DEPLOYMENT_FILE = env("SHIFANGBANG_DEPLOYMENT") or None
        # How many reverse proxies (nginx, CDN) stand in front: their X-Forwarded-For/-Proto are
        # trusted that many hops deep, so rate limits see the real client. 0: none trusted.
        self.TRUSTED_PROXIES = int(env("TRUSTED_PROXIES") or 0)
        # The WeChat mini-program (docs/miniprogram.md): off unless WECHAT_APPID is set. The secret
        # comes from the environment only; the API base is changed for tests and staging.
        self.WECHAT_APPID = env("WECHAT_APPID") or ""
        self.WECHAT_SECRET = env("WECHAT_SECRET") or ""
        self.WECHAT_API_BASE = (env("WECHAT_API_BASE") or "https://api.weixin.qq.com").rstrip("/")
        # Cookies: secure unless the site is served over plain http (local demo).
        self.SESSION_COOKIE_HTTPONLY = True
        self.SESSION_COOKIE_SAMESITE = "Lax"
        self.SESSION_COOKIE_SECURE = self.BASE_URL.startswith("https://")
        self.REMEMBER_COOKIE_SECURE = self.SESSION_COOKIE_SECURE
        self.REMEMBER_COOKIE_HTTPONLY = True
        self.PERMANENT_SESSION_LIFETIME = 8 * 3600
        self.WTF_CSRF_TIME_LIMIT = 8 * 3600
        # Complaint photos: at most three, each at most 8 MB before re-encoding.
        self.MAX_CONTENT_LENGTH = 30 * 1024 * 1024
        self.JSON_AS_ASCII = False
