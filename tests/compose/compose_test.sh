#!/usr/bin/env bash
# Static checks of compose/ (no Docker engine runs here): the YAML parses, the services, health
# checks and dependencies are as documented, the gateway config agrees with the compose file, and
# every path the compose file names exists relative to compose/.
#   tests/compose/compose_test.sh [REPO_ROOT]
# Prints one line per check and a final "N passed, M failed"; exits non-zero on any failure.
set -euo pipefail

root="${1:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"

exec /usr/bin/python3 - "$root" <<'PY'
import os, re, sys
import yaml

root = sys.argv[1]
compose_dir = os.path.join(root, "compose")
passed = failed = 0


def check(name, fn):
    global passed, failed
    try:
        problem = fn()
    except Exception as e:  # a missing key is a failed check, not a crash
        problem = f"{type(e).__name__}: {e}"
    if problem:
        failed += 1
        print(f"FAIL - {name}\n       {problem}")
    else:
        passed += 1
        print(f"ok   - {name}")


def load(path):
    with open(path) as f:
        return yaml.safe_load(f)


docs = {}


def parses(key, rel):
    def fn():
        docs[key] = load(os.path.join(root, rel))
        return None if isinstance(docs[key], dict) else "top level is not a mapping"
    return fn


check("compose/docker-compose.yml parses (yaml.safe_load)", parses("compose", "compose/docker-compose.yml"))
check("compose/gateway.yaml parses (yaml.safe_load)", parses("gw", "compose/gateway.yaml"))
compose = docs.get("compose") or {}
gw = docs.get("gw") or {}
services = compose.get("services") or {}
raw_compose = open(os.path.join(compose_dir, "docker-compose.yml")).read()


def services_exist():
    missing = {"kafka", "kafka-init", "gateway"} - set(services)
    return f"missing services {sorted(missing)}" if missing else None


check("services kafka, kafka-init and gateway exist", services_exist)


def env(svc):
    e = services[svc].get("environment") or {}
    if isinstance(e, list):
        e = dict(item.split("=", 1) for item in e)
    return {k: str(v) for k, v in e.items()}


def kafka_kraft():
    k = services["kafka"]
    if k.get("image") != "apache/kafka:3.8.0":
        return f"image is {k.get('image')}"
    e = env("kafka")
    need = ["KAFKA_NODE_ID", "KAFKA_PROCESS_ROLES", "KAFKA_LISTENERS", "KAFKA_ADVERTISED_LISTENERS",
            "KAFKA_CONTROLLER_QUORUM_VOTERS", "KAFKA_CONTROLLER_LISTENER_NAMES",
            "KAFKA_LISTENER_SECURITY_PROTOCOL_MAP"]
    missing = [n for n in need if n not in e]
    if missing:
        return f"missing {missing}"
    if set(e["KAFKA_PROCESS_ROLES"].split(",")) != {"broker", "controller"}:
        return "not a combined broker+controller"
    if any("ZOOKEEPER" in n for n in e):
        return "configures ZooKeeper"
    return None


check("kafka: apache/kafka:3.8.0 in KRaft mode, combined broker+controller", kafka_kraft)


def listener_map(value):
    out = {}
    for item in value.split(","):
        name, rest = item.split("://", 1)
        out[name] = rest
    return out


def kafka_listeners_consistent():
    e = env("kafka")
    listeners = listener_map(e["KAFKA_LISTENERS"])
    advertised = listener_map(e["KAFKA_ADVERTISED_LISTENERS"])
    protocols = dict(p.split(":") for p in e["KAFKA_LISTENER_SECURITY_PROTOCOL_MAP"].split(","))
    if not set(advertised) <= set(listeners):
        return f"advertised {sorted(advertised)} not all in listeners {sorted(listeners)}"
    if not set(listeners) <= set(protocols):
        return "a listener has no security protocol"
    ctrl = e["KAFKA_CONTROLLER_LISTENER_NAMES"]
    if ctrl not in listeners or ctrl in advertised:
        return "controller listener must be listened on and not advertised"
    node, voter = e["KAFKA_CONTROLLER_QUORUM_VOTERS"].split("@")
    if node != e["KAFKA_NODE_ID"]:
        return "quorum voter id is not the node id"
    if voter.split(":")[1] != listeners[ctrl].rsplit(":", 1)[1]:
        return "quorum voter port is not the controller listener's port"
    return None


check("kafka: listeners, advertised listeners, protocol map and quorum voters agree",
      kafka_listeners_consistent)


