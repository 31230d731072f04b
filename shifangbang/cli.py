"""Click commands: `flask setup`, `demo`, `users`, `audit`, `registry`, `deadlines`, `titles`,
`draws`, `backup` and `restore` (the search and open-data groups live with their packages)."""

from datetime import date
from pathlib import Path

import click
from flask import Flask
from flask.cli import AppGroup, with_appcontext
from sqlalchemy import func, select

from . import audit, draws, titles, users
from .extensions import db
from .models import Jurisdiction, RandomDraw, User, Workshop

demo_cli = AppGroup("demo", help="演示数据。")
users_cli = AppGroup("users", help="监管人员账号。")
audit_cli = AppGroup("audit", help="审计日志。")
DEFAULT_SEED, DEFAULT_SIZE = 20261123, 2000
registry_cli = AppGroup("registry", help="作坊档案。")


@demo_cli.command("load")
@click.option(
    "--seed", default=DEFAULT_SEED, show_default=True, help="随机种子：同一种子生成同样的数据。"
)
@click.option("--size", default=DEFAULT_SIZE, show_default=True, help="作坊数量。")
def demo_load(seed: int, size: int):
    """Fill an empty database with realistic demo data."""
    from . import demo

    if db.session.scalar(select(func.count(Workshop.id))):
        raise click.ClickException("数据库中已有作坊数据，演示数据只能载入空库。")
    try:
        accounts = demo.load(seed=seed, size=size, progress=True)
    except demo.DemoError as e:
        raise click.ClickException(str(e)) from e
    click.echo(f"已载入 {size} 家演示作坊。")
    _echo_accounts(accounts)


def _echo_accounts(accounts) -> None:
    from .demo import DEMO_QUERY_PASSWORD

    for username, password, role in accounts:
        click.echo(f"  演示账号 {username} / {password}（{role}）")
    if accounts:
        click.echo(f"  演示投诉举报的查询密码均为 {DEMO_QUERY_PASSWORD}")


@users_cli.command("create")
@click.argument("username")
@click.option("--role", type=click.Choice(["admin", "officer", "viewer"]), required=True)
@click.option("--name", "display_name", required=True, help="姓名。")
@click.option(
    "--jurisdiction", "jurisdiction_code", help="所属辖区代码（执法人员、只读账号必填）。"
)
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
        raise click.ClickException(str(e)) from e
    db.session.commit()
    click.echo(f"已创建账号 {username}。")


@users_cli.command("totp")
@click.argument("username")
@click.option(
    "--require/--no-require", default=None, help="要求（或不再要求）该账号启用动态验证码。"
)
@click.option(
    "--reset", is_flag=True, help="清除已绑定的动态验证码（如手机丢失），下次登录重新绑定。"
)
def users_totp(username, require, reset):
    """Require, stop requiring or reset a user's TOTP second factor."""
    user = db.session.scalar(select(User).where(User.username == username))
    if user is None:
        raise click.ClickException(f"找不到账号 {username}。")
    if not reset and require is None:
        raise click.ClickException("请指定 --require、--no-require 或 --reset。")
    if reset:
        users.reset_totp(None, user, required=require)
    else:
        users.set_totp_required(None, user, require)
    db.session.commit()
    state = "已启用" if user.totp_secret else "未绑定"
    click.echo(f"{username}：动态验证码{state}，{'必须' if user.totp_required else '不强制'}启用。")


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
        raise click.ClickException(str(e)) from e
    db.session.commit()
    click.echo(f"已重置 {username} 的密码并解除锁定。")


@audit_cli.command("verify")
def audit_verify():
    """Check the audit log's keyed chain, the public chain and the recorded heads; exit 1 if any
    row was altered, deleted or inserted, or the log was cut short (docs/audit.md)."""
    checked, problems = audit.verify()
    for p in problems:
        click.echo(f"  第 {p.seq} 条（id {p.id}）：{p.message}", err=True)
    if problems:
        click.echo(f"审计日志校验失败：{checked} 条记录中发现 {len(problems)} 处问题。", err=True)
        raise SystemExit(1)
    click.echo(f"审计日志完整：{checked} 条记录，哈希链无误，与库外链头一致。")


