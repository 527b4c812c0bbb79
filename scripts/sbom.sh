#!/usr/bin/env bash
# sbom.sh: the software bill of materials of a release, as CycloneDX 1.5 JSON.
#
#   scripts/sbom.sh [OUT]     OUT defaults to build/sbom/bom.json (never committed)
#
# Environment: BIN_DIR (default build/bin: where sottod and sotto are), WASM_DIR (default
# build-wasm: where scripts/build-wasm.sh left libsodium's Debian source package).
#
# Components:
#  - Debian packages the release binaries load: `ldd` of sottod, sotto and the driver modules
#    sottod dlopens (BIN_DIR/../lib/sotto_*.so: PostgreSQL store, SMTP mail), each library
#    mapped to its package by `dpkg -S`, with version and architecture from dpkg-query;
#    purl pkg:deb/debian/NAME@VERSION?arch=ARCH&distro=debian-12. When the binaries are not
#    built, the packages of APT_PACKAGES in scripts/deps.sh that are installed are listed
#    instead, and the BOM says so (property sotto:debian-source = apt-packages).
#  - libsodium compiled into libsotto's WebAssembly (from Debian's source package), when
#    the WebAssembly build has been made: purl with arch=source.
#  - every npm package the web client's bundle can contain: web/package-lock.json entries
#    that are not dev-only (what `npm ls --omit=dev --all` lists), purl pkg:npm/..., with the
#    lock file's SHA-512 integrity and licence; optional peers (@types/react...) as optional.
# The output is then read back and checked (valid JSON, bomFormat, specVersion, serial
# number, metadata, a purl on every component, no duplicate bom-ref). Exits 0 when the BOM
# is written and valid, 1 when the check fails, 2 on a usage error. python3 standard
# library only (python3 comes with Debian's python3-aiosmtpd in scripts/deps.sh).
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
case "${1:-}" in
  -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
  -*) echo "sbom: unknown option $1 (see --help)" >&2; exit 2 ;;
esac
OUT="$(realpath -m "${1:-$ROOT/build/sbom/bom.json}")"
BIN_DIR="$(realpath -m "${BIN_DIR:-$ROOT/build/bin}")"
WASM_DIR="$(realpath -m "${WASM_DIR:-$ROOT/build-wasm}")"
export ROOT OUT BIN_DIR WASM_DIR

exec python3 - <<'EOF'
import base64, datetime, glob, json, os, re, subprocess, sys, uuid
from urllib.parse import quote

ROOT, OUT, BIN_DIR, WASM_DIR = (os.environ[k] for k in ("ROOT", "OUT", "BIN_DIR", "WASM_DIR"))
ENV = dict(os.environ, LC_ALL="C")


def run(*cmd):
    r = subprocess.run(cmd, capture_output=True, text=True, env=ENV)
    return r.returncode, r.stdout


def pq(s):
    """Percent-encodes a purl segment (keeps the characters purl leaves as they are)."""
    return quote(s, safe="")


def sotto_version():
    m = re.search(r"project\(sotto VERSION ([0-9.]+)", open(os.path.join(ROOT, "CMakeLists.txt")).read())
    version = m.group(1) if m else "0.0.0"
    rc, rev = run("git", "-C", ROOT, "rev-parse", "--short=12", "HEAD")
    return version, rev.strip() if rc == 0 else ""


def dpkg_info(pkg):
    rc, out = run("dpkg-query", "-W", "-f=${Package}\t${Version}\t${Architecture}\t${source:Package}\t${db:Status-Abbrev}\n", pkg)
    for line in out.splitlines():
        name, version, arch, source, status = line.split("\t")
        if status.startswith("ii"):
            return {"name": name, "version": version, "arch": arch, "source": source}
    return None


def owners(paths):
    """Package of each library file, with one `dpkg -S` for all of them (usrmerge: each path
    is also tried as its /usr or non-/usr twin, since dpkg may have recorded either)."""
    cands = {}
    for path in paths:
        alts = [path, os.path.realpath(path)]
        for q in list(alts):
            if q.startswith("/usr/"):
                alts.append(q[4:])
            elif q.startswith(("/lib", "/bin", "/sbin")):
                alts.append("/usr" + q)
        cands[path] = list(dict.fromkeys(alts))
    _, out = run("dpkg", "-S", *sorted({a for alts in cands.values() for a in alts}))
    found = {}
    for line in out.splitlines():
        if line.startswith("diversion by") or ": " not in line:
            continue
        pkgs, _, f = line.rpartition(": ")
        found.setdefault(f, pkgs.split(",")[0].split(":")[0].strip())
    return {p: next((found[a] for a in alts if a in found), None) for p, alts in cands.items()}


