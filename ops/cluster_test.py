#!/usr/bin/env python3
"""The failover proof (issue 21), against a cluster `ops/cluster up` started.

A client posts demands and withdraws them (each request with its own Idempotency-Key) and makes
authorised profile reads at a steady rate, through HAProxy, recording every acknowledged answer.
Some seconds in, `ops/cluster failover` kills the leader node. Unacknowledged writes (no answer,
503, or "still in progress") are retried with the same key until the cluster answers. Then:
every acknowledged demand is in the database exactly once, no retry made a second one, the audit
chain verifies on the new leader, both `xyd serve` instances are healthy, and no answer was a
5xx other than 503. The last line printed is a JSON summary; the exit status is 0 only if all
of that holds.

    ops/cluster test [--seconds 45] [--failover-after 12] [--workers 4]
"""
import argparse
import http.server
import json
import os
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid

p = argparse.ArgumentParser()
p.add_argument("--dir", required=True, help="the cluster's folder (.data/cluster)")
p.add_argument("--xyd", required=True, help="the xyd binary (for `xyd audit verify`)")
p.add_argument("--url", default="http://127.0.0.1:8090")
p.add_argument("--serve", default="http://127.0.0.1:8091,http://127.0.0.1:8092")
p.add_argument("--seconds", type=float, default=45.0, help="how long new requests are made")
p.add_argument("--failover-after", type=float, default=12.0)
p.add_argument("--workers", type=int, default=4)
p.add_argument("--retry-deadline", type=float, default=180.0, help="seconds to keep retrying after the load ends")
p.add_argument("--hook-port", type=int, default=9099, help="the bank's webhook receiver (a loopback port the cluster allows)")
p.add_argument("--settle", type=float, default=150.0, help="seconds to wait for deliveries, sealing and ingestion to go on")
args = p.parse_args()

keys = {}
with open(os.path.join(args.dir, "keys.env")) as f:
    for line in f:
        k, _, v = line.strip().partition("=")
        if k:
            keys[k] = v
ENTERPRISE, BANK, USCC, BANK_ORG = keys["ENTERPRISE_KEY"], keys["BANK_KEY"], keys["ENTERPRISE_USCC"], keys["BANK_ORG_ID"]
RUN = uuid.uuid4().hex[:8]


def call(method, path, key, body=None, idem=None, timeout=30):
    """(status, parsed body or None); status None when no answer came within `timeout` s."""
    t0 = time.time()
    try:
        return _call(method, path, key, body, idem, timeout)
    finally:
        took = time.time() - t0
        with lock:
            stats["slowest"].append((round(took, 2), time.strftime("%H:%M:%S", time.gmtime(t0)), method, path[-40:]))
            stats["slowest"].sort(reverse=True)
            del stats["slowest"][3:]


def _call(method, path, key, body, idem, timeout):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(args.url + path, data=data, method=method)
    req.add_header("Authorization", "Bearer " + key)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    if idem:
        req.add_header("Idempotency-Key", idem)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            text = r.read()
            return r.status, (json.loads(text) if text else None)
    except urllib.error.HTTPError as e:
        text = e.read()
        try:
            return e.code, json.loads(text)
        except Exception:
            return e.code, None
    except Exception as e:
        with lock:
            stats["unanswered_why"][f"{method} {path.split('?')[0].split('/')[-1]}: {type(e).__name__}: {e}"[:160]] = True
        return None, None


lock = threading.Lock()
stats = {"slowest": [], "unanswered_why": {}, "statuses": {}, "acknowledged": 0, "retries": 0, "reads_ok": 0, "unanswered": 0, "errors_5xx_not_503": 0, "other_failures": []}
demand_ids = []  # acknowledged demand ids, in order
stop_new = threading.Event()
give_up_at = [None]


def count(status):
    with lock:
        stats["statuses"][str(status)] = stats["statuses"].get(str(status), 0) + 1
        if status is None:
            stats["unanswered"] += 1
        elif status >= 500 and status != 503:
            stats["errors_5xx_not_503"] += 1


def write(method, path, body, idem):
    """Sends until acknowledged (2xx) or refused for good (another 4xx); returns (status, body)."""
    while True:
        status, answer = call(method, path, ENTERPRISE, body, idem)
        count(status)
        retryable = status is None or status == 503 or (status == 409 and answer and "in progress" in (answer.get("detail") or ""))
        if not retryable:
            return status, answer
        with lock:
            stats["retries"] += 1
        if give_up_at[0] and time.time() > give_up_at[0]:
            return status, answer
        time.sleep(0.3)


