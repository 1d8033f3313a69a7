#!/usr/bin/env bash
# Checks schemas/openapi.yaml. Debian bookworm packages no OpenAPI 3.1 validator
# (openapi-spec-validator is not in bookworm; the openapi-specification package ships the
# 3.0 schema only), so this checks the document's structure itself with python3-yaml and
# python3-jsonschema: OpenAPI 3.1 shape, every $ref resolves, every schema is valid JSON Schema
# 2020-12, every example validates against its schema, every error is a Problem, and the
# documented paths and content types are the ones the gateway registers: gateway/src/ops/ops_routes.cpp
# plus the fixed-path routes the connectors' routes() push (connectors/*/*.cpp); a connector route
# with a configurable prefix must be described under components.pathItems instead.
#   tests/schemas/openapi_test.sh [REPO_ROOT]
# Prints one line per check and a final "N passed, M failed"; exits non-zero on any failure.
set -euo pipefail

root="${1:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"

exec /usr/bin/python3 - "$root" <<'PY'
import os, re, sys
import yaml
from jsonschema import Draft202012Validator, RefResolver

root = sys.argv[1]
path = os.path.join(root, "schemas", "openapi.yaml")
passed = failed = 0


def check(name, fn):
    global passed, failed
    try:
        problem = fn()
    except Exception as e:
        problem = f"{type(e).__name__}: {e}"
    if problem:
        failed += 1
        print(f"FAIL - {name}\n       " + "\n       ".join(str(problem).splitlines()[:20]))
    else:
        passed += 1
        print(f"ok   - {name}")


doc = {}


def parses():
    global doc
    with open(path) as f:
        doc = yaml.safe_load(f)
    return None if isinstance(doc, dict) else "top level is not a mapping"


check("schemas/openapi.yaml parses as YAML", parses)

METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}


def operations():
    for p, item in (doc.get("paths") or {}).items():
        for m, op in item.items():
            if m in METHODS:
                yield p, m, op


def walk(node, where="#"):
    if isinstance(node, dict):
        yield where, node
        for k, v in node.items():
            yield from walk(v, f"{where}/{str(k).replace('~', '~0').replace('/', '~1')}")
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from walk(v, f"{where}/{i}")


def resolve_pointer(ref):
    if not ref.startswith("#/"):
        raise KeyError(f"non-local $ref {ref}")
    node = doc
    for part in ref[2:].split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        node = node[int(part)] if isinstance(node, list) else node[part]
    return node


def deref(node):
    seen = 0
    while isinstance(node, dict) and "$ref" in node:
        node = resolve_pointer(node["$ref"])
        seen += 1
        if seen > 20:
            raise RecursionError("$ref loop")
    return node


def top_level():
    if not re.fullmatch(r"3\.1\.\d+", str(doc.get("openapi"))):
        return f"openapi is {doc.get('openapi')!r}, not 3.1.x"
    info = doc["info"]
    if info.get("title") != "BB Gateway" or info.get("version") != "0.1.0":
        return f"info is {info.get('title')!r} {info.get('version')!r}"
    lic = info.get("license") or {}
    if lic.get("name") != "EUPL-1.2" or lic.get("identifier") != "EUPL-1.2":
        return f"license is {lic}"
    if "identifier" in lic and "url" in lic:
        return "license has both identifier and url (mutually exclusive in 3.1)"
    unknown = set(doc) - {"openapi", "info", "jsonSchemaDialect", "servers", "paths", "webhooks",
                          "components", "security", "tags", "externalDocs"}
    unknown = {k for k in unknown if not k.startswith("x-")}
    return f"unknown top-level fields {unknown}" if unknown else None


check("OpenAPI 3.1.x; info: BB Gateway 0.1.0, license EUPL-1.2 (SPDX identifier)", top_level)


