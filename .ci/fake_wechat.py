"""A stand-in for WeChat's server API, for .ci/fuzz: the fuzzed server talks to it instead of
api.weixin.qq.com, so the WeChat routes are exercised end to end (a code the fuzzer makes up is
one WeChat refuses) instead of all answering 503 "not configured".

Usage: python3 fake_wechat.py PORT_FILE  (binds 127.0.0.1 on a free port and writes the port).
"""

import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

INVALID_CODE = {"errcode": 40029, "errmsg": "invalid code"}
ANSWERS = {
    ("GET", "/cgi-bin/token"): {"access_token": "fuzz-access-token", "expires_in": 7200},
    ("GET", "/sns/jscode2session"): INVALID_CODE,
    ("POST", "/wxa/business/getuserphonenumber"): INVALID_CODE,
    ("POST", "/cgi-bin/message/subscribe/send"): {"errcode": 0, "errmsg": "ok"},
    ("POST", "/wxa/msg_sec_check"): {
        "errcode": 0,
        "errmsg": "ok",
        "result": {"suggest": "pass", "label": 100},
        "trace_id": "fuzz-trace",
    },
}


class Handler(BaseHTTPRequestHandler):
    def answer(self, method):
        length = int(self.headers.get("content-length") or 0)
        if length:
            self.rfile.read(length)
        url = urlsplit(self.path)
        body = ANSWERS.get((method, url.path))
        # The typed-client flows (.ci/typed-client) sign in with codes `flow-…`: a session for
        # them, one openid per code. Every other code is refused, as the fuzzer's should be.
        code = parse_qs(url.query).get("js_code", [""])[0]
        if url.path == "/sns/jscode2session" and code.startswith("flow-"):
            body = {"openid": "o" + code, "session_key": "flow-session-key"}
        if body is None:
            self.send_response(404)
            self.end_headers()
            return
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        self.answer("GET")

    def do_POST(self):
        self.answer("POST")

    def log_message(self, *args):
        pass


def main():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    with open(sys.argv[1], "w") as f:
        f.write(str(server.server_address[1]))
    server.serve_forever()


if __name__ == "__main__":
    main()
