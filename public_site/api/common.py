"""What every /api/v1 endpoint shares: errors in one shape, parameter parsing, pagination, links."""

from flask import current_app, request, url_for
from werkzeug.exceptions import HTTPException

PER_PAGE_DEFAULT = 20
PER_PAGE_MAX = 100
PAGE_MAX = 10_000


class ApiError(HTTPException):
    """Raised by API code; public_site/errors.py renders it as {"error": {status, code, message, details}}."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        details: dict | None = None,
        headers: dict | None = None,
    ):
        super().__init__(message)
        self.code = status
        self.api_code = code
        self.api_message = message
        self.api_details = details
        self.api_headers = headers or {}

    def get_headers(self, environ=None, scope=None):
        return [*super().get_headers(environ, scope), *self.api_headers.items()]


def bad_param(name: str, message: str) -> ApiError:
    return ApiError(400, "invalid_parameter", message, {name: message})


def not_found(message: str = "找不到该资源。") -> ApiError:
    return ApiError(404, "not_found", message)


def arg_str(name: str, max_len: int = 100) -> str | None:
    value = request.args.get(name)
    # NUL cannot be stored or compared in PostgreSQL text, and no name or code contains one.
    value = value.replace("\x00", "").strip() if value is not None else None
    if not value:
        return None
    if len(value) > max_len:
        raise bad_param(name, f"参数 {name} 太长（最多 {max_len} 个字符）。")
    return value


def arg_int(name: str, default: int | None, lo: int, hi: int) -> int | None:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise bad_param(name, f"参数 {name} 必须是整数。") from None
    if not lo <= value <= hi:
        raise bad_param(name, f"参数 {name} 必须在 {lo} 到 {hi} 之间。")
    return value


def arg_float(name: str, default: float | None, lo: float, hi: float) -> float | None:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise bad_param(name, f"参数 {name} 必须是数字。") from None
    if value != value or not lo <= value <= hi:  # NaN fails the first test
        raise bad_param(name, f"参数 {name} 必须在 {lo:g} 到 {hi:g} 之间。")
    return value


def arg_bool(name: str) -> bool | None:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return None
    if raw.lower() in ("true", "1"):
        return True
    if raw.lower() in ("false", "0"):
        return False
    raise bad_param(name, f"参数 {name} 只能是 true 或 false。")


def arg_choice(name: str, choices) -> str | None:
    value = arg_str(name)
    if value is not None and value not in choices:
        raise bad_param(name, f"参数 {name} 的取值无效，可选：{'、'.join(choices)}。")
    return value


def page_args() -> tuple[int, int]:
    return (arg_int("page", 1, 1, PAGE_MAX), arg_int("per_page", PER_PAGE_DEFAULT, 1, PER_PAGE_MAX))


def absolute(endpoint: str, **values) -> str:
    """Absolute URLs from BASE_URL, so links are right behind a proxy and in exported files."""
    return current_app.config["BASE_URL"] + url_for(endpoint, **values)


def page_links(total: int, page: int, per_page: int) -> dict:
    args = {k: v for k, v in request.args.items() if k not in ("page", "per_page")}
    pages = max(1, -(-total // per_page))

    def link(p):
        return absolute(
            request.endpoint, **(request.view_args or {}), **args, page=p, per_page=per_page
        )

    return {
        "self": link(page),
        "next": link(page + 1) if page < pages else None,
        "prev": link(page - 1) if 1 < page <= pages else None,
    }


def paginated(items: list, total: int, page: int, per_page: int, **extra) -> dict:
    return {
        "items": items,
        "page": page,
        "per_page": per_page,
        "total": total,
        "pages": max(1, -(-total // per_page)),
        "links": page_links(total, page, per_page),
        **extra,
    }
