# Shared by the ops/ scripts: paths, the local PostgreSQL, and installing what is missing.
# Source it; it sets ROOT and the XYD_PG_* variables.

ROOT=${ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
XYD_PG_PORT=${XYD_PG_PORT:-54329}
XYD_DATA_DIR=${XYD_DATA_DIR:-$ROOT/.data}
XYD_PG_DB=${XYD_PG_DB:-xyd}
PG_OS_USER=${PG_OS_USER:-postgres}

say() { printf '\033[1;34m==>\033[0m %s\n' "$*" >&2; }
die() { printf '\033[1;31mops: %s\033[0m\n' "$*" >&2; exit 1; }

# The PostgreSQL server binaries (Debian keeps them outside PATH).
pg_bindir() {
    local d
    d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
    [ -n "$d" ] && [ -x "$d/initdb" ] || die "PostgreSQL server binaries not found under /usr/lib/postgresql (apt-get install postgresql-15)"
    echo "$d"
}

# Runs a command as the PostgreSQL OS user when we are root (PostgreSQL refuses root).
as_pg() {
    if [ "$(id -u)" = 0 ]; then
        runuser -u "$PG_OS_USER" -- "$@"
    else
        "$@"
    fi
}

# Debian packages the project needs, installed when missing (apt-get update first, once).
APT_PACKAGES=(libcurl4-openssl-dev zlib1g-dev pkg-config)
ensure_packages() {
    local missing=() p
    for p in "${APT_PACKAGES[@]}" "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    if [ "$(id -u)" != 0 ]; then
        die "missing packages: ${missing[*]} (run: sudo apt-get install -y ${missing[*]})"
    fi
    say "installing ${missing[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
}

ensure_swift() {
    if ! command -v swift >/dev/null 2>&1; then
        [ -x /opt/swift/usr/bin/swift ] && export PATH="/opt/swift/usr/bin:$PATH"
    fi
    command -v swift >/dev/null 2>&1 || die "swift not found (expected at /opt/swift/usr/bin)"
}

ensure_pg_user() {
    if [ "$(id -u)" = 0 ] && ! id "$PG_OS_USER" >/dev/null 2>&1; then
        say "creating OS user $PG_OS_USER for PostgreSQL"
        useradd --system --home-dir /var/lib/postgresql --shell /bin/bash "$PG_OS_USER"
    fi
}

# Where the cluster lives: in the checkout when the PostgreSQL user can reach it, else in
# /var/tmp under a name derived from the checkout's path.
pg_dirs() {
    local suffix
    suffix=$(printf '%s' "$ROOT" | sha256sum | cut -c1-10)
    PGDATA_DIR=$XYD_DATA_DIR/pg
    PG_SOCKET_DIR=$XYD_DATA_DIR/pg-run
    PG_LOG=$XYD_DATA_DIR/pg.log
    mkdir -p "$XYD_DATA_DIR"
    if [ "$(id -u)" = 0 ]; then
        mkdir -p "$PGDATA_DIR" "$PG_SOCKET_DIR"
        chown "$PG_OS_USER" "$PGDATA_DIR" "$PG_SOCKET_DIR"
        if ! runuser -u "$PG_OS_USER" -- test -w "$PGDATA_DIR" 2>/dev/null; then
            PGDATA_DIR=/var/tmp/xyd-pg-$suffix/data
            PG_SOCKET_DIR=/var/tmp/xyd-pg-$suffix/run
            mkdir -p "$PGDATA_DIR" "$PG_SOCKET_DIR"
            chown -R "$PG_OS_USER" "/var/tmp/xyd-pg-$suffix"
        fi
        touch "$PG_LOG" && chown "$PG_OS_USER" "$PG_LOG"
        chmod 600 "$PG_LOG"  # the server's log is its owner's only
    else
        mkdir -p "$PGDATA_DIR" "$PG_SOCKET_DIR"
    fi
    # A unix socket path has a length limit (107 bytes).
    if [ ${#PG_SOCKET_DIR} -gt 80 ]; then
        PG_SOCKET_DIR=/tmp/xyd-pg-$suffix
        mkdir -p "$PG_SOCKET_DIR"
        [ "$(id -u)" = 0 ] && chown "$PG_OS_USER" "$PG_SOCKET_DIR"
    fi
    chmod 700 "$PGDATA_DIR"
}

SECRETS_FILE=${SECRETS_FILE:-$XYD_DATA_DIR/secrets.env}
# Local database passwords, made on first use and kept in .data (never committed).
load_secrets() {
    if [ ! -f "$SECRETS_FILE" ]; then
        mkdir -p "$(dirname "$SECRETS_FILE")"
        umask 077
        {
            echo "XYD_PG_OWNER_PASSWORD=$(head -c 18 /dev/urandom | base64 | tr -dc 'A-Za-z0-9')"
            echo "XYD_PG_APP_PASSWORD=$(head -c 18 /dev/urandom | base64 | tr -dc 'A-Za-z0-9')"
        } >"$SECRETS_FILE"
    fi
    # shellcheck disable=SC1090
    . "$SECRETS_FILE"
}

db_url() { # role database
    local role=$1 db=${2:-$XYD_PG_DB} pw
    if [ "$role" = owner ]; then pw=$XYD_PG_OWNER_PASSWORD; user=xyd_owner; else pw=$XYD_PG_APP_PASSWORD; user=xyd_app; fi
    echo "postgres://$user:$pw@127.0.0.1:$XYD_PG_PORT/$db?sslmode=disable"
}

# psql as the cluster's superuser over the unix socket.
pg_super() {
    as_pg "$(pg_bindir)/psql" -X -q -v ON_ERROR_STOP=1 -h "$PG_SOCKET_DIR" -p "$XYD_PG_PORT" -U postgres -d postgres "$@"
}

pg_running() {
    as_pg "$(pg_bindir)/pg_ctl" -D "$PGDATA_DIR" status >/dev/null 2>&1
}

pg_start() {
    ensure_pg_user
    pg_dirs
    load_secrets
    local bin
    bin=$(pg_bindir)
    if [ ! -f "$PGDATA_DIR/PG_VERSION" ]; then
        say "initialising a PostgreSQL cluster in $PGDATA_DIR"
        as_pg "$bin/initdb" -D "$PGDATA_DIR" -U postgres -E UTF8 --locale=C.UTF-8 \
            --auth-local=trust --auth-host=scram-sha-256 >"$XYD_DATA_DIR/initdb.log" 2>&1 \
            || { cat "$XYD_DATA_DIR/initdb.log" >&2; die "initdb failed"; }
    fi
    if pg_running; then
        return 0
    fi
    if [ -f "$PGDATA_DIR/postmaster.pid" ]; then
        say "removing a stale postmaster.pid (no server is running)"
        rm -f "$PGDATA_DIR/postmaster.pid"
    fi
    say "starting PostgreSQL on 127.0.0.1:$XYD_PG_PORT"
    as_pg "$bin/pg_ctl" -D "$PGDATA_DIR" -l "$PG_LOG" -w -t 60 -o \
        "-p $XYD_PG_PORT -c listen_addresses=127.0.0.1 -k $PG_SOCKET_DIR -c fsync=on -c synchronous_commit=on -c max_connections=300 -c shared_buffers=256MB -c log_error_verbosity=terse -c log_min_error_statement=panic -c log_file_mode=0600" \
        start >/dev/null || { tail -n 20 "$PG_LOG" >&2; die "PostgreSQL did not start (is port $XYD_PG_PORT taken? set XYD_PG_PORT)"; }
    pg_bootstrap_roles
}

# The owner role (migrations, creates test databases) and the application role; idempotent.
pg_bootstrap_roles() {
    pg_super <<SQL
DO \$\$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'xyd_owner') THEN
        CREATE ROLE xyd_owner LOGIN CREATEDB;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'xyd_app') THEN
        CREATE ROLE xyd_app LOGIN;
    END IF;
END
\$\$;
ALTER ROLE xyd_owner WITH LOGIN CREATEDB PASSWORD '$XYD_PG_OWNER_PASSWORD';
ALTER ROLE xyd_app WITH LOGIN PASSWORD '$XYD_PG_APP_PASSWORD';
SELECT 'CREATE DATABASE $XYD_PG_DB OWNER xyd_owner' WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = '$XYD_PG_DB')
\gexec
SQL
}

