#!/usr/bin/env bash
# dep-report.sh: every dependency of the project with its installed (or locked) version and
# the version this machine could update to. A report: it changes nothing and exits 0 whatever
# it finds (2 only on a usage or script error). Safe in CI; about 10 s with the registry.
#
#   scripts/dep-report.sh              a readable table of every dependency, then a summary
#   scripts/dep-report.sh --updates    the same, only the rows that have an update
#   scripts/dep-report.sh --json       one JSON document for machines (summary included)
#   scripts/dep-report.sh --offline    do not ask the npm registry (npm columns say so)
#
# Debian: the packages of APT_PACKAGES in scripts/deps.sh (parsed, not sourced), installed
#   version from dpkg-query, candidate and the suite it comes from (bookworm-security...)
#   from apt-cache policy. No network: the candidates are as fresh as the last
#   `apt-get update`; the report says how old the package lists are (stale past 7 days).
# npm: every package of each lock file (web, tests, tests/web, core/wasm), its locked
#   version, "wanted" (the newest version every declared range that resolves to it accepts,
#   the `latest` tag first, as npm picks) and "latest" (the registry's latest tag), from the
#   registry's abbreviated metadata with npm's own semver. This is what `npm outdated --all`
#   computes, in a tenth of its time. The registry is the one `npm config get registry`
#   names; when it does not answer within DEP_REPORT_TIMEOUT seconds (default 8) the npm
#   rows say "registry unreachable" and the report goes on. Scoped registries and
#   credentials in .npmrc are not used: all of this project's packages are public.
#
# The deprecated column repeats the registry's deprecation notice of the locked version.
# Status column: current; update (a newer version inside the declared range: `npm update`
# takes it); outside range (newer only outside the declared ranges: a package.json or a
# dependency's own pin must change); not installed;
# no candidate; unknown (no answer for this package).
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
MODE=table UPDATES_ONLY=0 OFFLINE=0
for a in "$@"; do
  case "$a" in
    --json) MODE=json ;;
    --updates) UPDATES_ONLY=1 ;;
    --offline) OFFLINE=1 ;;
    -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "dep-report: unknown argument $a (see --help)" >&2; exit 2 ;;
  esac
done

command -v node >/dev/null || { echo "dep-report: node not found (scripts/deps.sh installs it)" >&2; exit 2; }
NPM_DIR="" REGISTRY=""
if command -v npm >/dev/null; then
  NPM_DIR="$(dirname "$(dirname "$(readlink -f "$(command -v npm)")")")"
  REGISTRY="$( (cd "$ROOT" && timeout 10 npm config get registry) 2>/dev/null || true)"
fi

export ROOT MODE UPDATES_ONLY OFFLINE NPM_DIR REGISTRY
export DEP_REPORT_TIMEOUT="${DEP_REPORT_TIMEOUT:-8}"
exec node - <<'EOF'
'use strict';
const fs = require('fs');
const path = require('path');
const { spawnSync } = require('child_process');
const { createRequire } = require('module');

const env = process.env;
const ROOT = env.ROOT;
const TIMEOUT_MS = Math.max(1, Number(env.DEP_REPORT_TIMEOUT) || 8) * 1000;
const NPM_DIRS = ['web', 'tests', 'tests/web', 'core/wasm'];
const STALE_DAYS = 7;

function run(cmd, args) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 << 20, env: { ...process.env, LC_ALL: 'C' } });
  return { ok: r.status === 0, out: r.stdout || '', err: r.stderr || (r.error ? String(r.error) : '') };
}

