# The city the regulators' and the portal's benchmarks share: N enterprises (seed 42) ingested
# and scored, three banks with a product of each kind, 12 months of marketplace history.
# Sourced by bench/stats and bench/portal after they set N, SIM_PORT, HTTP_PORT, DB, WORK,
# OWNER_URL, XYD_DATABASE_URL and B.

start_server() {
    XYD_HTTP_PORT=$HTTP_PORT XYD_LOG_LEVEL=warning XYD_STATS_REFRESH_S=86400 "$XYD_BIN" serve 2>"$WORK/serve.log" &
    SERVER=$!
    for _ in $(seq 1 100); do curl -fsS "$B/readyz" >/dev/null 2>&1 && break; sleep 0.2; done
    curl -fsS "$B/readyz" >/dev/null || { tail -n 20 "$WORK/serve.log"; die "the server did not start"; }
}

if [ -z "${BENCH_HTTP_ONLY:-}" ]; then
    bench_fresh_db $DB
    say "simulating $N enterprises and ingesting them (a few minutes)"
    bench_simulate "$N" "$SIM_PORT"
    bench_ingest
    kill $SIM 2>/dev/null || true; SIM=
    psql -q "$OWNER_URL" -c "VACUUM ANALYZE" >/dev/null 2>&1
    "$XYD_BIN" scorecard publish "$(ls "$ROOT"/contracts/scorecards/*.json | sort | tail -n 1)" >/dev/null
    "$XYD_BIN" rescore 2>/dev/null | tail -n 1 >&2
    say "three banks with products, and 12 months of marketplace history"
    start_server
    for bank in "bench bank 1" "bench bank 2" "bench bank 3"; do
        id=$("$XYD_BIN" org create --if-absent --kind bank --name "$bank")
        key=$("$XYD_BIN" key issue --org "$id" --label bench)
        for kind in credit secured guaranteed; do
            pid=$(curl -fsS -H "Authorization: Bearer $key" -H 'Content-Type: application/json' \
                -d "{\"name\":\"$bank $kind\",\"kind\":\"$kind\",\"amount_min_fen\":1000000,\"amount_max_fen\":2000000000,\"term_min_months\":3,\"term_max_months\":60,\"rate_min_bp\":350,\"rate_max_bp\":800,\"rules\":[]}" \
                "$B/v1/products" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
            curl -fsS -o /dev/null -X POST -H "Authorization: Bearer $key" "$B/v1/products/$pid/publish"
        done
    done
    kill -TERM $SERVER; wait $SERVER 2>/dev/null || true; SERVER=
    "$XYD_BIN" simulate-market --seed 42 --enterprises "$N" 2>/dev/null >&2
fi

