"""`flask titles evaluate` and `flask draws replay ID`."""

from datetime import date

import click
from flask.cli import AppGroup

from . import draws, titles
from .extensions import db
from .models import RandomDraw

titles_cli = AppGroup("titles", help="示范称号。")
draws_cli = AppGroup("draws", help="双随机抽取。")


@titles_cli.command("evaluate")
@click.option("--on", "on", default=None, help="按哪一天评估（YYYY-MM-DD，默认今天）。")
def titles_evaluate(on):
    """Run the revocation rules over every held title; file proposals for an administrator."""
    day = date.fromisoformat(on) if on else None
    proposals = titles.evaluate_all(day)
    for p in proposals:
        g = p.grant
        click.echo(
            f"  建议撤销：{g.workshop.name} 的“{g.title.name}”——{titles.REVOCATION_RULES[p.rule]}"
            + (f"，并禁止 {p.bar_years} 年内再次申请" if p.bar_years else "")
        )
    click.echo(f"评估完成：新增 {len(proposals)} 条撤销建议，待管理员确认或驳回。")


@draws_cli.command("replay")
@click.argument("draw_id", type=int)
def draws_replay(draw_id):
    """Recompute a draw from its recorded seed and pool; exit 1 unless it matches."""
    d = db.session.get(RandomDraw, draw_id)
    if d is None:
        raise click.ClickException(f"找不到第 {draw_id} 次抽取。")
    try:
        replayed = draws.replay(d)
    except draws.DrawError as e:
        click.echo(f"重放失败：{e}", err=True)
        raise SystemExit(1) from e
    click.echo(f"种子：{d.seed}；作坊池 {len(d.pool)} 家；检查人员 {len(d.inspectors)} 名。")
    if replayed == d.result:
        click.echo(f"重放结果与记录一致（{len(replayed)} 个检查对象）。")
    else:
        click.echo("重放结果与记录不一致！", err=True)
        raise SystemExit(1)
