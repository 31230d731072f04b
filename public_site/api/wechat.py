"""The mini-program's own endpoints: sign-in (/wechat/login), the signed-in user's cases and
subscriptions (/me/…), and scanned posters (/scan). Thin: the rules are in shifangbang/wechat.py,
the poster rules in shifangbang/posters.py and public_status.py. Guide: docs/miniprogram.md."""

from flask import current_app, jsonify, request

from shifangbang import posters, public_status, wechat
from shifangbang.extensions import limiter
from shifangbang.models import WechatUser

from . import bp, serializers
from .common import ApiError, arg_str, not_found

BEARER_CHALLENGE = 'Bearer realm="shifangbang"'


def bearer_token() -> str | None:
    """The token of an `Authorization: Bearer …` header; None without the header."""
    header = request.headers.get("Authorization")
    if header is None:
        return None
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def unauthorized(message: str = "请先在小程序中登录（登录已过期或无效）。") -> ApiError:
    return ApiError(
        401,
        "unauthorized",
        message,
        headers={"WWW-Authenticate": BEARER_CHALLENGE + ', error="invalid_token"'},
    )


def signed_in_user(required: bool = True) -> WechatUser | None:
    """The mini-program user of this request. A header sent with a bad or expired token is a 401
    even where signing in is optional: the client must sign in again, not file unbound by mistake."""
    token = bearer_token()
    if token is None:
        if required:
            raise unauthorized("请先在小程序中登录。")
        return None
    user = wechat.user_for_token(token)
    if user is None:
        raise unauthorized()
    return user


def unavailable(e: wechat.WechatUnavailable) -> ApiError:
    return ApiError(503, "wechat_unavailable", str(e), headers={"Retry-After": str(e.retry_after)})


def json_body() -> dict:
    body = request.get_json(silent=True) if request.is_json else None
    if not isinstance(body, dict):
        raise ApiError(415, "unsupported_media_type", "请以 application/json 提交一个 JSON 对象。")
    return body


def _string(body: dict, name: str) -> str:
    value = body.get(name)
    if value is None or value == "":
        raise ApiError(400, "invalid_parameter", f"请提供 {name}。", {name: "必填。"})
    if not isinstance(value, str) or len(value) > 128 or "\x00" in value:
        raise ApiError(
            400, "invalid_parameter", f"{name} 无效。", {name: "最多 128 个字符的字符串。"}
        )
    return value


@bp.post("/wechat/login")
@limiter.limit("10 per minute;200 per day")
def wechat_login():
    code = _string(json_body(), "code")
    try:
        session = wechat.login(code)
    except wechat.WechatRefused as e:
        raise ApiError(401, "invalid_code", str(e)) from None
    except wechat.WechatUnavailable as e:
        raise unavailable(e) from None
    return jsonify({"token": session.token, "expires_in": session.expires_in})


@bp.post("/wechat/logout")
@limiter.limit("30 per minute")
def wechat_logout():
    """This sign-in ends: 204; a token that is not (or no longer) valid is a 401 as everywhere."""
    signed_in_user()
    wechat.logout(bearer_token())
    return "", 204


@bp.delete("/me")
@limiter.limit("10 per minute")
def forget_me():
    """注销: everything held about this user is deleted; their cases stay, unbound."""
    user = signed_in_user()
    unbound = wechat.forget(user)
    return jsonify({"deleted": True, "cases_unbound": unbound})


@bp.get("/me/complaints")
@limiter.limit("60 per minute")
def my_complaints():
    from .routes import complaint_public

    user = signed_in_user()
    items = [complaint_public(v) for v in wechat.my_complaints(user)]
    response = jsonify({"items": items, "total": len(items)})
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.post("/me/complaints/<tracking_no>/phone")
@limiter.limit("5 per minute;20 per day")
def verify_phone(tracking_no: str):
    user = signed_in_user()
    code = _string(json_body(), "code")
    try:
        at = wechat.verify_phone(user, tracking_no[:20], code)
    except LookupError as e:
        raise not_found(str(e)) from None
    except wechat.WechatRefused as e:
        raise ApiError(422, "phone_not_verified", str(e)) from None
    except wechat.WechatUnavailable as e:
        raise unavailable(e) from None
    return jsonify(
        {
            "tracking_no": tracking_no.upper(),
            "phone_verified": True,
            "verified_at": serializers.iso_datetime(at),
        }
    )


@bp.post("/me/subscriptions")
@limiter.limit("30 per minute;300 per day")
def subscribe():
    user = signed_in_user()
    body = json_body()
    kind = body.get("kind")
    if kind not in ("case", "workshop"):
        raise ApiError(
            400,
            "invalid_parameter",
            "kind 只能是 case 或 workshop。",
            {"kind": "case 或 workshop。"},
        )
    target = _string(body, "tracking_no" if kind == "case" else "workshop_code")
    try:
        if kind == "case":
            sub = wechat.subscribe(user, kind, tracking_no=target)
        else:
            sub = wechat.subscribe(user, kind, workshop_code=target)
    except LookupError as e:
        raise not_found(str(e)) from None
    except wechat.WechatRefused as e:
        raise ApiError(422, "subscription_refused", str(e)) from None
    except wechat.WechatUnavailable as e:
        raise unavailable(e) from None
    response = jsonify(
        {
            "id": sub.id,
            "kind": sub.kind,
            "target": target.upper() if kind == "case" else target,
            "template_id": sub.template_id,
            "status": sub.status,
        }
    )
    response.status_code = 201
    return response


POSTER_MESSAGES = {  # the same words as the workshop page (public/workshop.html)
    "current": "公示牌为最新版本。",
    "outdated": "您扫描的公示牌已过期，请以最新公示信息为准。",
    "unknown": "未查到这一期公示牌的发放记录，请以最新公示信息为准；如怀疑公示牌是伪造的，请举报。",
}


@bp.get("/scan")
@limiter.limit("120 per minute")
def scan():
    """A poster's QR link as WeChat hands it to the mini-program (扫普通链接二维码打开小程序)."""
    if request.args.get("q") is None:
        raise ApiError(400, "invalid_parameter", "请提供扫描到的链接 q。", {"q": "必填。"})
    link = arg_str("q", 300) or ""
    parsed = posters.parse_link(link, current_app.config["BASE_URL"])
    if parsed is None:
        raise not_found("这不是本站公示牌上的二维码。")
    code, issue_no = parsed
    status = public_status.assemble(code, issue_no)
    if status is None:
        raise not_found("找不到这个作坊。请核对作坊编号。")
    poster = None
    if status.poster is not None:
        p = status.poster
        state = "unknown" if not p.found else ("outdated" if p.outdated else "current")
        poster = {
            "issue_no": p.issue_no,
            "found": p.found,
            "current": state == "current",
            "state": state,
            "issued_at": serializers.iso_datetime(p.issued_at),
            "message": POSTER_MESSAGES[state],
        }
    return jsonify(
        {
            "code": code,
            "workshop": serializers.workshop_summary(status.workshop),
            "poster": poster,
        }
    )
