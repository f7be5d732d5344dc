# The set-up every benchmark shares, sourced by each (after ops/bench has built xyd and set
# XYD_BIN and ROOT): ops/lib.sh, the cluster's secrets, and the steps below.
. "$ROOT/ops/lib.sh"
load_secrets
pg_dirs

# A fresh database DB (dropped if it exists), migrated.
bench_fresh_db() {
    say "fresh database $1"
    pg_super -c "DROP DATABASE IF EXISTS $1 WITH (FORCE)" -c "CREATE DATABASE $1 OWNER xyd_owner" >/dev/null
    "$XYD_BIN" migrate --database-url "$(db_url owner "$1")" >/dev/null
}

# Starts the simulated city (seed 42) of N enterprises on PORT, extra arguments passed to
# `xyd simulate`, and waits until it serves; sets SIM (its PID). Writes $WORK/providers.json.
bench_simulate() {
    local n=$1 port=$2
    shift 2
    "$XYD_BIN" simulate --port "$port" --seed 42 --enterprises "$n" "$@" --write-config "$WORK/providers.json" 2>"$WORK/sim.log" &
    SIM=$!
    for _ in $(seq 1 2400); do [ -s "$WORK/providers.json" ] && break; sleep 0.5; done
    [ -s "$WORK/providers.json" ] || { cat "$WORK/sim.log"; die "simulator did not start"; }
}

# Ingests the running simulated city into XYD_DATABASE_URL, once.
bench_ingest() {
    "$XYD_BIN" ingest --providers "$WORK/providers.json" --once --json >"$WORK/ingest.json" 2>"$WORK/ingest.log" \
        || { tail -n 30 "$WORK/ingest.log" >&2; die "xyd ingest failed"; }
}