def paths_and_operations():
    problems = []
    ids = {}
    for p in doc["paths"]:
        if not p.startswith("/"):
            problems.append(f"path {p} does not start with /")
    for p, m, op in operations():
        if not op.get("responses"):
            problems.append(f"{m.upper()} {p} has no responses")
        for code in op.get("responses", {}):
            if not re.fullmatch(r"[1-5](\d\d|XX)|default", str(code)):
                problems.append(f"{m.upper()} {p}: bad response key {code!r}")
            if not isinstance(code, str):
                problems.append(f"{m.upper()} {p}: response key {code!r} is not quoted")
        oid = op.get("operationId")
        if not oid:
            problems.append(f"{m.upper()} {p} has no operationId")
        elif oid in ids:
            problems.append(f"operationId {oid} used twice")
        ids[oid] = p
    return "\n".join(problems) or None


check("every operation has responses and a unique operationId", paths_and_operations)


def refs_resolve():
    bad = []
    for where, node in walk(doc):
        if "$ref" in node:
            try:
                resolve_pointer(node["$ref"])
            except Exception as e:
                bad.append(f"{where}: {node['$ref']} ({e})")
    return "\n".join(bad) or None


check("every $ref resolves inside the document", refs_resolve)


def schemas_valid():
    bad = []
    for name, schema in doc["components"]["schemas"].items():
        try:
            Draft202012Validator.check_schema(schema)
        except Exception as e:
            bad.append(f"{name}: {e.message if hasattr(e, 'message') else e}")
    return "\n".join(bad) or None


check("every component schema is valid JSON Schema 2020-12", schemas_valid)

resolver = None


def validator_for(schema):
    global resolver
    if resolver is None:
        resolver = RefResolver(base_uri="", referrer=doc)
    return Draft202012Validator(schema, resolver=resolver)


def media_types():
    """(where, media type name, media type object) of every response/request body."""
    for where, node in walk(doc):
        if where.endswith("/content"):
            for mt, obj in node.items():
                yield f"{where}/{mt}", mt, obj


def examples_validate():
    bad = []
    count = 0
    for where, mt, obj in media_types():
        schema = obj.get("schema")
        if schema is None:
            continue
        samples = []
        if "example" in obj:
            samples.append(("example", obj["example"]))
        for k, ex in (obj.get("examples") or {}).items():
            samples.append((k, deref(ex)["value"]))
        for k, value in samples:
            count += 1
            errors = list(validator_for(schema).iter_errors(value))
            if errors:
                bad.append(f"{where} {k}: {errors[0].message}")
    if count < 8:
        bad.append(f"only {count} examples found")
    return "\n".join(bad) or None


check("every example validates against its schema", examples_validate)


def negative_examples_rejected():
    # The schemas must actually constrain: these wrong bodies are refused.
    wrong = {
        "Readiness": [{"status": "maybe", "components": {}},
                      {"status": "ready", "components": {"kafka": {"status": "up", "mode": "cloud"}}},
                      {"status": "ready", "components": {"outbox": {"depth": -1, "oldest_age_seconds": 0, "max_depth": 1}}},
                      {"status": "ready"}],
        "Health": [{"status": "fine"}, {}],
        "Problem": [{"title": "x", "status": 400}, {"type": "about:blank", "title": "x", "status": 200}],
    }
    accepted = []
    for name, bodies in wrong.items():
        v = validator_for({"$ref": f"#/components/schemas/{name}"})
        accepted += [f"{name}: {b}" for b in bodies if v.is_valid(b)]
    return ("accepted: " + "; ".join(accepted)) if accepted else None


check("the schemas refuse wrong readiness, health and problem bodies", negative_examples_rejected)


def error_responses_are_problems():
    bad = []
    for p, m, op in operations():
        for code, resp in op["responses"].items():
            if not str(code)[0] in "45" or (p == "/readyz" and code == "503"):
                continue
            content = deref(resp).get("content") or {}
            schema = (content.get("application/problem+json") or {}).get("schema") or {}
            if schema.get("$ref") != "#/components/schemas/Problem":
                bad.append(f"{m.upper()} {p} {code}")
    for name, resp in doc["components"]["responses"].items():
        schema = resp["content"]["application/problem+json"]["schema"]
        if schema.get("$ref") != "#/components/schemas/Problem":
            bad.append(f"components.responses.{name}")
    return ("not Problem: " + ", ".join(bad)) if bad else None


check("every 4xx/5xx answer is application/problem+json with the Problem schema", error_responses_are_problems)


