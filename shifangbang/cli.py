"""Click commands: `flask setup`, `flask demo load`, `flask users …`, `flask audit verify`."""
import click
from flask import Flask
from flask.cli import AppGroup
from sqlalchemy import func, select

from . import audit, users
from .extensions import db
from .models import Jurisdiction, User, Workshop

demo_cli = AppGroup("demo", help="演示数据。")
users_cli = AppGroup("users", help="监管人员账号。")
audit_cli = AppGroup("audit", help="审计日志。")


@demo_cli.command("load")
@click.option("--seed", default=20261123, show_default=True, help="随机种子：同一种子生成同样的数据。")
@click.option("--size", default=2000, show_default=True, help="作坊数量。")
def demo_load(seed: int, size: int):
    """Fill an empty database with realistic demo data."""
    from . import demo

    if db.session.scalar(select(func.count(Workshop.id))):
        raise click.ClickException("数据库中已有作坊数据，演示数据只能载入空库。")
    accounts = demo.load(seed=seed, size=size, progress=True)
    click.echo(f"已载入 {size} 家演示作坊。")
    for username, password, role in accounts:
        click.echo(f"  演示账号 {username} / {password}（{role}）")


@users_cli.command("create")
@click.argument("username")
@click.option("--role", type=click.Choice(["admin", "officer", "viewer"]), required=True)
@click.option("--name", "display_name", required=True, help="姓名。")
@click.option("--jurisdiction", "jurisdiction_code", help="所属辖区代码（执法人员、只读账号必填）。")
@click.password_option(help="密码（至少 10 位）。")
def users_create(username, role, display_name, jurisdiction_code, password):
    jurisdiction_id = None
    if jurisdiction_code:
        j = db.session.scalar(select(Jurisdiction).where(Jurisdiction.code == jurisdiction_code))
        if j is None:
            raise click.ClickException(f"找不到辖区代码 {jurisdiction_code}。")
        jurisdiction_id = j.id
    try:
        users.create_user(None, username, password, role, display_name, jurisdiction_id)
    except users.UserError as e:
        raise click.ClickException(str(e))
    db.session.commit()
    click.echo(f"已创建账号 {username}。")


@users_cli.command("reset-password")
@click.argument("username")
@click.password_option(help="新密码（至少 10 位）。")
def users_reset_password(username, password):
    user = db.session.scalar(select(User).where(User.username == username))
    if user is None:
        raise click.ClickException(f"找不到账号 {username}。")
    try:
        users.set_password(None, user, password)
    except users.UserError as e:
        raise click.ClickException(str(e))
    db.session.commit()
    click.echo(f"已重置 {username} 的密码并解除锁定。")


@audit_cli.command("verify")
def audit_verify():
    """Check the audit log's hash chain; exit 1 if any row was altered, deleted or inserted."""
    checked, problems = audit.verify()
    for p in problems:
        click.echo(f"  第 {p.seq} 条（id {p.id}）：{p.message}", err=True)
    if problems:
        click.echo(f"审计日志校验失败：{checked} 条记录中发现 {len(problems)} 处问题。", err=True)
        raise SystemExit(1)
    click.echo(f"审计日志完整：{checked} 条记录，哈希链无误。")


@click.command("setup")
@click.option("--demo/--no-demo", default=True, help="空库时载入演示数据。")
def setup(demo: bool):
    """Migrate the database, load demo data into an empty one, and bring the search index up to date."""
    from flask_migrate import upgrade

    upgrade()
    if demo and not db.session.scalar(select(func.count(Workshop.id))):
        from . import demo as demo_mod

        for username, password, role in demo_mod.load(seed=20261123, size=2000, progress=True):
            click.echo(f"  演示账号 {username} / {password}（{role}）")
    import search_index

    search_index.ensure_current(progress=True)


def init_app(app: Flask) -> None:
    from .regwork_cli import draws_cli, titles_cli

    for command in (demo_cli, users_cli, audit_cli, setup, titles_cli, draws_cli):
        app.cli.add_command(command)
