"""`flask search reindex` and `flask search sync`."""

import click
from flask.cli import AppGroup
from sqlalchemy import func, select

from shifangbang.extensions import db
from shifangbang.models import Workshop

search_cli = AppGroup("search", help="全文搜索索引。")


def rebuild_with_progress(index, progress: bool = True) -> int:
    total = db.session.scalar(select(func.count(Workshop.id))) or 0
    if not progress:
        return index.rebuild()
    with click.progressbar(length=total, label="重建搜索索引") as bar:
        return index.rebuild(progress=bar.update)


@search_cli.command("reindex")
def reindex():
    """Rebuild the index from the database in a new folder and switch to it (searches keep working)."""
    from . import get_index

    count = rebuild_with_progress(get_index())
    click.echo(f"已重建搜索索引：{count} 家作坊。")


@search_cli.command("sync")
@click.option(
    "--rebuild-if-needed",
    is_flag=True,
    help="索引缺失、损坏或是旧版本建的：重建它（服务启动时用）。",
)
def sync(rebuild_if_needed: bool):
    """Apply pending changes from the change log."""
    from . import IndexUnavailable, get_index

    try:
        applied = get_index().sync()
    except IndexUnavailable as e:
        if not rebuild_if_needed:
            raise click.ClickException(f"{e}") from e
        click.echo(f"{e}：重建中……")
        count = rebuild_with_progress(get_index())
        click.echo(f"已重建搜索索引：{count} 家作坊。")
        return
    if applied is None:
        raise click.ClickException("另一个进程正在写入索引，请稍后再试。")
    click.echo(f"已同步 {applied} 家作坊的变更。")