def problem_shape():
    prob = doc["components"]["schemas"]["Problem"]
    need = {"type", "title", "status", "detail", "request_id"}
    missing = need - set(prob["properties"])
    if missing:
        return f"Problem lacks {missing}"
    statuses = set()
    for resp in doc["components"]["responses"].values():
        statuses.add(resp["content"]["application/problem+json"]["example"]["status"])
    missing = {400, 404, 405, 413, 431, 500, 503} - statuses
    return f"no reusable Problem response for {missing}" if missing else None


check("Problem (RFC 9457) and reusable responses for 400/404/405/413/431/500/503", problem_shape)


def request_id_everywhere():
    bad = []
    param = doc["components"]["parameters"]["RequestId"]
    if param.get("in") != "header" or param.get("name") != "X-Request-Id":
        return "RequestId parameter is not the X-Request-Id header"
    for p, item in doc["paths"].items():
        params = [deref(x) for x in item.get("parameters", [])]
        for m, op in item.items():
            if m not in METHODS:
                continue
            allp = params + [deref(x) for x in op.get("parameters", [])]
            if not any(x.get("name") == "X-Request-Id" for x in allp):
                bad.append(f"{m.upper()} {p}: no X-Request-Id parameter")
            for code, resp in op["responses"].items():
                if "X-Request-Id" not in (deref(resp).get("headers") or {}):
                    bad.append(f"{m.upper()} {p} {code}: no X-Request-Id header")
    return "\n".join(bad) or None


check("X-Request-Id is a parameter of every operation and a header of every response", request_id_everywhere)


def documented_endpoints():
    want = {
        ("/healthz", "200"): "application/json",
        ("/readyz", "200"): "application/json",
        ("/readyz", "503"): "application/json",
        ("/metrics", "200"): "text/plain; version=0.0.4; charset=utf-8",
        ("/openapi.yaml", "200"): "application/yaml",
    }
    bad = []
    for (p, code), ct in want.items():
        resp = deref(doc["paths"][p]["get"]["responses"][code])
        if ct not in (resp.get("content") or {}):
            bad.append(f"GET {p} {code} lacks {ct}")
    health = doc["paths"]["/healthz"]["get"]["responses"]["200"]["content"]["application/json"]["example"]
    if health != {"status": "ok"}:
        bad.append(f"/healthz example is {health}")
    return "\n".join(bad) or None


check("/healthz, /readyz (200/503), /metrics, /openapi.yaml with their content types", documented_endpoints)


ROUTE_RE = re.compile(r'push_back\(\s*\{\s*\{([^}]*)\},\s*([^,]+?),', re.S)


def ops_routes():
    src = open(os.path.join(root, "gateway", "src", "ops", "ops_routes.cpp")).read()
    return src, [(m, p) for m, p in re.findall(r'\{\{([^}]*)\},\s*"(/[^"]*)"', src)]


