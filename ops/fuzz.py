#!/usr/bin/env python3
"""The contract-driven probe ops/test keeps running (issue 15): schemathesis generates requests
from contracts/openapi.yaml and sends them to a real `xyd serve` on a fresh database, once per
role with that role's key (and once without a key for the open routes), and fails on any 5xx,
any status the contract does not document, any response whose type or body breaks the schema.

Usage (ops/test runs it with the environment it set up):
    XYD_BIN=... XYD_TEST_OWNER_URL=... XYD_TEST_DATABASE_URL=... ops/fuzz.py [--examples N]
"""
import argparse, json, os, socket, subprocess, sys, tempfile, time, urllib.request, urllib.parse

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SPEC = os.path.join(ROOT, "contracts", "openapi.yaml")
ROLES = ["operator", "regulator", "bank", "enterprise", "procurement"]
CHECKS = os.environ.get("XYD_FUZZ_CHECKS", "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance")


def say(text):
    print(f"\033[1;34m==>\033[0m fuzz: {text}", file=sys.stderr, flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def with_database(url, name):
    parts = urllib.parse.urlsplit(url)
    return urllib.parse.urlunsplit(parts._replace(path="/" + name))


def psql_owner(owner_url, sql):
    subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", owner_url, "-c", sql], check=True, stdout=subprocess.DEVNULL)


def xyd(env, *args):
    return subprocess.run([os.environ["XYD_BIN"], *args], env=env, check=True, capture_output=True, text=True).stdout.strip()


def call(base, method, path, key=None, body=None):
    request = urllib.request.Request(base + path, method=method, data=json.dumps(body).encode() if body is not None else None)
    if key:
        request.add_header("Authorization", "Bearer " + key)
    if body is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=30) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, None


