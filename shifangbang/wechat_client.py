"""A thin client for the four WeChat server API calls the mini-program backend makes.

Standard-library urllib, JSON in and out; the host is WECHAT_API_BASE so tests and staging point it
at a fake (tests/wechat_fake.py). The calls, their fields and error codes are in docs/miniprogram.md.
No retries here: the caller decides (login answers 503, the outbox backs off).
"""

import json
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass

TIMEOUT = 10  # seconds; WeChat answers in well under one

# Error codes we act on (the rest are reported as they come).
BUSY = -1  # 系统繁忙
INVALID_CODE = 40029  # js_code invalid
CODE_USED = 40163  # js_code already used
RATE_LIMITED = 45011  # API minute-quota reached
TOKEN_INVALID = 40001  # access_token invalid or not the latest
TOKEN_EXPIRED = 42001
USER_REFUSED = 43101  # the user has not (or no longer) accepted the subscription
TRANSIENT = (BUSY, RATE_LIMITED)
STALE_TOKEN = (TOKEN_INVALID, TOKEN_EXPIRED)


class WechatError(Exception):
    """WeChat answered with a non-zero errcode (errcode None: it could not be reached at all)."""

    def __init__(self, errcode: int | None, errmsg: str):
        super().__init__(f"{errcode}: {errmsg}")
        self.errcode = errcode
        self.errmsg = errmsg

    @property
    def transient(self) -> bool:
        return self.errcode is None or self.errcode in TRANSIENT


@dataclass(frozen=True)
class Client:
    base: str
    appid: str
    secret: str

    @classmethod
    def from_config(cls, config) -> "Client":
        return cls(config["WECHAT_API_BASE"], config["WECHAT_APPID"], config["WECHAT_SECRET"])

    def _call(self, path: str, params: dict | None = None, body: dict | None = None) -> dict:
        url = f"{self.base}/{path}"
        if params:
            url += "?" + urllib.parse.urlencode(params)
        data = None
        headers = {"Accept": "application/json"}
        if body is not None:
            data = json.dumps(body, ensure_ascii=False).encode()
            headers["Content-Type"] = "application/json; charset=utf-8"
        req = urllib.request.Request(url, data=data, headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=TIMEOUT) as resp:
                answer = json.loads(resp.read().decode("utf-8") or "{}")
        except (urllib.error.URLError, OSError, ValueError) as e:
            raise WechatError(None, f"unreachable: {e}") from None
        if not isinstance(answer, dict):
            raise WechatError(None, "not a JSON object")
        code = answer.get("errcode") or 0
        if code != 0:
            raise WechatError(int(code), str(answer.get("errmsg", "")))
        return answer

    def code2session(self, code: str) -> dict:
        """sns/jscode2session: {openid, session_key, unionid?} for a wx.login code (used once)."""
        answer = self._call(
            "sns/jscode2session",
            {
                "appid": self.appid,
                "secret": self.secret,
                "js_code": code,
                "grant_type": "authorization_code",
            },
        )
        if not answer.get("openid"):
            raise WechatError(None, "no openid in the answer")
        return answer

    def stable_token(self, force_refresh: bool = False) -> tuple[str, int]:
        """cgi-bin/stable_token: (access_token, expires_in seconds). Without force_refresh every
        caller gets the same token until it nears expiry, so several servers can ask at once."""
        answer = self._call(
            "cgi-bin/stable_token",
            body={
                "grant_type": "client_credential",
                "appid": self.appid,
                "secret": self.secret,
                "force_refresh": force_refresh,
            },
        )
        if not answer.get("access_token"):
            raise WechatError(None, "no access_token in the answer")
        return answer["access_token"], int(answer.get("expires_in") or 7200)

    def phone_number(self, access_token: str, code: str) -> dict:
        """wxa/business/getuserphonenumber: phone_info {phoneNumber, purePhoneNumber, countryCode}."""
        answer = self._call(
            "wxa/business/getuserphonenumber", {"access_token": access_token}, {"code": code}
        )
        return answer.get("phone_info") or {}

    def send_subscribe(
        self,
        access_token: str,
        openid: str,
        template_id: str,
        data: dict[str, str],
        page: str | None = None,
        state: str = "formal",
    ) -> None:
        """cgi-bin/message/subscribe/send: one message for one accepted one-time subscription."""
        body = {
            "touser": openid,
            "template_id": template_id,
            "data": {k: {"value": v} for k, v in data.items()},
            "miniprogram_state": state,
            "lang": "zh_CN",
        }
        if page:
            body["page"] = page
        self._call("cgi-bin/message/subscribe/send", {"access_token": access_token}, body)
