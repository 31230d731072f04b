"""双随机、一公开: published draws, with everything needed to reproduce them."""

from flask import Blueprint, abort, render_template

from shifangbang import draws, labels
from shifangbang.extensions import db
from shifangbang.models import RandomDraw

bp = Blueprint("public_draws", __name__, template_folder="templates")


@bp.get("/draws")
def index():
    return render_template("public/draws/index.html", draws=draws.recent(None, published_only=True))


@bp.get("/draws/<int:draw_id>")
def show(draw_id: int):
    d = db.session.get(RandomDraw, draw_id)
    if d is None or not d.published:
        abort(404)
    return render_template("public/draws/show.html", d=d, v=draws.public_view(d), labels=labels)
