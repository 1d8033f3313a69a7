#!/usr/bin/python3
"""A stub context broker: the subscription endpoints of FIWARE Orion (NGSI-v2) and of an NGSI-LD
broker, over real HTTP, in memory. It stands in for the broker in the gateway's integration
tests; it is not the system under test.

  stub_broker.py [--auth NAME:VALUE]

Prints "LISTENING <port>" once bound to 127.0.0.1 on an ephemeral port. Serves
  GET/POST        /v2/subscriptions          (limit, offset, options=count -> Fiware-Total-Count)
  GET/DELETE      /v2/subscriptions/{id}
  GET/POST        /ngsi-ld/v1/subscriptions  (limit, offset, count=true -> NGSILD-Results-Count)
  GET/DELETE      /ngsi-ld/v1/subscriptions/{id}
Subscriptions are kept per tenant (Fiware-Service + Fiware-ServicePath, or NGSILD-Tenant).
Control endpoints for the tests:
  GET  /_stub/requests   every request received (method, path, query, headers, body) as JSON
  POST /_stub/restart    forget every subscription, as a broker restarted without persistence
  POST /_stub/clear      forget the recorded requests
With --auth, every broker request without that header value gets 401.
"""
import json
import sys
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOCK = threading.Lock()
SUBS = {}          # (flavour, tenant key) -> list of subscription dicts, in creation order
REQUESTS = []
NEXT_ID = [0]
AUTH = None


def tenant_key(flavour, headers):
    if flavour == "v2":
        return (headers.get("Fiware-Service", ""), headers.get("Fiware-ServicePath", "/"))
    return (headers.get("NGSILD-Tenant", ""),)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, status, body=None, headers=None):
        data = b"" if body is None else json.dumps(body).encode()
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        if body is not None:
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def error(self, status, error, description):
        self.reply(status, {"error": error, "description": description})

    def handle_any(self):
        url = urllib.parse.urlsplit(self.path)
        length = int(self.headers.get("Content-Length", "0") or 0)
        body = self.rfile.read(length).decode() if length else ""
        path, query = url.path, urllib.parse.parse_qs(url.query)
        if path.startswith("/_stub/"):
            return self.control(path)
        with LOCK:
            REQUESTS.append({"method": self.command, "path": path, "query": url.query,
                             "headers": {k.lower(): v for k, v in self.headers.items()},
                             "body": body})
        if AUTH and self.headers.get(AUTH[0]) != AUTH[1]:
            return self.error(401, "Unauthorized", "missing or wrong " + AUTH[0])
        for flavour, base in (("v2", "/v2/subscriptions"), ("ld", "/ngsi-ld/v1/subscriptions")):
            if path == base:
                return self.collection(flavour, base, query, body)
            if path.startswith(base + "/"):
                return self.item(flavour, urllib.parse.unquote(path[len(base) + 1:]))
        self.error(404, "NotFound", "no such resource")

    def control(self, path):
        with LOCK:
            if path == "/_stub/requests" and self.command == "GET":
                return self.reply(200, REQUESTS)
            if path == "/_stub/restart" and self.command == "POST":
                SUBS.clear()
                return self.reply(204)
            if path == "/_stub/clear" and self.command == "POST":
                REQUESTS.clear()
                return self.reply(204)
        self.error(404, "NotFound", "no such control")

    def collection(self, flavour, base, query, body):
        key = (flavour,) + tenant_key(flavour, self.headers)
        if self.command == "GET":
            limit = int(query.get("limit", ["20"])[0])
            offset = int(query.get("offset", ["0"])[0])
            with LOCK:
                subs = list(SUBS.get(key, []))
            headers = {}
            if flavour == "v2" and "count" in query.get("options", [""])[0].split(","):
                headers["Fiware-Total-Count"] = str(len(subs))
            if flavour == "ld" and query.get("count", ["false"])[0] == "true":
                headers["NGSILD-Results-Count"] = str(len(subs))
            return self.reply(200, subs[offset:offset + limit], headers)
        if self.command != "POST":
            return self.error(405, "MethodNotAllowed", self.command)
        ctype = (self.headers.get("Content-Type") or "").split(";")[0].strip()
        try:
            sub = json.loads(body)
        except ValueError:
            return self.error(400, "ParseError", "Errors found in incoming JSON buffer")
        if flavour == "v2":
            if ctype != "application/json":
                return self.error(415, "UnsupportedMediaType", "not supported content type: " + ctype)
            if not sub.get("subject", {}).get("entities") or \
                    not sub.get("notification", {}).get("http", {}).get("url"):
                return self.error(400, "BadRequest", "subject.entities and notification.http.url required")
        else:
            if ctype == "application/json" and "@context" in sub:
                return self.error(400, "BadRequestData", "@context in an application/json body")
            if ctype == "application/ld+json" and "@context" not in sub:
                return self.error(400, "BadRequestData", "application/ld+json without @context")
            if ctype not in ("application/json", "application/ld+json"):
                return self.error(415, "UnsupportedMediaType", ctype)
            if sub.get("type") != "Subscription" or not sub.get("notification", {}).get("endpoint", {}).get("uri"):
                return self.error(400, "BadRequestData", "type Subscription and notification.endpoint.uri required")
        with LOCK:
            NEXT_ID[0] += 1
            sid = ("%024x" % (0x5f9141773344360000000000 + NEXT_ID[0])) if flavour == "v2" \
                else "urn:ngsi-ld:Subscription:stub-%d" % NEXT_ID[0]
            sub["id"] = sid
            if flavour == "v2":
                sub["status"] = "active"
            else:
                sub["isActive"] = True
                sub["status"] = "active"
            SUBS.setdefault(key, []).append(sub)
        self.reply(201, None, {"Location": base + "/" + sid})

    def item(self, flavour, sid):
        key = (flavour,) + tenant_key(flavour, self.headers)
        with LOCK:
            subs = SUBS.get(key, [])
            for i, s in enumerate(subs):
                if s["id"] == sid:
                    if self.command == "GET":
                        return self.reply(200, s)
                    if self.command == "DELETE":
                        del subs[i]
                        return self.reply(204)
                    return self.error(405, "MethodNotAllowed", self.command)
        self.error(404, "NotFound", "The requested subscription has not been found")

    do_GET = do_POST = do_DELETE = do_PATCH = handle_any


def main():
    global AUTH
    args = sys.argv[1:]
    if len(args) == 2 and args[0] == "--auth":
        name, _, value = args[1].partition(":")
        AUTH = (name, value)
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    print("LISTENING %d" % server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