def debian_from_binaries():
    bins = [os.path.join(BIN_DIR, b) for b in ("sottod", "sotto")]
    if not all(os.access(b, os.X_OK) for b in bins):
        return None, [], []
    # sottod's driver modules (PostgreSQL store, SMTP mail) are dlopened from ../lib.
    mods = sorted(glob.glob(os.path.join(os.path.dirname(BIN_DIR), "lib", "sotto_*.so")))
    libs_of = {}
    for b in bins + mods:
        rc, out = run("ldd", b)
        if rc != 0:
            sys.exit(f"sbom: ldd {b} failed")
        for line in out.splitlines():
            if "not found" in line:
                sys.exit(f"sbom: {b}: {line.strip()}")
            m = re.match(r"\s*(\S+)\s+=>\s+(/\S+)", line) or re.match(r"\s*(/\S+)\s+\(", line)
            if m:  # not linux-vdso
                libs_of.setdefault(m.group(m.lastindex), set()).add(os.path.basename(b))
    owner = owners(list(libs_of))
    missing = sorted(l for l, p in owner.items() if not p)
    if missing:
        print(f"sbom: no Debian package owns {', '.join(missing)}", file=sys.stderr)
    pkgs, used_by = {}, {}
    for lib, pkg in owner.items():
        if pkg:
            pkgs.setdefault(pkg, set()).add(os.path.basename(lib))
            used_by.setdefault(pkg, set()).update(libs_of[lib])
    comps = []
    for pkg in sorted(pkgs):
        info = dpkg_info(pkg)
        if info:
            comps.append((info, sorted(pkgs[pkg]), sorted(used_by[pkg])))
    return "ldd", comps, [os.path.basename(m) for m in mods]


def debian_from_apt_list():
    text = open(os.path.join(ROOT, "scripts/deps.sh")).read()
    m = re.search(r"^APT_PACKAGES=\(\n(.*?)^\)", text, re.S | re.M)
    names = " ".join(re.sub(r"#.*", "", l) for l in m.group(1).splitlines()).split() if m else []
    comps = []
    for n in dict.fromkeys(names):
        info = dpkg_info(n)
        if info:
            comps.append((info, [], []))
    return "apt-packages", comps, []


def deb_component(info, libs, used_by, scope="required"):
    purl = f"pkg:deb/debian/{pq(info['name'])}@{pq(info['version'])}?arch={pq(info['arch'])}&distro=debian-12"
    c = {"type": "library", "bom-ref": purl, "name": info["name"], "version": info["version"],
         "scope": scope, "purl": purl, "supplier": {"name": "Debian"}}
    props = []
    if info.get("source") and info["source"] != info["name"]:
        props.append({"name": "sotto:debian-source-package", "value": info["source"]})
    if libs:
        props.append({"name": "sotto:libraries", "value": " ".join(libs)})
    if used_by:
        props.append({"name": "sotto:used-by", "value": " ".join(used_by)})
    if props:
        c["properties"] = props
    return c


def wasm_libsodium():
    dsc = sorted(glob.glob(os.path.join(WASM_DIR, "libsodium-src", "libsodium_*.dsc")))
    if not dsc:
        return None
    m = re.match(r"libsodium_(.+)\.dsc$", os.path.basename(dsc[-1]))
    version = m.group(1)
    purl = f"pkg:deb/debian/libsodium@{pq(version)}?arch=source&distro=debian-12"
    return {"type": "library", "bom-ref": purl, "name": "libsodium", "version": version,
            "scope": "required", "purl": purl, "supplier": {"name": "Debian"},
            "description": "compiled into libsotto's WebAssembly build (libsotto.wasm) by scripts/build-wasm.sh",
            "properties": [{"name": "sotto:used-by", "value": "web client (libsotto.wasm)"}]}