def kafka_replication_one():
    e = env("kafka")
    keys = ["KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR", "KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR",
            "KAFKA_TRANSACTION_STATE_LOG_MIN_ISR"]
    bad = [k for k in keys if e.get(k) != "1"]
    return f"not 1: {bad}" if bad else None


check("kafka: internal topics use replication factor 1 (single node)", kafka_replication_one)


def kafka_health():
    test = services["kafka"]["healthcheck"]["test"]
    text = " ".join(test) if isinstance(test, list) else test
    return None if "kafka-broker-api-versions" in text else f"healthcheck is {text}"


check("kafka: healthcheck uses kafka-broker-api-versions", kafka_health)

topics = ["eid", "edelivery", "translation", "context", "test"]


def init_creates_topics():
    s = services["kafka-init"]
    text = " ".join(s.get("entrypoint") or []) + " " + " ".join(
        s["command"] if isinstance(s["command"], list) else [s["command"]])
    if "kafka-topics.sh" not in text or "--create" not in text:
        return "does not run kafka-topics.sh --create"
    prefix = gw["kafka"]["topic_prefix"]
    # Topics are either spelled out or made by looping over the families.
    missing = [t for t in topics
               if f"{prefix}.{t}" not in text and not re.search(rf"\b{t}\b", text)]
    if missing:
        return f"topics not created: {missing}"
    if f"{prefix}." not in text:
        return f"topic prefix {prefix} not used"
    dep = s["depends_on"]["kafka"]["condition"]
    return None if dep == "service_healthy" else f"depends on kafka with {dep}"


check("kafka-init creates bbgw.{eid,edelivery,translation,context,test} once kafka is healthy",
      init_creates_topics)


def strings(node):
    if isinstance(node, dict):
        for k, v in node.items():
            yield from strings(k)
            yield from strings(v)
    elif isinstance(node, list):
        for v in node:
            yield from strings(v)
    elif isinstance(node, str):
        yield node


def dollar_signs_escaped():
    # Compose interpolates ${VAR} and $VAR in values; a shell's $var or $(cmd) must be written $$.
    bad = [m.group(0) for text in strings(compose)
           for m in re.finditer(r"\$(?!\{)[A-Za-z_(]", text.replace("$$", ""))]
    return f"unescaped: {bad}" if bad else None


check("every shell '$' in the compose file is escaped as '$$'", dollar_signs_escaped)


def gateway_depends():
    d = services["gateway"]["depends_on"]
    if d["kafka"]["condition"] != "service_healthy":
        return "not waiting for a healthy kafka"
    if d.get("kafka-init", {}).get("condition") != "service_completed_successfully":
        return "not waiting for kafka-init"
    return None


check("gateway waits for kafka (service_healthy) and kafka-init", gateway_depends)


def gateway_health():
    test = services["gateway"]["healthcheck"]["test"]
    text = " ".join(test) if isinstance(test, list) else test
    if "curl" not in text or "/healthz" not in text:
        return f"healthcheck is {text}"
    port = re.search(r"127\.0\.0\.1:(\d+)/healthz", text)
    http_ports = [l["port"] for l in gw["server"]["listeners"] if "tls" not in l]
    return None if port and int(port.group(1)) in http_ports else "healthcheck port is no plain listener"


check("gateway: healthcheck curls /healthz on its plain HTTP listener", gateway_health)


def gateway_ports():
    published = {str(p).split(":")[-1] for p in services["gateway"]["ports"]}
    listeners = {str(l["port"]) for l in gw["server"]["listeners"]}
    if not all(l["address"] == "0.0.0.0" for l in gw["server"]["listeners"]):
        return "a listener is not on 0.0.0.0 (unreachable from outside the container)"
    return None if listeners <= published else f"listeners {listeners} but published {published}"


check("gateway: every listener port is published and bound to 0.0.0.0", gateway_ports)


def targets():
    out = {}
    for v in services["gateway"].get("volumes") or []:
        if isinstance(v, dict):
            out[v["target"]] = v["source"]
        else:
            parts = v.split(":")
            out[parts[1]] = parts[0]
    return out


def config_mounted():
    t = targets()
    cmd = services["gateway"].get("command") or []
    if "/etc/bbgw/gateway.yaml" not in cmd or t.get("/etc/bbgw/gateway.yaml") != "./gateway.yaml":
        return "gateway.yaml is not mounted at and passed as /etc/bbgw/gateway.yaml"
    return None


check("gateway: compose/gateway.yaml is mounted and passed with --config", config_mounted)


def under_mount(path):
    return any(path == t or path.startswith(t.rstrip("/") + "/") for t in targets())