pg_stop() {
    pg_dirs
    if pg_running; then
        as_pg "$(pg_bindir)/pg_ctl" -D "$PGDATA_DIR" -m fast -w stop >/dev/null
        say "PostgreSQL stopped"
    fi
}

# Drops the build's progress lines and a dependency's harmless warnings about its CMake files.
quiet_build() {
    grep -vE '^\[[0-9]+/[0-9]+\]|swift-distributed-tracing.*unhandled|/CMakeLists.txt$' || true
}

# Builds the xyd command (debug unless XYD_BUILD=release) and sets XYD_BIN. XYD_PREBUILT=PATH
# uses that binary instead of building (a copy, so that a build in the checkout cannot replace
# it under a running demo).
build_xyd() {
    if [ -n "${XYD_PREBUILT:-}" ]; then
        [ -x "$XYD_PREBUILT" ] || die "XYD_PREBUILT=$XYD_PREBUILT: not an executable file"
        say "using the prebuilt $XYD_PREBUILT (XYD_PREBUILT)"
        XYD_BIN=$XYD_PREBUILT
        export XYD_BIN
        return
    fi
    local config=${XYD_BUILD:-debug}
    say "building xyd ($config; the first build takes several minutes)"
    (cd "$ROOT" && swift build -c "$config" --product xyd 2>&1 | quiet_build >&2) || die "build failed"
    XYD_BIN=$(cd "$ROOT" && swift build -c "$config" --show-bin-path)/xyd
    export XYD_BIN
}