def npm_components():
    lock = json.load(open(os.path.join(ROOT, "web", "package-lock.json")))
    comps, seen = [], set()
    for key, e in sorted(lock.get("packages", {}).items()):
        if "node_modules/" not in key or e.get("dev") or e.get("link") or not e.get("version"):
            continue
        name = e.get("name") or key[key.rindex("node_modules/") + 13:]
        version = e["version"]
        if (name, version) in seen:
            continue
        seen.add((name, version))
        if name.startswith("@"):
            scope, base = name.split("/", 1)
            purl = f"pkg:npm/{pq(scope)}/{pq(base)}@{pq(version)}"
        else:
            purl = f"pkg:npm/{pq(name)}@{pq(version)}"
        c = {"type": "library", "bom-ref": purl, "name": name, "version": version,
             "scope": "optional" if e.get("optional") or e.get("devOptional") else "required", "purl": purl}
        if name.startswith("@"):
            c["group"], c["name"] = name.split("/", 1)
        integ = e.get("integrity", "")
        if integ.startswith("sha512-"):
            c["hashes"] = [{"alg": "SHA-512", "content": base64.b64decode(integ[7:]).hex()}]
        if isinstance(e.get("license"), str):
            c["licenses"] = [{"expression": e["license"]}] if " " in e["license"] else [{"license": {"id": e["license"]}}]
        if e.get("resolved"):
            c["externalReferences"] = [{"type": "distribution", "url": e["resolved"]}]
        comps.append(c)
    return comps


def validate(path):
    doc = json.load(open(path))
    errs = []
    if doc.get("bomFormat") != "CycloneDX": errs.append("bomFormat")
    if doc.get("specVersion") != "1.5": errs.append("specVersion")
    if not re.fullmatch(r"urn:uuid:[0-9a-f-]{36}", doc.get("serialNumber", "")): errs.append("serialNumber")
    if not isinstance(doc.get("version"), int) or doc["version"] < 1: errs.append("version")
    md = doc.get("metadata", {})
    if not md.get("timestamp") or not md.get("component", {}).get("name"): errs.append("metadata")
    comps = doc.get("components")
    if not isinstance(comps, list) or not comps: errs.append("components")
    else:
        refs = [c.get("bom-ref") for c in comps]
        if len(refs) != len(set(refs)): errs.append("duplicate bom-ref")
        for c in comps:
            if not (c.get("name") and c.get("version") and c.get("type") and str(c.get("purl", "")).startswith("pkg:")):
                errs.append(f"component {c.get('name')}")
    return doc, errs


version, rev = sotto_version()
source, debs, modules = debian_from_binaries()
if source is None:
    print(f"sbom: {BIN_DIR}/sottod or sotto not built: listing the installed APT_PACKAGES of scripts/deps.sh instead", file=sys.stderr)
    source, debs, modules = debian_from_apt_list()
components = [deb_component(i, l, u) for i, l, u in debs]
sodium = wasm_libsodium()
if sodium:
    components.append(sodium)
npm = npm_components()
components += npm

app = {"type": "application", "bom-ref": f"pkg:generic/sotto@{version}", "name": "sotto", "version": version,
       "description": "Sotto: sottod (server), sotto (CLI) and the web client",
       "purl": f"pkg:generic/sotto@{version}" + (f"?vcs_url=git&revision={rev}" if rev else "")}
bom = {
    "bomFormat": "CycloneDX",
    "specVersion": "1.5",
    "serialNumber": f"urn:uuid:{uuid.uuid4()}",
    "version": 1,
    "metadata": {
        "timestamp": datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z"),
        "tools": {"components": [{"type": "application", "name": "scripts/sbom.sh", "version": version}]},
        "component": app,
        "properties": [{"name": "sotto:debian-source", "value": source},
                       {"name": "sotto:git-revision", "value": rev or "unknown"},
                       {"name": "sotto:binaries", "value": " ".join(["sottod", "sotto"] + modules) if source == "ldd" else "not built"}],
    },
    "components": components,
    "dependencies": [{"ref": app["bom-ref"], "dependsOn": [c["bom-ref"] for c in components]}],
}
os.makedirs(os.path.dirname(OUT), exist_ok=True)
tmp = OUT + ".tmp"
with open(tmp, "w") as f:
    json.dump(bom, f, indent=2)
    f.write("\n")
os.replace(tmp, OUT)
_, errs = validate(OUT)
if errs:
    sys.exit(f"sbom: {OUT} is not a valid CycloneDX 1.5 BOM: {', '.join(errs)}")
n_deb = len(debs) + (1 if sodium else 0)
print(f"sbom: {OUT}: CycloneDX 1.5, {len(components)} components ({n_deb} Debian from {source}"
      f"{' + libsodium in the wasm' if sodium else ''}, {len(npm)} npm in the web bundle)")
EOF
