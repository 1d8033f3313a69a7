#!/usr/bin/python3
"""A simulator of the EC eTranslation web service (REST, JSON), over real HTTP, in memory. It
stands in for eTranslation in the gateway's integration tests; it is not the system under test.

  etranslation_sim.py --application NAME --password PW [--algorithm SHA-256|MD5]

Prints "LISTENING <port>" once bound to 127.0.0.1 on an ephemeral port. Serves
  POST /etranslation/si/translate   HTTP Digest (RFC 7616, qop=auth; nonce counts checked;
                                    a nonce is stale after --nonce-uses uses or on demand), the
                                    JSON body of the contract checked; answers a bare integer:
                                    a new request id, or a negative error code
Then, asynchronously, for each target language it calls back as eTranslation does:
  text:     POST requesterCallback, form body request-id, target-language, translated-text,
            external-reference (translated text = "[<LANG>] " + the source text)
  document: POST the httpDestination with those as query parameters and the base64 document
            ("[<LANG>] " + the decoded source) as the raw body
  error:    POST errorCallback, form body error-code, error-message, target-languages,
            request-id, external-reference
Control endpoints for the tests:
  POST /_sim/config    JSON: {"gateway": "http://127.0.0.1:PORT" (replaces the scheme and
                       authority of callback URLs starting with "callback_base"),
                       "callback_base": "http://gateway.sim",
                       "mode": "auto" | "error" | "never",
                       "answers": [-20028, ...]   (answered, in turn, before new ids),
                       "duplicate": bool (every callback sent twice),
                       "reverse": bool (languages called back in reverse order),
                       "stale_next": bool (the next authorised request gets stale=true),
                       "charset": "utf-8" | "iso-8859-1" (text callbacks' form encoding)}
  GET  /_sim/requests  every /translate request: headers, body, whether Digest verified, answer
  GET  /_sim/callbacks every callback sent: url, status the gateway answered
"""
import argparse
import base64
import hashlib
import json
import re
import secrets
import sys
import threading
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOCK = threading.Lock()
CFG = {"gateway": "", "callback_base": "http://gateway.sim", "mode": "auto", "answers": [],
       "duplicate": False, "reverse": False, "stale_next": False, "charset": "utf-8"}
REQUESTS = []
CALLBACKS = []
NONCES = {}        # nonce -> highest nc seen
NEXT_ID = [100000]
ARGS = None
REALM = "eTranslation"
LANGS = {"BG", "CS", "DA", "DE", "EL", "EN", "ES", "ET", "FI", "FR", "GA", "HR", "HU", "IT",
         "LT", "LV", "MT", "NL", "PL", "PT", "RO", "SK", "SL", "SV", "AR", "UK", "RU", "TR"}


def h(data):
    algo = hashlib.sha256 if ARGS.algorithm == "SHA-256" else hashlib.md5
    return algo(data.encode()).hexdigest()


def parse_auth(value):
    if not value or not value.startswith("Digest "):
        return None
    out = {}
    for m in re.finditer(r'(\w+)=(?:"((?:[^"\\]|\\.)*)"|([^\s,]+))', value[7:]):
        out[m.group(1)] = m.group(2) if m.group(2) is not None else m.group(3)
    return out


def check_digest(headers, method, uri):
    """Returns (ok, stale)."""
    p = parse_auth(headers.get("Authorization"))
    if not p:
        return False, False
    nonce = p.get("nonce", "")
    with LOCK:
        if nonce not in NONCES:
            return False, True          # a nonce we no longer know: stale
        if CFG["stale_next"]:
            CFG["stale_next"] = False
            del NONCES[nonce]
            return False, True
    if p.get("qop") != "auth" or p.get("username") != ARGS.application or \
            p.get("realm") != REALM or p.get("uri") != uri or \
            p.get("algorithm", "MD5") != ARGS.algorithm or "cnonce" not in p:
        return False, False
    try:
        nc = int(p.get("nc", ""), 16)
    except ValueError:
        return False, False
    ha1 = h("%s:%s:%s" % (ARGS.application, REALM, ARGS.password))
    ha2 = h("%s:%s" % (method, uri))
    expect = h("%s:%s:%s:%s:auth:%s" % (ha1, nonce, p["nc"], p["cnonce"], ha2))
    if p.get("response") != expect:
        return False, False
    with LOCK:
        if nc <= NONCES.get(nonce, 0):
            return False, False         # replayed nonce count
        NONCES[nonce] = nc
    return True, False


def challenge(stale):
    nonce = secrets.token_urlsafe(24)
    with LOCK:
        NONCES[nonce] = 0
    v = 'Digest realm="%s", qop="auth", algorithm=%s, nonce="%s", opaque="sim-opaque"' % (
        REALM, ARGS.algorithm, nonce)
    if stale:
        v += ", stale=true"
    return v


def rewrite(url):
    with LOCK:
        base, gw = CFG["callback_base"], CFG["gateway"]
    if gw and url.startswith(base):
        return gw + url[len(base):]
    return url