# The key that encrypts resident ID numbers at rest: made once, kept in .data (never committed).
# A key of 32 random bytes, base64, created once under .data/keys and never committed:
#   ensure_key FILE VARIABLE WHAT
ensure_key() {
    local key=$XYD_DATA_DIR/keys/$1
    if [ ! -f "$key" ]; then
        mkdir -p "$(dirname "$key")"
        (umask 077 && head -c 32 /dev/urandom | base64 >"$key")
        say "created the $3 $key"
    fi
    export "$2=${!2:-$key}"
}
# The key that encrypts resident ID numbers.
ensure_data_key() { ensure_key data.key XYD_DATA_KEY_FILE "personal-data key"; }
# The Ed25519 key that signs credit reports (32 random bytes are a valid private key).
ensure_signing_key() { ensure_key signing.key XYD_SIGNING_KEY_FILE "report signing key"; }

# The key that authenticates audit rows and seals the audit chain (held outside the database),
# and the file the chain's head is anchored in.
ensure_audit_key() {
    ensure_key audit.key XYD_AUDIT_KEY_FILE "audit key"
    export XYD_AUDIT_ANCHOR_FILE=${XYD_AUDIT_ANCHOR_FILE:-$XYD_DATA_DIR/audit/anchors.jsonl}
}

export_env() {
    ensure_data_key
    ensure_signing_key
    ensure_audit_key
    export XYD_DATABASE_URL=${XYD_DATABASE_URL:-$(db_url app)}
    export XYD_MIGRATE_DATABASE_URL=${XYD_MIGRATE_DATABASE_URL:-$(db_url owner)}
    export XYD_MIGRATIONS_DIR=${XYD_MIGRATIONS_DIR:-$ROOT/db/migrations}
}

# What ops/backup records and ops/restore checks of a database: one JSON line of the schema's
# migrations, the main tables' row counts and the audit chain's head.
BACKUP_FACTS_SQL="SELECT json_build_object(
    'migrations', (SELECT count(*) FROM schema_migrations),
    'last_migration', (SELECT name FROM schema_migrations ORDER BY version DESC LIMIT 1),
    'counts', json_build_object(
        'organisations', (SELECT count(*) FROM organisations),
        'api_keys', (SELECT count(*) FROM api_keys),
        'record_version', (SELECT count(*) FROM record_version),
        'quarantine', (SELECT count(*) FROM quarantine),
        'profile', (SELECT count(*) FROM profile),
        'authorisation', (SELECT count(*) FROM authorisation),
        'report', (SELECT count(*) FROM report),
        'demand', (SELECT count(*) FROM demand),
        'audit_log', (SELECT count(*) FROM audit_log),
        'audit_seal', (SELECT count(*) FROM audit_seal)),
    'audit_chain_head', (SELECT json_build_object('chain_seq', chain_seq, 'hash', encode(hash, 'hex')) FROM audit_chain_head))::text;"

# The first 16 hex digits of a key file's SHA-256 (empty when there is no such file): tells
# whether the same key is present, without revealing it.
key_fingerprint() { if [ -f "$1" ]; then sha256sum "$1" | cut -c1-16; fi; }
