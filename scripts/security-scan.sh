#!/usr/bin/env bash
# security-scan.sh: `npm audit` of every lock file (web, tests, tests/web, core/wasm), twice:
# production dependencies only (--omit=dev: what ships in the web client's bundle), then
# everything (dev tools, test drivers), reported separately.
#
#   scripts/security-scan.sh           a table per lock file, the advisories, a summary line
#   scripts/security-scan.sh --json    the same as one JSON document
#
# Exit status: 1 only when an audit ran and found a high or critical advisory in production
# dependencies; 0 otherwise, also when the audit could not run; 2 on a usage or script error.
# When the registry's audit endpoint does not answer within SECURITY_SCAN_TIMEOUT seconds
# (default 30) or refuses (a mirror that serves packages but not advisories answers 405),
# it prints "npm audit unavailable: <reason>" and the review is the manual one in
# docs/security.md, "Dependency review". The C dependencies are Debian's: their security
# updates come from bookworm-security, which scripts/dep-report.sh shows.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
MODE=table
for a in "$@"; do
  case "$a" in
    --json) MODE=json ;;
    -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "security-scan: unknown argument $a (see --help)" >&2; exit 2 ;;
  esac
done
command -v npm >/dev/null || { echo "security-scan: npm not found (scripts/deps.sh installs it)" >&2; exit 2; }
TIMEOUT="${SECURITY_SCAN_TIMEOUT:-30}"

TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
for dir in web tests tests/web core/wasm; do
  [ -f "$ROOT/$dir/package-lock.json" ] || continue
  tag="${dir//\//_}"
  echo "$dir" >> "$TMP/dirs"
  # npm audit exits 1 when it finds something and also when it fails: the JSON tells which.
  timeout "$TIMEOUT" npm audit --omit=dev --json --prefix "$ROOT/$dir" > "$TMP/$tag.prod.json" 2> "$TMP/$tag.prod.err" || echo $? > "$TMP/$tag.prod.rc"
  timeout "$TIMEOUT" npm audit --json --prefix "$ROOT/$dir" > "$TMP/$tag.all.json" 2> "$TMP/$tag.all.err" || echo $? > "$TMP/$tag.all.rc"
done

export ROOT TMP MODE TIMEOUT
exec python3 - <<'EOF'
import json, os, sys

ROOT, TMP, MODE, TIMEOUT = (os.environ[k] for k in ("ROOT", "TMP", "MODE", "TIMEOUT"))
SEV = ["info", "low", "moderate", "high", "critical"]
REVIEW = "docs/security.md, section \"Dependency review\""


def read(path):
    try:
        return open(path).read()
    except FileNotFoundError:
        return ""


def prod_packages(d):
    lock = json.load(open(os.path.join(ROOT, d, "package-lock.json")))
    return sum(1 for k, e in lock.get("packages", {}).items() if "node_modules/" in k and not e.get("dev"))


def audit(d, kind):
    if kind == "prod" and prod_packages(d) == 0:
        return {"ran": False, "empty": True, "reason": "no production dependencies: nothing to audit"}
    base = os.path.join(TMP, f"{d.replace('/', '_')}.{kind}")
    rc = read(base + ".rc").strip()
    if rc == "124":
        return {"ran": False, "reason": f"no answer within {TIMEOUT} s"}
    text = read(base + ".json")
    try:
        doc = json.loads(text) if text.strip() else None
    except ValueError:
        doc = None
    if not isinstance(doc, dict) or "auditReportVersion" not in doc:
        reason = None
        if isinstance(doc, dict):
            err = doc.get("error")
            if isinstance(err, dict):
                reason = err.get("summary") or err.get("code")
            msg, code = str(doc.get("message") or ""), str(doc.get("statusCode") or "")
            reason = reason or (msg if msg.startswith(code) else f"{code} {msg}".strip())
        if not reason:
            lines = [l for l in read(base + ".err").splitlines() if l.strip()]
            reason = lines[-1] if lines else f"npm audit exited {rc or '?'} without a report"
        return {"ran": False, "reason": reason.strip()}
    counts = {s: int(doc.get("metadata", {}).get("vulnerabilities", {}).get(s, 0)) for s in SEV}
    deps = doc.get("metadata", {}).get("dependencies", {})
    advisories = []
    for name, v in sorted(doc.get("vulnerabilities", {}).items()):
        titles = sorted({(x.get("title"), x.get("url")) for x in v.get("via", []) if isinstance(x, dict)})
        advisories.append({"package": name, "severity": v.get("severity"), "range": v.get("range"),
                           "fixAvailable": bool(v.get("fixAvailable")),
                           "advisories": [{"title": t, "url": u} for t, u in titles],
                           "via": sorted(x for x in v.get("via", []) if isinstance(x, str))})
    return {"ran": True, "counts": counts, "audited": deps, "vulnerable": advisories}


dirs = [d for d in read(os.path.join(TMP, "dirs")).splitlines() if d]
results = [{"dir": d, "production": audit(d, "prod"), "all": audit(d, "all")} for d in dirs]
fail = [r["dir"] for r in results if r["production"]["ran"] and
        r["production"]["counts"]["high"] + r["production"]["counts"]["critical"] > 0]
passes = [p for r in results for p in (r["production"], r["all"]) if not p.get("empty")]
unavailable = sorted({p["reason"] for p in passes if not p["ran"]})
ran = sum(p["ran"] for p in passes)
total = {s: sum(p["counts"][s] for r in results for p in (r["production"], r["all"]) if p["ran"]) for s in SEV}

if unavailable:
    summary = (f"npm audit unavailable: {'; '.join(unavailable)} ({ran} of {len(passes)} audits ran); "
               f"see the manual review in {REVIEW}")
else:
    summary = f"npm audit: {len(results)} lock files, production and all dependencies"
summary += (f"; high or critical in production dependencies of {', '.join(fail)}" if fail
            else "; no high or critical advisory in production dependencies that ran")

if MODE == "json":
    print(json.dumps({"results": results, "unavailable": unavailable, "failed": fail, "summary": summary}, indent=2))
else:
    for r in results:
        print(f"== {r['dir']}/package-lock.json")
        for kind in ("production", "all"):
            p = r[kind]
            label = "production (--omit=dev)" if kind == "production" else "all (with dev)"
            if not p["ran"]:
                print(f"  {label:24} not run: {p['reason']}")
                continue
            c = p["counts"]
            n = p["audited"].get("prod" if kind == "production" else "total", "?")
            print(f"  {label:24} {n} packages: " + ", ".join(f"{c[s]} {s}" for s in SEV))
            for v in p["vulnerable"]:
                titles = "; ".join(f"{a['title']} {a['url']}" for a in v["advisories"]) or "via " + ", ".join(v["via"])
                print(f"    {v['severity']:9} {v['package']} {v['range'] or ''}: {titles}"
                      f"{'' if v['fixAvailable'] else ' (no fix available)'}")
    if unavailable:
        for reason in unavailable:
            print(f"npm audit unavailable: {reason}")
        print(f"The review is the manual one: {REVIEW}.")
    print(f"security-scan: {summary}")
sys.exit(1 if fail else 0)
EOF
