#!/usr/bin/env bash
# Checks the Prometheus and Grafana files in deploy/:
#   - promtool check config deploy/prometheus/prometheus.yml
#   - promtool check rules deploy/prometheus/ccroute_alerts.yml
#   - promtool test rules deploy/prometheus/ccroute_alerts_test.yml (a unit
#     test for every alert)
#   - the Grafana dashboard: valid JSON, every panel has the ${DS_PROMETHEUS}
#     datasource and targets, and every target's PromQL parses (promtool,
#     with the dashboard variables filled in).
# Exits non-zero on any failure. Needs promtool (Debian package prometheus,
# installed by deploy/setup.sh) and python3.
set -euo pipefail
cd "$(dirname "$0")/../.."

if ! command -v promtool >/dev/null; then
  echo "promtool_test: promtool not found (apt-get install prometheus)" >&2
  exit 1
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

echo "== promtool check config"
promtool check config deploy/prometheus/prometheus.yml
echo "== promtool check rules"
promtool check rules deploy/prometheus/ccroute_alerts.yml
echo "== promtool test rules"
promtool test rules deploy/prometheus/ccroute_alerts_test.yml

# Every alert in the rules file must be named in the tests.
alerts=$(sed -n 's/^ *- alert: *\([A-Za-z0-9_]*\).*/\1/p' \
  deploy/prometheus/ccroute_alerts.yml)
if [[ -z $alerts ]]; then
  echo "promtool_test: no alerts found in ccroute_alerts.yml" >&2
  exit 1
fi
for a in $alerts; do
  if ! grep -q "alertname: *$a\$" deploy/prometheus/ccroute_alerts_test.yml; then
    echo "promtool_test: alert $a has no unit test" >&2
    exit 1
  fi
done

echo "== Grafana dashboard"
dashboard=deploy/grafana/ccroute-dashboard.json
python3 -m json.tool "$dashboard" >/dev/null
# Writes the panels' queries as recording rules for promtool to parse.
python3 - "$dashboard" "$tmp/dashboard_rules.yml" <<'EOF'
import json
import re
import sys

path, rules_out = sys.argv[1], sys.argv[2]
with open(path) as f:
    d = json.load(f)
errors = []
ds = {"type": "prometheus", "uid": "${DS_PROMETHEUS}"}

if not isinstance(d.get("schemaVersion"), int) or d["schemaVersion"] < 36:
    errors.append("schemaVersion missing or older than 36")
variables = {v.get("name"): v for v in d.get("templating", {}).get("list", [])}
if variables.get("DS_PROMETHEUS", {}).get("type") != "datasource":
    errors.append("no DS_PROMETHEUS datasource variable")
queue = variables.get("queue", {})
if "label_values(ccroute_queue_contacts_waiting" not in str(queue.get("query")):
    errors.append("no queue variable from ccroute_queue_contacts_waiting")
for name, v in variables.items():
    if v.get("type") == "query" and v.get("datasource") != ds:
        errors.append(f"variable {name}: datasource is not ${{DS_PROMETHEUS}}")


def walk(panels):
    for p in panels:
        yield p
        yield from walk(p.get("panels", []))


ids = set()
exprs = []
panels = list(walk(d.get("panels", [])))
if not panels:
    errors.append("no panels")
for p in panels:
    title = p.get("title", "?")
    pid = p.get("id")
    if pid in ids:
        errors.append(f"panel {title!r}: duplicate id {pid}")
    ids.add(pid)
    if "gridPos" not in p:
        errors.append(f"panel {title!r}: no gridPos")
    if p.get("type") == "row":
        continue
    if p.get("datasource") != ds:
        errors.append(f"panel {title!r}: datasource is not ${{DS_PROMETHEUS}}")
    targets = p.get("targets") or []
    if not targets:
        errors.append(f"panel {title!r}: no targets")
    for t in targets:
        if t.get("datasource") != ds:
            errors.append(f"panel {title!r} target {t.get('refId')}: "
                          "datasource is not ${DS_PROMETHEUS}")
        if not t.get("expr", "").strip():
            errors.append(f"panel {title!r} target {t.get('refId')}: no expr")
        else:
            exprs.append((title, t["expr"]))

# Fill in the dashboard variables so that promtool can parse the queries.
values = {"__rate_interval": "1m", "__interval": "1m", "job": "ccroute",
          "instance": ".*", "queue": ".*"}
known = set(values) | set(variables)


def fill(title, expr):
    def one(m):
        name = m.group(1) or m.group(2)
        if name not in known:
            errors.append(f"panel {title!r}: unknown variable ${name}")
        return values.get(name, "x")
    return re.sub(r"\$\{(\w+)\}|\$(\w+)", one, expr)


with open(rules_out, "w") as f:
    f.write("groups:\n  - name: dashboard\n    rules:\n")
    for i, (title, expr) in enumerate(exprs):
        expr = fill(title, expr)
        f.write(f"      - record: dashboard:query_{i}\n")
        f.write(f"        expr: {json.dumps(expr)}\n")

for e in errors:
    print("dashboard:", e, file=sys.stderr)
if errors:
    sys.exit(1)
print(f"{path}: {len(panels)} panels, {len(exprs)} queries")
EOF
promtool check rules "$tmp/dashboard_rules.yml"

echo "promtool_test: all checks passed"