deadlines_cli = AppGroup("deadlines", help="法定办理期限。")


@deadlines_cli.command("recompute")
@click.option("--all", "everything", is_flag=True, help="全部在办事项，而不只是按临时日历计算的。")
@click.option("--dry-run", is_flag=True, help="只列出变化，不保存。")
def deadlines_recompute(everything, dry_run):
    """Recount open items' due dates after upgrading chinese-calendar (audited)."""
    from . import complaints

    changed = complaints.recompute_deadlines(None, everything=everything, dry_run=dry_run)
    for r in changed:
        click.echo(f"  {r.tracking_no}：{r.old.isoformat()} → {r.new.isoformat()}")
    verb = "将调整" if dry_run else "已调整"
    click.echo(f"{verb} {len(changed)} 件在办事项的办理期限。")


@click.command("backup")
@with_appcontext
@click.argument("dest", type=click.Path(path_type=Path), default=".")
def backup_command(dest: Path):
    """Consistent online copy of the SQLite database into DEST (a folder or a new file)."""
    from flask import current_app

    from . import backup

    try:
        path = backup.backup(current_app.config["SQLALCHEMY_DATABASE_URI"], dest)
    except backup.BackupError as e:
        raise click.ClickException(str(e)) from e
    click.echo(f"已备份到 {path}")