// ---- Debian ----
function aptPackages() {
  const text = fs.readFileSync(path.join(ROOT, 'scripts/deps.sh'), 'utf8');
  const m = /^APT_PACKAGES=\(\n([\s\S]*?)^\)/m.exec(text);
  if (!m) throw new Error('APT_PACKAGES=( ... ) not found in scripts/deps.sh');
  const names = m[1].split('\n').map((l) => l.replace(/#.*/, '')).join(' ').split(/\s+/).filter(Boolean);
  for (const n of names) if (!/^[a-z0-9][a-z0-9+.-]*$/.test(n)) throw new Error(`odd package name in APT_PACKAGES: ${n}`);
  return [...new Set(names)];
}

function aptListsAge() {
  const dir = '/var/lib/apt/lists';
  let newest = 0;
  try {
    for (const f of fs.readdirSync(dir)) if (/_(In)?Release$/.test(f)) newest = Math.max(newest, fs.statSync(path.join(dir, f)).mtimeMs);
  } catch { /* no lists */ }
  if (!newest) return { updated: null, days: null, note: 'no apt package lists: run apt-get update for the candidates' };
  const days = (Date.now() - newest) / 86400e3;
  return {
    updated: new Date(newest).toISOString(),
    days: Math.round(days * 10) / 10,
    note: days > STALE_DAYS ? `apt package lists are ${Math.floor(days)} days old: run apt-get update for current candidates` : null,
  };
}

// apt-cache policy: per package the installed and candidate versions and the suites the
// candidate comes from.
function aptPolicy(names) {
  const out = run('apt-cache', ['policy', ...names]).out;
  const res = {};
  let cur = null, ver = null;
  for (const line of out.split('\n')) {
    let m;
    if ((m = /^(\S+):$/.exec(line))) { cur = res[m[1].replace(/:[a-z0-9]+$/, '')] = { installed: null, candidate: null, suites: {} }; ver = null; continue; }
    if (!cur) continue;
    if ((m = /^ {2}Installed: (\S+)/.exec(line))) cur.installed = m[1] === '(none)' ? null : m[1];
    else if ((m = /^ {2}Candidate: (\S+)/.exec(line))) cur.candidate = m[1] === '(none)' ? null : m[1];
    else if ((m = /^ (?:\*\*\*| {3}) (\S+) -?\d+$/.exec(line))) ver = m[1];
    else if (ver && (m = /^ +-?\d+ (\S+) (\S+)/.exec(line)) && m[1] !== '/var/lib/dpkg/status') {
      (cur.suites[ver] ||= []).push(m[2].split('/')[0]);
    }
  }
  return res;
}

function debian() {
  const names = aptPackages();
  const q = run('dpkg-query', ['-W', '-f=${Package}\t${Version}\t${db:Status-Abbrev}\n', ...names]).out;
  const installed = {};
  for (const l of q.split('\n')) {
    const [n, v, st] = l.split('\t');
    if (n && st && st.startsWith('ii')) installed[n] = v;
  }
  const policy = aptPolicy(names);
  const dpkgCmp = (a, b, op) => run('dpkg', ['--compare-versions', a, op, b]).ok;
  return names.map((name) => {
    const p = policy[name] || { candidate: null, suites: {} };
    const inst = installed[name] || null;
    const cand = p.candidate;
    let status;
    if (!cand) status = inst ? 'no candidate' : 'not installed';
    else if (!inst) status = 'not installed';
    else status = dpkgCmp(cand, inst, 'gt') ? 'update' : 'current';
    const from = cand ? [...new Set(p.suites[cand] || [])].join(',') : '';
    return { name, installed: inst, candidate: cand, from, status };
  });
}

// ---- npm ----
function loadSemver() {
  const bases = [env.NPM_DIR && path.join(env.NPM_DIR, 'package.json'), '/usr/share/nodejs/', path.join(ROOT, 'web/package.json')];
  for (const b of bases.filter(Boolean)) {
    try { return createRequire(b)('semver'); } catch { /* next */ }
  }
  return null;
}

function parentPath(p) {
  const i = p.lastIndexOf('/node_modules/');
  return i < 0 ? '' : p.slice(0, i);
}

// Every package of a lock file (v2/v3 "packages"), with the ranges that resolve to it.
function lockPackages(dir) {
  const lock = JSON.parse(fs.readFileSync(path.join(ROOT, dir, 'package-lock.json'), 'utf8'));
  const pk = lock.packages;
  if (!pk) throw new Error(`${dir}/package-lock.json: lockfileVersion ${lock.lockfileVersion} has no "packages"; npm 7 or later writes it`);
  const entries = new Map();
  for (const [key, e] of Object.entries(pk)) {
    if (!key.includes('node_modules/') || e.link) continue;
    const name = e.name || key.slice(key.lastIndexOf('node_modules/') + 13);
    entries.set(key, { key, name, version: e.version, dev: !!e.dev, optional: !!e.optional, resolved: e.resolved || '', ranges: [] });
  }
  for (const [key, e] of Object.entries(pk)) {
    const maps = [e.dependencies, e.optionalDependencies, e.peerDependencies];
    if (key === '') maps.push(e.devDependencies);
    for (const m of maps) for (const [dep, spec] of Object.entries(m || {})) {
      let at = key, target = null;
      for (;;) {
        const cand = (at ? at + '/' : '') + 'node_modules/' + dep;
        if (entries.has(cand)) { target = entries.get(cand); break; }
        if (!at) break;
        at = parentPath(at);
      }
      if (!target) continue; // an optional peer that is not installed
      let range = spec;
      if (range.startsWith('npm:')) range = range.slice(range.lastIndexOf('@') + 1);
      target.ranges.push(range);
    }
  }
  // One row per name@version.
  const rows = new Map();
  for (const e of entries.values()) {
    if (!e.version) continue;
    const id = `${e.name}@${e.version}`;
    const r = rows.get(id);
    if (r) { r.dev = r.dev && e.dev; r.ranges.push(...e.ranges); } else rows.set(id, { ...e, ranges: [...e.ranges] });
  }
  return [...rows.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

async function fetchJson(url, ms) {
  const r = await fetch(url, { headers: { accept: 'application/vnd.npm.install-v1+json; q=1.0, application/json; q=0.8' }, signal: AbortSignal.timeout(ms) });
  if (!r.ok) throw new Error(`HTTP ${r.status}`);
  return r.json();
}

async function packuments(names, registry) {
  const out = new Map();
  const queue = [...names];
  const deadline = Date.now() + 4 * TIMEOUT_MS;
  async function worker() {
    while (queue.length) {
      const n = queue.shift();
      const left = deadline - Date.now();
      if (left <= 0) { out.set(n, { error: 'timeout' }); continue; }
      try {
        out.set(n, await fetchJson(registry + n.replace('/', '%2f'), Math.min(TIMEOUT_MS, left)));
      } catch (e) {
        out.set(n, { error: e.name === 'TimeoutError' ? 'timeout' : String(e.message || e) });
      }
    }
  }
  await Promise.all(Array.from({ length: 12 }, worker));
  return out;
}

function wantedOf(semver, doc, ranges, locked) {
  const versions = Object.keys(doc.versions || {});
  const latest = (doc['dist-tags'] || {}).latest || null;
  const valid = ranges.filter((r) => semver.validRange(r));
  if (!valid.length) return locked; // no semver range (git, file, alias of a tag): nothing to compute
  if (latest && valid.every((r) => semver.satisfies(latest, r))) return latest;
  const all = versions.filter((v) => valid.every((r) => semver.satisfies(v, r)));
  if (all.length) return semver.rsort(all)[0];
  const each = valid.map((r) => semver.maxSatisfying(versions, r)).filter(Boolean);
  return each.length ? semver.sort(each)[0] : locked;
}

async function npm() {
  const semver = loadSemver();
  let registry = (env.REGISTRY || '').trim();
  if (registry && !registry.endsWith('/')) registry += '/';
  const dirs = NPM_DIRS.filter((d) => fs.existsSync(path.join(ROOT, d, 'package-lock.json'))).map((dir) => ({ dir, packages: lockPackages(dir) }));
  let reach = null;
  if (env.OFFLINE === '1') reach = 'offline (--offline)';
  else if (!/^https?:\/\//.test(registry)) reach = 'registry unknown (npm not found, or `npm config get registry` gave no URL)';
  else if (!semver) reach = "npm's semver module not found";
  else {
    try {
      const r = await fetch(registry + '-/ping', { signal: AbortSignal.timeout(TIMEOUT_MS) });
      if (!r.ok) throw new Error(`HTTP ${r.status}`);
    } catch (e) { reach = `registry unreachable (${registry}: ${e.name === 'TimeoutError' ? `no answer in ${TIMEOUT_MS / 1000} s` : e.message})`; }
  }
  const docs = reach ? new Map() : await packuments([...new Set(dirs.flatMap((d) => d.packages.map((p) => p.name)))], registry);
  for (const d of dirs) {
    d.registry = reach || 'ok';
    d.packages = d.packages.map((p) => {
      const row = { name: p.name, locked: p.version, wanted: null, latest: null, scope: p.dev ? 'dev' : 'prod', status: 'unknown' };
      if (p.resolved && !p.resolved.startsWith('http')) { row.status = 'not from registry'; return row; }
      const doc = docs.get(p.name);
      if (reach || !doc) { row.note = reach || 'no answer'; return row; }
      if (doc.error) { row.note = doc.error; return row; }
      row.latest = (doc['dist-tags'] || {}).latest || null;
      row.wanted = wantedOf(semver, doc, p.ranges, p.version);
      const newer = (v) => v && semver.valid(v) && semver.gt(v, p.version);
      row.status = newer(row.wanted) ? 'update' : newer(row.latest) ? 'outside range' : 'current';
      const dep = ((doc.versions || {})[p.version] || {}).deprecated;
      if (dep) row.deprecated = String(dep).slice(0, 100);
      return row;
    });
  }
  return { registry, reach: reach || 'ok', dirs };
}

// ---- output ----
function table(rows, cols) {
  const w = cols.map(([h, k]) => Math.max(h.length, ...rows.map((r) => String(r[k] ?? '-').length)));
  const line = (vals) => vals.map((v, i) => String(v).padEnd(w[i])).join('  ').trimEnd();
  console.log(line(cols.map(([h]) => h)));
  for (const r of rows) console.log(line(cols.map(([, k]) => r[k] ?? '-')));
}

(async () => {
  const t0 = Date.now();
  const apt = aptListsAge();
  const deb = debian();
  const n = await npm();
  const hasUpdate = (s) => s === 'update' || s === 'outside range';
  const debUpd = deb.filter((r) => hasUpdate(r.status)).length;
  const npmRows = n.dirs.flatMap((d) => d.packages);
  const npmUpd = npmRows.filter((r) => hasUpdate(r.status)).length;
  const npmDep = npmRows.filter((r) => r.deprecated).length;
  const summary = `${deb.length} Debian packages, ${npmRows.length} npm packages, ${debUpd + npmUpd} with updates` +
    ` (Debian ${debUpd}, npm ${npmUpd}${npmDep ? `; ${npmDep} npm deprecated` : ''}${n.reach === 'ok' ? '' : `; npm: ${n.reach}`}${apt.note ? `; ${apt.note}` : ''})`;
  if (env.MODE === 'json') {
    console.log(JSON.stringify({
      generated: new Date().toISOString(), seconds: (Date.now() - t0) / 1000, apt, debian: deb,
      npm: n, summary: { debian: deb.length, npm: npmRows.length, withUpdates: debUpd + npmUpd, debianUpdates: debUpd, npmUpdates: npmUpd, npmDeprecated: npmDep, text: summary },
    }, null, 2));
    return;
  }
  const only = (rows) => (env.UPDATES_ONLY === '1' ? rows.filter((r) => hasUpdate(r.status)) : rows);
  console.log(`== Debian (APT_PACKAGES of scripts/deps.sh; apt lists from ${apt.updated || 'never'})`);
  if (apt.note) console.log(`   note: ${apt.note}`);
  table(only(deb), [['package', 'name'], ['installed', 'installed'], ['candidate', 'candidate'], ['from', 'from'], ['status', 'status']]);
  for (const d of n.dirs) {
    console.log(`\n== npm: ${d.dir}/package-lock.json (${d.packages.length} packages; ${d.registry === 'ok' ? `registry ${n.registry}` : d.registry})`);
    table(only(d.packages), [['package', 'name'], ['locked', 'locked'], ['wanted', 'wanted'], ['latest', 'latest'], ['scope', 'scope'], ['status', 'status'], ['deprecated', 'deprecated']]);
  }
  console.log(`\ndep-report: ${summary} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
})().catch((e) => { console.error(`dep-report: ${e.stack || e}`); process.exit(2); });
EOF
