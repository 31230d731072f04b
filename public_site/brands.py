"""Regional public brand pages (区域公用品牌, 追榜消费 for a brand): the brand's story and its
member workshops by tier. Stories come from the deployment file; membership from each
workshop's 区域公用品牌 field."""

from flask import Blueprint, abort, current_app, render_template

from shifangbang import public_status, rankings
from shifangbang.deployment import Brand

bp = Blueprint("brands", __name__, template_folder="templates")

MAX_NAME = 60  # the column's length
PER_TIER = 60


@bp.get("/brands")
def index():
    configured = current_app.extensions["deployment"].brands
    known = {b.name for b in configured}
    extra = [Brand(name=n) for n in rankings.brand_names() if n not in known]
    return render_template("public/brands.html", brands=[*configured, *extra])


@bp.get("/brand/<name>")
def page(name: str):
    if len(name) > MAX_NAME:
        abort(404)
    brand = current_app.extensions["deployment"].brand(name)
    groups = rankings.ranking(brand=name, per_tier=PER_TIER)
    if brand is None:
        if not any(g.total for g in groups):
            abort(404)
        brand = Brand(name=name)  # carried by workshops, no story in the deployment file yet
    return render_template(
        "public/brand.html",
        brand=brand,
        groups=groups,
        total=sum(g.total for g in groups),
        facts=public_status.card_facts([w for g in groups for w in g.workshops]),
    )