def worker(n):
    i = 0
    while not stop_new.is_set():
        i += 1
        key = f"cluster-test-{RUN}-{n}-{i}"
        body = {"amount_fen": 50_000_000, "term_months": 12, "purpose": f"流动资金 cluster-test {RUN}", "collateral_offered": False, "first_loan": False}
        status, answer = write("POST", "/v1/me/demands", body, key)
        if status in (200, 201) and answer:
            demand = (answer.get("demand") or answer).get("id")
            with lock:
                stats["acknowledged"] += 1
                demand_ids.append(demand)
            # Withdrawn at once, so the business never holds more than a few open demands.
            ws, wa = write("POST", f"/v1/me/demands/{demand}/withdraw", None, key + "-withdraw")
            if ws not in (200, 201):
                with lock:
                    stats["other_failures"].append(f"withdraw {demand}: {ws} {wa}")
        else:
            with lock:
                stats["other_failures"].append(f"post: {status} {answer}")
        rs, _ = call("GET", f"/v1/enterprises/{USCC}/profile?purpose=loan_application", BANK)
        count(rs)
        if rs == 200:
            with lock:
                stats["reads_ok"] += 1
        time.sleep(0.1)


def sh(*cmd, env=None):
    return subprocess.run(cmd, capture_output=True, text=True, env=env)


def psql(sql):
    r = sh("psql", os.environ["XYD_MIGRATE_DATABASE_URL"], "-Atc", sql)
    return r.stdout.strip() if r.returncode == 0 else None


# The bank's webhook receiver: every event id it is sent (deliveries are at least once: an event
# is sent again only when the record of its sending was lost with the old leader).
received = set()
received_twice = []


