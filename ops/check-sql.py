#!/usr/bin/env python3
"""SQL lives in Store (Sources/Store) and db/migrations only: fails, naming file and line, when
SQL text or a query call appears in any other module's sources. Comments are not checked."""
import os, re, sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CHECKED = ["Sources/Server", "Sources/Feeds", "Sources/Simulator", "Sources/xyd", "Sources/Curl", "Sources/CreditCore"]
SQL = re.compile(
    r"\b(SELECT\b|INSERT\s+INTO|UPDATE\s+\w+(\s+\w+)?\s+SET|WITH\s+\w+\s+AS\s*(MATERIALIZED\s*)?\(|LOCK\s+TABLE|VACUUM\b|DELETE\s+FROM|CREATE\s+(TABLE|INDEX|FUNCTION|TRIGGER|ROLE|DATABASE)|"
    r"ALTER\s+(TABLE|ROLE)|DROP\s+(TABLE|INDEX|DATABASE)|TRUNCATE\s+\w|COPY\s+\w+\s*(\(|FROM|TO)|ON\s+CONFLICT|pg_advisory\w*)"
)
# Any query call or query type, whatever its argument (a query held in a variable too).
CALL = re.compile(r"\.(query|simpleQuery|execute|copyFrom|copyIn)\(|\bPostgres(Query|PreparedStatement|Bindings)\b|unsafeSQL")

def code(line):
    s = line.strip()
    return not (s.startswith("//") or s.startswith("///") or s.startswith("*"))

found = []
for top in CHECKED:
    for dirpath, _, files in os.walk(os.path.join(ROOT, top)):
        for name in sorted(files):
            if not name.endswith(".swift"):
                continue
            path = os.path.join(dirpath, name)
            with open(path, encoding="utf-8") as f:
                for n, line in enumerate(f, 1):
                    if code(line) and (SQL.search(line) or CALL.search(line)):
                        found.append(f"{os.path.relpath(path, ROOT)}:{n}: SQL outside Store: {line.strip()[:120]}")
if found:
    print("\n".join(found))
    print(f"{len(found)} line(s) of SQL outside Sources/Store: move them into a Store function (see CONTRIBUTING.md)", file=sys.stderr)
    sys.exit(1)
print("check-sql: no SQL outside Store and db/migrations")
