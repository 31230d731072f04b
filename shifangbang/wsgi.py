"""WSGI entry point for gunicorn: `gunicorn shifangbang.wsgi:app`.

gunicorn (without --preload) imports this module in each worker after the fork, so each worker
starts its own WeChat outbox thread here (only when WECHAT_APPID is set; see wechat_outbox.py)
and has its public cache's refresh thread compute the counts and rankings that home and 榜单
show (rankings.warm_up); it reads what every search reads (search_index.warm_up) before it
takes its first request.
"""

import search_index

from . import create_app, public_cache, rankings, wechat_outbox

app = create_app()
wechat_outbox.start_worker(app)
public_cache.warm_up(app, rankings.warm_up)
# In this thread, before the worker takes a request: the index's file reads are seek-then-read
# on a shared handle, not to be interleaved with a request's.
with app.app_context():
    search_index.warm_up()
