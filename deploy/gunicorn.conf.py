# gunicorn settings for production: `gunicorn -c deploy/gunicorn.conf.py shifangbang.wsgi:app`
import multiprocessing
import os

bind = os.environ.get("BIND", "127.0.0.1:8000")
# Sync workers: each request is short (a page from the database, a search, a form post).
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1))
worker_class = "sync"
timeout = 30
graceful_timeout = 20
keepalive = 5
# Recycle workers now and then so a slow leak can never take a server down.
max_requests = 5000
max_requests_jitter = 500
# Complaint photos are up to 30 MB per request; nginx enforces the same limit in front.
limit_request_line = 8190
accesslog = "-"
errorlog = "-"
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
# No preload_app: each worker imports shifangbang.wsgi after the fork and starts its own WeChat
# outbox thread there (shifangbang/wechat_outbox.py); a thread started before a fork would not run.