class Hook(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        event = self.headers.get("X-Xyd-Event-Id", "")
        with lock:
            if event in received:
                received_twice.append(event)
            received.add(event)
        self.send_response(200)
        self.end_headers()

    def log_message(self, *a):
        pass


hook = http.server.ThreadingHTTPServer(("127.0.0.1", args.hook_port), Hook)
threading.Thread(target=hook.serve_forever, daemon=True).start()
hs, ha = call("POST", "/v1/webhooks", BANK, {"url": f"http://127.0.0.1:{args.hook_port}/hook"}, f"cluster-test-{RUN}-hook")
if hs != 201:
    print(f"could not register the bank's webhook: {hs} {ha}", file=sys.stderr)
    sys.exit(1)
ENDPOINT = ha["endpoint"]["id"]


# The business authorises the bank to read its profile for the reads.
grant = {"bank_org_id": BANK_ORG, "scopes": ["profile"], "purpose": "loan_application", "expires_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 86400))}
gs, ga = write("POST", "/v1/me/authorisations", grant, f"cluster-test-{RUN}-grant")
if gs not in (200, 201):
    print(f"could not authorise the bank: {gs} {ga}", file=sys.stderr)
    sys.exit(1)

started = time.time()
first_batch = psql("SELECT coalesce(max(id), 0) FROM ingest_batch") or "0"
threads = [threading.Thread(target=worker, args=(n,), daemon=True) for n in range(args.workers)]
for t in threads:
    t.start()
time.sleep(args.failover_after)
print(f"cluster test {RUN}: {stats['acknowledged']} demands acknowledged; failing over", file=sys.stderr)
fo = sh(os.path.join(os.path.dirname(os.path.abspath(__file__)), "cluster"), "failover")
failover = None
for line in fo.stdout.splitlines()[::-1]:
    try:
        failover = json.loads(line)
        break
    except ValueError:
        pass
if failover is None:
    print(fo.stdout + fo.stderr, file=sys.stderr)
remaining = args.seconds - (time.time() - started)
if remaining > 0:
    time.sleep(remaining)
stop_new.set()
give_up_at[0] = time.time() + args.retry_deadline
for t in threads:
    t.join()
print(f"cluster test {RUN}: load over; checking", file=sys.stderr)

# Across the failover the background work goes on, on whichever instance and leader: webhook
# deliveries (every event for the endpoint delivered, each received), the audit sealer (nothing
# left unsealed), scheduled ingestion (every dataset pulled again after the failover).
failover_done = time.time()
settle_until = failover_done + args.settle
webhooks_ok = sealer_ok = ingestion_ok = False
events = delivered = unsealed = -1
stale = "?"
while time.time() < settle_until and not (webhooks_ok and sealer_ok and ingestion_ok):
    time.sleep(2)
    row = psql(
        "SELECT count(*), count(*) FILTER (WHERE delivered_at IS NOT NULL), "
        "coalesce(string_agg(e.event_id::text, ',') FILTER (WHERE delivered_at IS NOT NULL), '') "
        f"FROM webhook_delivery d JOIN webhook_event e ON e.id = d.event_id WHERE d.endpoint_id = '{ENDPOINT}'"
    )
    if row:
        n, done, ids = row.split("|", 2)
        events, delivered = int(n), int(done)
        with lock:
            got = set(received)
        webhooks_ok = events > 0 and delivered == events and set(i for i in ids.split(",") if i) <= {g.lower() for g in got}
    u = psql("SELECT count(*) FROM audit_unsealed")
    unsealed = int(u) if u is not None else -1
    sealer_ok = unsealed == 0
    s = psql(f"SELECT coalesce(string_agg(dataset, ','), '') FROM feed_state WHERE coalesce(last_success_at, '-infinity') < to_timestamp({failover_done})")
    stale = s if s is not None else "?"
    ingestion_ok = s == ""

# Nothing runs twice: both instances pull the datasets (sharing them through leases), and no page
# was stored by two workers — each page's transaction moves its dataset's cursor, so a page from
# the same cursor twice would mean two workers pulled the same thing.
serve_pids = {}
for n, name in enumerate(("serve1", "serve2"), 1):
    try:
        with open(os.path.join(args.dir, "run", f"{name}.pid")) as f:
            serve_pids[f.read().strip()] = name
    except OSError:
        pass
pages = {}
for line in (psql(f"SELECT coalesce(worker, '-'), count(*) FROM ingest_batch WHERE id > {first_batch} GROUP BY 1") or "").splitlines():
    worker_name, n = line.rsplit("|", 1)
    parts = worker_name.split(":")
    who = serve_pids.get(parts[-2], worker_name) if len(parts) >= 3 else worker_name
    pages[who] = pages.get(who, 0) + int(n)
twice = psql(
    f"SELECT count(*) FROM (SELECT dataset, cursor_before FROM ingest_batch WHERE id > {first_batch} AND received > 0 "
    "GROUP BY 1, 2 HAVING count(*) > 1) t"
)
pages_twice = int(twice) if twice is not None else -1
# Both instances usually store pages in a run (shown in `pages_by_instance`), but one that
# restarted by its own request may not have pulled yet: the check is that none was stored twice.
ingestion_shared = pages_twice == 0

# Every acknowledged demand exactly once; none made by a retry beyond them.
env = dict(os.environ)
db = env["XYD_MIGRATE_DATABASE_URL"]
ids = [d for d in demand_ids if d]
q = "SELECT count(*) FILTER (WHERE id = ANY(%s)), count(*) FROM demand WHERE uscc = '%s' AND purpose = '流动资金 cluster-test %s'" % (
    "ARRAY[%s]::uuid[]" % ",".join("'%s'" % i for i in ids) if ids else "ARRAY[]::uuid[]",
    USCC,
    RUN,
)
r = sh("psql", db, "-Atc", q)
present, made = (int(x) for x in r.stdout.strip().split("|")) if r.returncode == 0 else (-1, -1)
lost = len(set(ids)) - present if present >= 0 else len(ids)
duplicated = (made - present) + (len(ids) - len(set(ids))) if made >= 0 else -1

verify = sh(args.xyd, "audit", "verify", env=dict(env, XYD_DATABASE_URL=db))
audit_verified = verify.returncode == 0
# Both instances ready — within 90 s: one may be restarting by its own request (exit status 75
# under ops/supervise) once calls lost in failovers fill half its pool.
def ready(base):
    try:
        with urllib.request.urlopen(base + "/readyz", timeout=5) as h:
            return h.status == 200
    except Exception:
        return False


healthy = False
ready_by = time.time() + 90
while not healthy and time.time() < ready_by:
    healthy = all(ready(base) for base in args.serve.split(","))
    if not healthy:
        time.sleep(2)

summary = {
    "acknowledged": len(ids),
    "lost": lost,
    "duplicated": duplicated,
    "failover_s": failover.get("failover_s") if failover else None,
    "errors_5xx_not_503": stats["errors_5xx_not_503"],
    "audit_verified": audit_verified,
    "serve_healthy": healthy,
    "webhooks": {"events": events, "delivered": delivered, "received": len(received), "ok": webhooks_ok},
    "audit_unsealed_after": unsealed,
    "ingestion_after_failover": "every dataset pulled again" if ingestion_ok else f"not yet: {stale}",
    "pages_by_instance": pages,
    "pages_stored_twice": pages_twice,
    "webhook_events_received_twice": len(received_twice),
    "retries": stats["retries"],
    "unanswered": stats["unanswered"],
    "reads_ok": stats["reads_ok"],
    "statuses": stats["statuses"],
    "other_failures": stats["other_failures"][:5],
    "unanswered_why": sorted(stats["unanswered_why"])[:5],
    "slowest_s": stats["slowest"],
}
if not audit_verified:
    print(verify.stdout + verify.stderr, file=sys.stderr)
ok = (
    summary["acknowledged"] > 0
    and lost == 0
    and duplicated == 0
    and failover is not None
    and summary["errors_5xx_not_503"] == 0
    and stats["unanswered"] == 0
    and webhooks_ok
    and sealer_ok
    and ingestion_ok
    and ingestion_shared
    and audit_verified
    and healthy
    and not stats["other_failures"]
)
# The receiver goes away with this run: so does its endpoint.
call("DELETE", f"/v1/webhooks/{ENDPOINT}", BANK)
print(json.dumps(summary, ensure_ascii=False))
sys.exit(0 if ok else 1)
