"""Registration spot checks (包头 plan: the city checks 5 % of each county's newly registered
workshops per period), drawn with the 双随机 machinery (draws.py) so anyone can replay them.

The pool is the county's open workshops whose registration (valid_from) falls in the period; the
number drawn is registration_check_share of it, rounded up, at least one.
"""

import math
from datetime import date

from sqlalchemy import func, select

from . import current_deployment, draws
from .extensions import db
from .models import Jurisdiction, RandomDraw

PURPOSE = "registration_check"


def pool_size(county_id: int, start: date, end: date) -> int:
    q = draws.pool_query(county_id, registered_between=(start, end)).subquery()
    return db.session.scalar(select(func.count()).select_from(q))


def sample_size(pool: int) -> int:
    return max(1, math.ceil(pool * current_deployment().programme.registration_check_share))


def draw(actor, county_id: int, start: date, end: date, seed: str | None = None) -> RandomDraw:
    county = db.session.get(Jurisdiction, county_id)
    if county is None or county.level != "county":
        raise draws.DrawError("请选择区县。")
    if start is None or end is None or start > end:
        raise draws.DrawError("请填写正确的登记期间（开始日期不晚于结束日期）。")
    pool = pool_size(county_id, start, end)
    if not pool:
        raise draws.DrawError("该期间内没有新登记的在营作坊。")
    return draws.draw(
        actor,
        county_id,
        sample_size(pool),
        seed=seed,
        registered_between=(start, end),
        purpose=PURPOSE,
    )


def recent(scope_ids: set[int] | None) -> list[RandomDraw]:
    return [d for d in draws.recent(scope_ids, limit=200) if d.params.get("purpose") == PURPOSE]