def gateway_files_on_volumes():
    tls = [l["tls"] for l in gw["server"]["listeners"] if "tls" in l]
    if not tls:
        return "no TLS listener"
    files = [t["certificate"] for t in tls] + [t["private_key"] for t in tls]
    files.append(gw["store"]["sqlite"]["path"])
    unmounted = [f for f in files if not under_mount(f)]
    if unmounted:
        return f"not on a mounted volume: {unmounted}"
    pki = open(os.path.join(root, "certs", "make-dev-pki.sh")).read()
    unknown = [os.path.basename(f) for f in files[:-1]
               if os.path.basename(f).split(".")[0].removesuffix("-chain") not in pki]
    return f"not made by certs/make-dev-pki.sh: {unknown}" if unknown else None


check("gateway.yaml: TLS files and the SQLite store lie on mounted volumes", gateway_files_on_volumes)


def bootstrap_matches():
    bs = gw["kafka"]["bootstrap_servers"]
    advertised = listener_map(env("kafka")["KAFKA_ADVERTISED_LISTENERS"])
    inter = env("kafka").get("KAFKA_INTER_BROKER_LISTENER_NAME", "PLAINTEXT")
    return None if advertised.get(inter) == bs else f"{bs} is not the in-network listener {advertised}"


check("gateway.yaml: kafka.bootstrap_servers is kafka's in-network advertised listener", bootstrap_matches)


def gateway_yaml_keys():
    allowed = {"server": {"listeners", "public_base_url"}, "store": {"sqlite"},
               "kafka": {"bootstrap_servers", "topic_prefix"}, "log": {"level"}}
    extra = [f"{s}.{k}" for s, sub in gw.items() for k in (sub or {}) if k not in allowed.get(s, ())]
    extra += [s for s in gw if s not in allowed]
    return f"unexpected keys {extra}" if extra else None


check("gateway.yaml uses only the agreed keys", gateway_yaml_keys)


def paths_exist():
    missing = []
    for name, s in services.items():
        b = s.get("build")
        if b is not None:
            ctx = b if isinstance(b, str) else b.get("context", ".")
            ctx_abs = os.path.normpath(os.path.join(compose_dir, ctx))
            if not os.path.isdir(ctx_abs):
                missing.append(f"{name}: build context {ctx}")
            if isinstance(b, dict) and "dockerfile" in b:
                if not os.path.isfile(os.path.join(ctx_abs, b["dockerfile"])):
                    missing.append(f"{name}: dockerfile {b['dockerfile']}")
        for v in s.get("volumes") or []:
            src = v["source"] if isinstance(v, dict) else v.split(":")[0]
            if src.startswith((".", "/", "~")):
                if not os.path.exists(os.path.normpath(os.path.join(compose_dir, src))):
                    missing.append(f"{name}: volume {src}")
            elif src not in (compose.get("volumes") or {}):
                missing.append(f"{name}: named volume {src} not declared")
    return f"missing: {missing}" if missing else None


check("every build/volumes path exists relative to compose/ (named volumes declared)", paths_exist)


def dockerfile_shape():
    b = services["gateway"]["build"]
    text = open(os.path.normpath(os.path.join(compose_dir, b["context"], b["dockerfile"]))).read()
    need = ["FROM debian:bookworm AS", "FROM debian:bookworm-slim", "scripts/install-deps.sh",
            "cmake --preset release", "cmake --build --preset release", "curl"]
    missing = [n for n in need if n not in text]
    if missing:
        return f"Dockerfile lacks {missing}"
    users = re.findall(r"^USER\s+(\S+)", text, re.M)
    if not users or users[-1] in ("root", "0"):
        return "runtime image runs as root"
    runtime = text.split("FROM debian:bookworm-slim", 1)[1]
    libs = ["libboost-json1.81.0", "libboost-url1.81.0", "libssl3", "librdkafka1", "libsqlite3-0",
            "libyaml-cpp0.7", "libspdlog1.10", "libxml2", "libxmlsec1", "libxmlsec1-openssl"]
    missing = [l for l in libs if l not in runtime]
    if missing:
        return f"runtime stage lacks {missing}"
    return "runtime stage installs -dev packages" if re.search(r"\S+-dev\b", runtime) else None


check("Dockerfile: bookworm builder, slim runtime with the runtime libraries, non-root user",
      dockerfile_shape)


def postgres_future():
    return None if re.search(r"^\s*#\s*postgres:", raw_compose, re.M) and "postgres" not in services \
        else "no commented-out postgres service"


check("PostgreSQL is present only as a commented-out future service", postgres_future)

print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
PY
