"""The `db` fixture must undo even committed work: later tests start from an empty database."""

from shifangbang.extensions import db as _db
from shifangbang.models import Workshop

from . import factories as f


def test_a_commit_inside_a_test(client, db):
    f.workshop(f.jurisdictions()["kun1"])
    _db.session.commit()
    assert Workshop.query.count() == 1


def test_b_is_rolled_back_afterwards(client, db):
    assert Workshop.query.count() == 0
