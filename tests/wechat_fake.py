"""A local fake of WeChat's server API, as documented (developers.weixin.qq.com, 服务端 API):

- GET  /sns/jscode2session?appid&secret&js_code&grant_type=authorization_code
       → {openid, session_key[, unionid]}; 40029 invalid code (also an unknown or a used one)
- POST /cgi-bin/stable_token {grant_type=client_credential, appid, secret, force_refresh}
       → {access_token, expires_in}; the same token until force_refresh (or expiry)
- POST /wxa/business/getuserphonenumber?access_token {code}
       → {errcode 0, phone_info {phoneNumber, purePhoneNumber, countryCode, watermark}}
- POST /cgi-bin/message/subscribe/send?access_token {touser, template_id, page, data, …}
       → {errcode 0}; 40001 stale token; 43101 the user refused the subscription

Errors come as HTTP 200 with {"errcode", "errmsg"}, as WeChat sends them. Tests arrange state
(codes, phone codes, refusing users, queued failures) and read what arrived. Started by
`WechatFake.start()` on a free local port in a thread; never the network.
"""

import json
import secrets
import threading
import time
from urllib.parse import parse_qs
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

APPID = "wx0123456789abcdef"
SECRET = "test-secret-not-real"


class _Quiet(WSGIRequestHandler):
    def log_message(self, *args):
        pass


class _ThreadingServer(WSGIServer):
    daemon_threads = True

    def process_request(self, request, client_address):  # one thread per request
        t = threading.Thread(target=self._handle, args=(request, client_address), daemon=True)
        t.start()

    def _handle(self, request, client_address):
        try:
            self.finish_request(request, client_address)
        finally:
            self.shutdown_request(request)


class WechatFake:
    def __init__(self, appid: str = APPID, secret: str = SECRET):
        self.appid, self.secret = appid, secret
        self.lock = threading.Lock()
        self.codes: dict[str, str] = {}  # js_code → openid (removed when used)
        self.phone_codes: dict[str, str] = {}  # getPhoneNumber code → pure phone number
        self.refusing: set[str] = set()  # openids that have not accepted (43101)
        self.fail_next: dict[str, list[int]] = {}  # path → errcodes to answer before succeeding
        self.delay: dict[str, float] = {}  # path → seconds taken to answer (a slow network)
        self.token = secrets.token_hex(16)
        self.token_requests: list[dict] = []
        self.messages: list[dict] = []  # subscribe messages accepted
        self.requests: list[tuple[str, dict]] = []  # every call: (path, params/body)
        self.server = None
        self.url = ""

    # --- arranging --------------------------------------------------------------------------
    def issue_code(self, openid: str) -> str:
        code = "code-" + secrets.token_hex(8)
        with self.lock:
            self.codes[code] = openid
        return code

    def issue_phone_code(self, phone: str) -> str:
        code = "phone-" + secrets.token_hex(8)
        with self.lock:
            self.phone_codes[code] = phone
        return code

    def fail(self, path: str, *errcodes: int) -> None:
        with self.lock:
            self.fail_next.setdefault(path, []).extend(errcodes)

    def expire_token(self) -> None:
        """WeChat rotated the token (e.g. another client forced a refresh): the old one gets 40001."""
        with self.lock:
            self.token = secrets.token_hex(16)

    def sent_to(self, openid: str) -> list[dict]:
        with self.lock:
            return [m for m in self.messages if m["touser"] == openid]

    # --- serving ----------------------------------------------------------------------------
    def start(self) -> "WechatFake":
        self.server = make_server(
            "127.0.0.1", 0, self, server_class=_ThreadingServer, handler_class=_Quiet
        )
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server:
            self.server.shutdown()
            self.server.server_close()

    def __call__(self, environ, start_response):
        path = environ["PATH_INFO"].lstrip("/")
        params = {k: v[0] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()}
        body = {}
        if environ["REQUEST_METHOD"] == "POST":
            size = int(environ.get("CONTENT_LENGTH") or 0)
            raw = environ["wsgi.input"].read(size) if size else b""
            try:
                body = json.loads(raw or b"{}")
            except ValueError:
                body = None
        with self.lock:
            self.requests.append((path, dict(params, **(body or {}))))
            answer = self._answer(path, environ["REQUEST_METHOD"], params, body)
            delay = self.delay.get(path, 0)
        time.sleep(delay)
        data = json.dumps(answer, ensure_ascii=False).encode()
        start_response("200 OK", [("Content-Type", "application/json; charset=utf-8")])
        return [data]

    @staticmethod
    def _error(code: int, msg: str) -> dict:
        return {"errcode": code, "errmsg": msg}

    def _answer(self, path, method, params, body) -> dict:
        if body is None:
            return self._error(47001, "data format error")
        queued = self.fail_next.get(path)
        if queued:
            code = queued.pop(0)
            return self._error(
                code, {-1: "system error", 45011: "api minute-quota reach limit"}.get(code, "error")
            )
        if path == "sns/jscode2session":
            if method != "GET":
                return self._error(43002, "require GET method")
            if params.get("appid") != self.appid or params.get("secret") != self.secret:
                return self._error(40013, "invalid appid")
            if params.get("grant_type") != "authorization_code":
                return self._error(40002, "invalid grant_type")
            openid = self.codes.pop(params.get("js_code", ""), None)
            if openid is None:
                return self._error(40029, "invalid code")
            return {"openid": openid, "session_key": secrets.token_urlsafe(16)}
        if path == "cgi-bin/stable_token":
            if method != "POST":
                return self._error(43002, "require POST method")
            if body.get("appid") != self.appid or body.get("secret") != self.secret:
                return self._error(40013, "invalid appid")
            if body.get("grant_type") != "client_credential":
                return self._error(40002, "invalid grant_type")
            self.token_requests.append(body)
            if body.get("force_refresh"):
                self.token = secrets.token_hex(16)
            return {"access_token": self.token, "expires_in": 7200}
        if path in ("wxa/business/getuserphonenumber", "cgi-bin/message/subscribe/send"):
            if method != "POST":
                return self._error(43002, "require POST method")
            if params.get("access_token") != self.token:
                return self._error(
                    40001, "invalid credential, access_token is invalid or not latest"
                )
            if path == "wxa/business/getuserphonenumber":
                phone = self.phone_codes.pop(body.get("code", ""), None)
                if phone is None:
                    return self._error(40029, "invalid code")
                return {
                    "errcode": 0,
                    "errmsg": "ok",
                    "phone_info": {
                        "phoneNumber": phone,
                        "purePhoneNumber": phone,
                        "countryCode": "86",
                        "watermark": {"timestamp": 1700000000, "appid": self.appid},
                    },
                }
            if not body.get("touser") or not body.get("template_id") or "data" not in body:
                return self._error(47003, "argument invalid")
            if body["touser"] in self.refusing:
                return self._error(43101, "user refuse to accept the msg")
            self.messages.append(body)
            return {"errcode": 0, "errmsg": "ok"}
        return self._error(404, "unknown api")