def connector_routes():
    """(connector, methods, path, fixed) for every route a connector's routes() pushes as
    `push_back({{"GET", ...}, <path expression>, ...`. The path expression is string literals and
    names joined by `+`; names resolve through `constexpr std::string_view NAME = "...";` and
    `std::string NAME(EXPR);` / `auto NAME = EXPR;` in the connector's own sources. A name that
    does not resolve to a literal (a config member such as cfg_.callback_path_prefix) makes the
    route configurable: it becomes {member} in the pattern and the route must be documented under
    components.pathItems (its description naming the pattern), not under `paths`."""
    out = []
    for d in sorted(os.listdir(os.path.join(root, "connectors"))):
        cdir = os.path.join(root, "connectors", d)
        if not os.path.isdir(cdir):
            continue
        texts = {}
        for f in sorted(os.listdir(cdir)):
            if f.endswith((".cpp", ".hpp")):
                texts[f] = open(os.path.join(cdir, f)).read()
        alltext = "\n".join(texts.values())
        defs = {}
        for name, lit in re.findall(r'constexpr\s+std::string_view\s+(\w+)\s*=\s*"([^"]*)"\s*;', alltext):
            defs[name] = ("lit", lit)
        decl = r'(?:std::string|auto)\s+(\w+)\s*(?:\(([^;]*?)\)|=\s*([^;]*?))\s*;'
        for name, paren, assign in re.findall(decl, alltext):
            expr = paren or assign
            defs.setdefault(name, ("expr", expr))

        def resolve(expr, depth=0):
            parts, fixed = [], True
            for tok in [t.strip() for t in expr.split("+")]:
                m = re.fullmatch(r'"([^"]*)"', tok)
                if m:
                    parts.append(m.group(1))
                    continue
                m = re.fullmatch(r'std::string\((.*)\)', tok)
                if m:
                    tok = m.group(1).strip()
                kind_val = defs.get(tok)
                if kind_val and depth < 5:
                    kind, val = kind_val
                    if kind == "lit":
                        parts.append(val)
                    else:
                        sub, f2 = resolve(val, depth + 1)
                        parts.append(sub)
                        fixed = fixed and f2
                    continue
                if re.fullmatch(r'[\w.>-]+', tok):
                    parts.append("{" + re.split(r'\.|->', tok)[-1] + "}")
                    fixed = False
                    continue
                raise ValueError(f"connectors/{d}: cannot read route path expression {expr!r}")
            return "".join(parts), fixed

        for f, text in texts.items():
            if not f.endswith(".cpp"):
                continue
            for methods, expr in ROUTE_RE.findall(text):
                ms = {m.strip().strip('"').lower() for m in methods.split(",") if m.strip()}
                if not all(re.fullmatch(r'[a-z]+', m) for m in ms):
                    continue  # not a route: some other vector of pairs
                p, fixed = resolve(expr.strip())
                out.append((f"connectors/{d}/{f}", ms, p, fixed))
    return out


def matches_gateway_routes():
    # The routes the gateway registers (gateway/src/ops/ops_routes.cpp and the fixed-path routes
    # of the connectors' routes()) are exactly the documented paths, with the same methods; the
    # operational content types are documented (a route added without documentation fails here,
    # and so does a documented path nobody serves).
    src, routes = ops_routes()
    if not routes:
        return "no routes found in gateway/src/ops/ops_routes.cpp"
    served = {}
    for methods, p in routes:
        served.setdefault(p, set()).update(m.strip().strip('"').lower() for m in methods.split(","))
    bad = []
    conn = connector_routes()
    if not any(fixed for *_, fixed in conn):
        bad.append("no fixed-path connector routes found in connectors/*/*.cpp (is the scan broken?)")
    for where, ms, p, fixed in conn:
        if fixed:
            if p in served and served[p] & ms:
                bad.append(f"{p}: {sorted(served[p] & ms)} registered twice ({where})")
            served.setdefault(p, set()).update(ms)
        else:
            described = [n for n, item in (doc["components"].get("pathItems") or {}).items()
                         if f"`{p}`" in (item.get("description") or "")
                         and ms <= set(item) & METHODS]
            if p in doc["paths"]:
                bad.append(f"{p} has a configurable prefix ({where}): document it under components.pathItems")
            if not described:
                bad.append(f"configurable route {sorted(ms)} {p} ({where}) has no components.pathItems "
                           f"entry whose description names `{p}` with those methods")
    for p, ms in served.items():
        item = doc["paths"].get(p)
        if item is None:
            bad.append(f"{p} is served but not documented")
            continue
        missing = ms - set(item)
        if missing:
            bad.append(f"{p}: methods {sorted(missing)} served but not documented")
        extra = (set(item) & METHODS) - ms
        if extra:
            bad.append(f"{p}: methods {sorted(extra)} documented but not served")
    bad += [f"{p} documented but not served" for p in doc["paths"] if p not in served]
    for ct in re.findall(r'"((?:text|application)/[^"]+)"', src):
        if not any(ct in (deref(r).get("content") or {})
                   for _, _, op in operations() for r in op["responses"].values()):
            bad.append(f"content type {ct} is served but not documented")
    return "\n".join(bad) or None


check("documented paths and methods match gateway/src/ops/ops_routes.cpp + connectors' routes()", matches_gateway_routes)


def embeddable():
    # gateway/app/embed.cmake puts the document in a C++ raw string R"bbgw_embed(...)bbgw_embed".
    text = open(path).read()
    return "contains the raw-string delimiter" if ")bbgw_embed\"" in text else None


check("the document can be embedded in the binary (no raw-string delimiter inside)", embeddable)

print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
PY