def post(url, body, content_type):
    req = urllib.request.Request(rewrite(url), data=body, method="POST",
                                 headers={"Content-Type": content_type})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            status = r.status
    except urllib.error.HTTPError as e:
        status = e.code
    except Exception as e:  # noqa: BLE001 - recorded for the test to see
        status = "error: %s" % e
    with LOCK:
        CALLBACKS.append({"url": url, "status": status})


def deliver(req_id, job):
    with LOCK:
        mode, dup, rev, charset = CFG["mode"], CFG["duplicate"], CFG["reverse"], CFG["charset"]
    if mode == "never":
        return
    langs = list(job["targetLanguages"])
    if rev:
        langs.reverse()
    ext = job.get("externalReference", "")
    times = 2 if dup else 1
    if mode == "error":
        form = urllib.parse.urlencode({"request-id": req_id, "target-languages": ",".join(langs),
                                       "error-code": "-20013",
                                       "error-message": "Language pair not supported by the domain",
                                       "external-reference": ext}).encode()
        for _ in range(times):
            post(job["errorCallback"], form, "application/x-www-form-urlencoded")
        return
    for lang in langs:
        for _ in range(times):
            if "textToTranslate" in job:
                text = "[%s] %s" % (lang, job["textToTranslate"])
                form = urllib.parse.urlencode(
                    {"request-id": req_id, "target-language": lang, "translated-text": text,
                     "external-reference": ext}, encoding=charset).encode("ascii")
                ct = "application/x-www-form-urlencoded"
                if charset != "utf-8":
                    ct += "; charset=" + charset.upper()
                post(job["requesterCallback"], form, ct)
            else:
                doc = job["documentToTranslateBase64"]
                data = ("[%s] " % lang).encode() + base64.b64decode(doc["content"])
                q = urllib.parse.urlencode({"request-id": req_id, "target-language": lang,
                                            "external-reference": ext})
                for dest in job["destinations"]["httpDestinations"]:
                    sep = "&" if "?" in dest else "?"
                    post(dest + sep + q, base64.b64encode(data), "application/octet-stream")


def contract_error(job):
    if not isinstance(job, dict):
        return -20031
    if not job.get("sourceLanguage"):
        return -20000
    if job["sourceLanguage"] not in LANGS:
        return -20001
    if not job.get("targetLanguages"):
        return -20002
    if any(t not in LANGS for t in job["targetLanguages"]):
        return -20003
    caller = job.get("callerInformation") or {}
    if caller.get("application") != ARGS.application:
        return -20007
    has_text = "textToTranslate" in job
    has_doc = "documentToTranslateBase64" in job
    if has_text and has_doc:
        return -20012
    if has_text and not job["textToTranslate"]:
        return -20030
    if has_doc and not ((job.get("destinations") or {}).get("httpDestinations")):
        return -20025
    for key, code in (("requesterCallback", -20026), ("errorCallback", -20027)):
        if not str(job.get(key, "")).startswith(("http://", "https://")):
            return code
    return 0


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, status, body, content_type="text/plain", headers=None):
        data = body if isinstance(body, bytes) else body.encode()
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def body(self):
        n = int(self.headers.get("Content-Length", "0"))
        return self.rfile.read(n) if n else b""

    def do_GET(self):
        with LOCK:
            if self.path == "/_sim/requests":
                return self.reply(200, json.dumps(REQUESTS), "application/json")
            if self.path == "/_sim/callbacks":
                return self.reply(200, json.dumps(CALLBACKS), "application/json")
        self.reply(404, "not found")

    def do_POST(self):
        raw = self.body()
        if self.path == "/_sim/config":
            with LOCK:
                CFG.update(json.loads(raw))
            return self.reply(204, b"")
        if self.path != "/etranslation/si/translate":
            return self.reply(404, "not found")
        ok, stale = check_digest(self.headers, "POST", self.path)
        rec = {"headers": dict(self.headers.items()), "body": raw.decode("utf-8", "replace"),
               "authorised": ok}
        if not ok:
            rec["status"] = 401
            with LOCK:
                REQUESTS.append(rec)
            return self.reply(401, "Unauthorized", headers={"WWW-Authenticate": challenge(stale)})
        try:
            job = json.loads(raw)
        except ValueError:
            job = None
        code = contract_error(job)
        with LOCK:
            if not code and CFG["answers"]:
                code = CFG["answers"].pop(0)
            if not code:
                NEXT_ID[0] += 1
                code = NEXT_ID[0]
            rec["status"] = 200
            rec["answer"] = code
            REQUESTS.append(rec)
        # The callbacks follow the synchronous answer, from another thread.
        self.reply(200, str(code))
        if code > 0:
            threading.Timer(0.05, deliver, args=(str(code), job)).start()


def main():
    global ARGS
    ap = argparse.ArgumentParser()
    ap.add_argument("--application", required=True)
    ap.add_argument("--password", required=True)
    ap.add_argument("--algorithm", default="SHA-256", choices=["SHA-256", "MD5"])
    ARGS = ap.parse_args()
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    print("LISTENING %d" % srv.server_address[1], flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