def role_spec(spec_text, role, folder):
    """The contract narrowed to the operations this role may call (the open ones for no role)."""
    import yaml
    spec = yaml.safe_load(spec_text)
    kept = {}
    for path, item in spec["paths"].items():
        ops = {}
        for method, op in item.items():
            if method == "parameters":
                continue
            roles = op.get("x-roles")
            # The portal's and dashboard's forms need a browser session and its CSRF token: their
            # tests are PortalTests and DashboardTests, not this probe.
            session = any("session" in requirement for requirement in op.get("security", []))
            wanted = not session and ((role is None and roles in (["open"], [])) or (role is not None and role in (roles or [])))
            if wanted:
                ops[method] = op
        if ops:
            if "parameters" in item:
                ops["parameters"] = item["parameters"]
            kept[path] = ops
    spec["paths"] = kept
    out = os.path.join(folder, f"openapi-{role or 'anonymous'}.json")
    with open(out, "w") as f:
        json.dump(spec, f)
    return out, sum(len([m for m in ops if m != "parameters"]) for ops in kept.values())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--examples", type=int, default=int(os.environ.get("XYD_FUZZ_EXAMPLES", "15")))
    ap.add_argument("--seed", type=int, default=int(os.environ.get("XYD_FUZZ_SEED", "20261130")))
    args = ap.parse_args()
    started = time.time()
    owner_url = os.environ["XYD_TEST_OWNER_URL"]
    app_url = os.environ["XYD_TEST_DATABASE_URL"]
    db = f"xyd_fuzz_{os.getpid()}"  # one database per run: runs side by side do not meet
    psql_owner(with_database(owner_url, "postgres"), f"DROP DATABASE IF EXISTS {db} WITH (FORCE)")
    psql_owner(with_database(owner_url, "postgres"), f"CREATE DATABASE {db} TEMPLATE {os.environ.get('XYD_TEST_TEMPLATE', 'xyd_test')}")
    # scrypt at 2^10 (users made by the fuzzer would take seconds each at 2^17 on a debug build).
    env = dict(os.environ, XYD_DATABASE_URL=with_database(app_url, db), XYD_LOG_LEVEL="error", XYD_PASSWORD_SCRYPT_LOG_N="10")
    keys = {}
    ids = {}
    for role in ROLES:
        extra = ["--uscc", "91320602MA1NTX016C"] if role == "enterprise" else []
        ids[role] = xyd(env, "org", "create", "--kind", role, "--name", f"Fuzz {role}", *extra)
        keys[role] = xyd(env, "key", "issue", "--org", ids[role], "--label", "fuzz")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    work = tempfile.mkdtemp(prefix="xyd-fuzz-")
    log = open(os.path.join(work, "serve.log"), "w")
    serve_env = dict(env, XYD_HTTP_PORT=str(port), XYD_PUBLIC_RATE_PER_MINUTE="6000", XYD_PUBLIC_RATE_BURST="1000",
                     XYD_AUTH_FAILURE_BURST="100000", XYD_WEBHOOK_ALLOW_LOOPBACK="true",
                     XYD_WEBHOOK_LOOPBACK_PORTS="9099", XYD_STATS_REFRESH_S="5")
    server = subprocess.Popen([os.environ["XYD_BIN"], "serve"], env=serve_env, stdout=log, stderr=subprocess.STDOUT)
    failed = []
    try:
        for _ in range(600):
            try:
                if call(base, "GET", "/readyz")[0] == 200:
                    break
            except OSError:
                pass
            time.sleep(0.1)
        else:
            raise SystemExit("fuzz: xyd serve did not become ready")
        # A little of everything for the generated requests to find: a product, a demand, an authorisation.
        product = {"name": "Fuzz loan", "kind": "credit", "amount_min_fen": 1000000, "amount_max_fen": 300000000, "term_min_months": 1,
                   "term_max_months": 60, "rate_min_bp": 400, "rate_max_bp": 600, "rules": []}
        status, made = call(base, "POST", "/v1/products", keys["bank"], product)
        if status == 201:
            call(base, "POST", f"/v1/products/{made['id']}/publish", keys["bank"])
        expires = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 86400 * 30))
        call(base, "POST", "/v1/me/authorisations", keys["enterprise"],
             {"bank_org_id": ids["bank"], "scopes": ["profile", "report", "records"], "purpose": "loan_application", "expires_at": expires})
        spec_text = open(SPEC).read()
        for role in [None] + ROLES:
            path, operations = role_spec(spec_text, role, work)
            name = role or "anonymous"
            command = ["schemathesis", "run", path, "--url", base, "--checks", CHECKS, "--max-examples", str(args.examples),
                       "--seed", str(args.seed), "--phases", "examples,coverage,fuzzing", "--workers", "1",
                       "--generation-database", "none", "--request-timeout", "30", "--no-color", "--suppress-health-check", "all",
                       "--report", "junit", "--report-junit-path", os.path.join(work, f"junit-{name}.xml")]
            if role:
                command += ["--header", f"Authorization: Bearer {keys[role]}"]
            t0 = time.time()
            # One worker: with two, CPython 3.11 crashed now and then inside schemathesis
            # ("AST constructor recursion depth mismatch"). Run in the work folder, where
            # schemathesis keeps its cache.
            result = subprocess.run(command, capture_output=True, text=True, cwd=work)
            say(f"{name}: {operations} operations, {time.time() - t0:.0f} s, {'passed' if result.returncode == 0 else 'FAILED'}")
            with open(os.path.join(work, f"schemathesis-{name}.txt"), "w") as f:
                f.write(result.stdout + result.stderr)
            if result.returncode != 0:
                failed.append(name)
                text = result.stdout
                cut = text.find("=== FAILURES")
                print(text[cut if cut >= 0 else 0:][:30000], file=sys.stderr)
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()
    psql_owner(with_database(owner_url, "postgres"), f"DROP DATABASE IF EXISTS {db} WITH (FORCE)")
    if server.returncode not in (0, -15):
        failed.append(f"xyd serve exited with {server.returncode}")
    errors = [line for line in open(os.path.join(work, "serve.log")) if "unhandled error" in line]
    if errors:
        failed.append(f"{len(errors)} unhandled errors in the server's log")
        print("".join(errors[:20]), file=sys.stderr)
    say(f"finished in {time.time() - started:.0f} s; reports and the server's log in {work}")
    if failed:
        raise SystemExit("fuzz failed: " + ", ".join(failed))


if __name__ == "__main__":
    main()