@click.command("restore")
@with_appcontext
@click.argument("source", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.confirmation_option(
    prompt="恢复会替换当前数据库（当前数据库会另存一份）。请先停止所有应用进程。继续吗？"
)
def restore_command(source: Path):
    """Replace the SQLite database with a backup (stop the app servers first)."""
    from flask import current_app

    from . import backup

    try:
        kept = backup.restore(current_app.config["SQLALCHEMY_DATABASE_URI"], source)
    except backup.BackupError as e:
        raise click.ClickException(str(e)) from e
    click.echo(f"已从 {source} 恢复。" + (f"原数据库另存为 {kept}" if kept else ""))


@registry_cli.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--dry-run", is_flag=True, help="只检查，不写入。")
def registry_import(path, dry_run):
    """Import workshops from an .xlsx or .csv sheet (all rows or none; idempotent by 证件编号)."""
    from pathlib import Path

    from . import registry

    try:
        rows = registry.read_sheet(path, Path(path).read_bytes())
    except registry.ImportFileError as e:
        raise click.ClickException(str(e)) from e
    click.echo(f"读取 {len(rows)} 行。")
    if dry_run:
        report = registry.dry_run(None, rows)
    else:
        with click.progressbar(length=len(rows), label="导入中") as bar:
            report = registry.import_rows(None, rows, progress=bar.update)
    _say(report, dry_run, "家")


def _say(report, dry_run: bool, unit: str) -> None:
    """A sheet import's outcome: every bad row (exit 1), or what was (or would be) written."""
    for row_no, reason in report.errors:
        click.echo(f"  第 {row_no} 行：{reason}", err=True)
    if report.errors:
        click.echo(
            f"有 {len(report.errors)} 行有误，{'检查完毕' if dry_run else '未导入任何数据'}。",
            err=True,
        )
        raise SystemExit(1)
    verb = "将" if dry_run else "已"
    click.echo(
        f"{verb}新增 {report.created} {unit}，{verb}更新 {report.updated} {unit}，"
        f"{report.unchanged} {unit}无变化。"
    )


jurisdictions_cli = AppGroup("jurisdictions", help="辖区（市、县区、所）。")
categories_cli = AppGroup("categories", help="食品类别。")


def _import_sheet(path: str, dry_run: bool, columns, required, check, apply, unit: str) -> None:
    """Read a day-one sheet, check or import it (all rows or none) and say what happened."""
    from . import registry

    try:
        rows = registry.read_sheet(path, Path(path).read_bytes(), columns, required)
    except registry.ImportFileError as e:
        raise click.ClickException(str(e)) from e
    _say((check if dry_run else apply)(None, rows), dry_run, unit)


@jurisdictions_cli.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--dry-run", is_flag=True, help="只检查，不写入。")
def jurisdictions_import(path, dry_run):
    """Create the jurisdiction tree from an .xlsx or .csv sheet (辖区代码, 名称, 层级, 上级代码,
    电话, 地址), or update names and contacts by 辖区代码: all rows or none."""
    from . import jurisdictions as j

    _import_sheet(
        path, dry_run, j.COLUMNS, j.REQUIRED_COLUMNS, j.check_tree, j.import_tree, "个辖区"
    )


@jurisdictions_cli.command("merge")
@click.argument("source_code")
@click.argument("target_code")
@click.option("--document", default="", help="撤并依据的文号，如 包市监发〔2026〕12号。")
@click.option("--dry-run", is_flag=True, help="只显示将转移的内容，不写入。")
def jurisdictions_merge(source_code, target_code, document, dry_run):
    """Merge the station SOURCE_CODE into TARGET_CODE (机构改革): its workshops, accounts and
    case files move; it stays only in the history that names it."""
    from . import jurisdictions as j

    source, target = (
        db.session.scalar(select(Jurisdiction).where(Jurisdiction.code == code))
        for code in (source_code, target_code)
    )
    try:
        if dry_run:
            j.merge_check(source, target)
            click.echo(f"将并入{target.name}：{j.say_moved(j.merge_preview(source))}（未写入）")
            return
        moved = j.merge(None, source, target, document)
    except j.JurisdictionError as e:
        raise click.ClickException(str(e)) from e
    click.echo(f"{source.name}已并入{target.name}：{j.say_moved(moved)}。")


@categories_cli.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--dry-run", is_flag=True, help="只检查，不写入。")
def categories_import(path, dry_run):
    """Create the product categories from an .xlsx or .csv sheet (类别代码, 类别名称, 高风险),
    or rename them and change their high-risk mark by 类别代码: all rows or none."""
    from . import categories as c

    _import_sheet(
        path,
        dry_run,
        c.COLUMNS,
        c.REQUIRED_COLUMNS,
        c.check_categories,
        c.import_categories,
        "个类别",
    )


@click.command("setup")
@with_appcontext
@click.option("--demo/--no-demo", default=True, help="空库时载入演示数据。")
def setup(demo: bool):
    """Migrate the database, load demo data into an empty one, and bring the search index up to date."""
    from flask_migrate import upgrade

    from . import demo as demo_mod

    upgrade()
    if demo and not db.session.scalar(select(func.count(Workshop.id))):
        click.echo("空库：载入演示数据……")
        demo_mod.load(seed=DEFAULT_SEED, size=DEFAULT_SIZE, progress=True)
    # Show the demo sign-ins on every start, as long as they still have their demo passwords.
    _echo_accounts(demo_mod.active_demo_accounts())
    import search_index

    search_index.ensure_current(progress=True)


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


@click.command("daily")
@with_appcontext
@click.pass_context
def daily(ctx):
    """The day's jobs, each run even if one before it failed (deploy/shifangbang-daily.timer):
    title-revocation rules, today's open data, provisional deadlines, the audit chain. Exit 1 if
    any failed, so the timer's failure shows in the system log and monitoring."""
    from .opendata import export_command

    failed = []
    for label, command, args in (
        ("示范称号撤销规则", titles_evaluate, {}),
        ("开放数据", export_command, {"directory": None}),
        ("按临时日历计算的办理期限", deadlines_recompute, {"everything": False, "dry_run": False}),
        ("审计日志", audit_verify, {}),
    ):
        click.echo(f"== {label}")
        try:
            ctx.invoke(command, **args)
        except (Exception, SystemExit) as e:  # the next job still runs; reported below
            db.session.rollback()
            failed.append(label)
            click.echo("失败。" if isinstance(e, SystemExit) else f"失败：{e}", err=True)
    if failed:
        click.echo(f"每日任务有 {len(failed)} 项失败：{'、'.join(failed)}。", err=True)
        raise SystemExit(1)
    click.echo("每日任务全部完成。")


def init_app(app: Flask) -> None:
    for command in (
        daily,
        demo_cli,
        users_cli,
        audit_cli,
        registry_cli,
        jurisdictions_cli,
        categories_cli,
        setup,
        backup_command,
        restore_command,
        titles_cli,
        draws_cli,
        deadlines_cli,
    ):
        app.cli.add_command(command)
