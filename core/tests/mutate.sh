#!/usr/bin/env bash
# Mutation check of libsotto's tests: each mutation below removes or weakens one rule of the
# core; the core test suite (ctest, core.*) must fail for every one of them.
#
#   core/tests/mutate.sh [NAME...]      (default: every mutation)
#
# Works on a temporary copy of the tree (top CMakeLists.txt and core/, never the working
# files): one build there, then for each mutation the pristine file is put back, the
# mutation applied with perl, the build and ctest run. A mutation that does not apply (the
# code it targets has changed) or does not build is an error of this script, reported as
# such. Prints one line per mutation and a summary; exits 0 only if every mutation was
# caught. Environment: MUTATE_JOBS (build parallelism, default 1), MUTATE_SANITIZE=ON for an
# ASan/UBSan build (slower), MUTATE_KEEP=1 to keep the copy.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/sotto-mutate.XXXXXX")"
[ "${MUTATE_KEEP:-0}" = 1 ] || trap 'rm -rf "$WORK"' EXIT
SRC="$WORK/src" BUILD="$WORK/build" JOBS="${MUTATE_JOBS:-1}"
GEN=Ninja; command -v ninja >/dev/null || GEN="Unix Makefiles"

# name | file (under core/) | perl -0777 substitution (must change the file)
MUTATIONS=(
  'decrypt-next-commits-on-failure|src/ratchet.c|s/fail:\n    sodium_memzero\(ck, sizeof ck\);/fail:\n    if (rc != 0) {\n        memcpy(ch->ck, ck, KEY);\n        ch->n++;\n    }\n    sodium_memzero(ck, sizeof ck);/'
  'no-identity-signature-check|src/session.c|s/\(rc = verify_identity\(e->sig, e->ik, e->sk\)\) != 0 \|\| //'
  'no-own-reflection-check|src/session.c|s/    if \(sodium_memcmp\(e->sk, a->sign_pk, KEY\) == 0\)\n        return SOTTO_E_INVALID;[^\n]*\n//'
  'no-skipped-key-bound|src/ratchet.c|s/    if \(excess\)\n        skipped_remove\(s, 0, excess\);\n/    (void)excess;\n/'
  'no-skipped-key-ttl-on-use|src/ratchet.c|s/    if \(s->skipped\[i\]\.created \+ SOTTO_SKIPPED_KEY_TTL <= now\)\n        return SOTTO_E_REPLAY;[^\n]*\n/    (void)now;\n/'
  'no-skipped-key-expiry|src/ratchet.c|s/    while \(expired < s->n_skipped && [^\n]*\n        expired\+\+;\n/    (void)now;\n/'
  'safety-iterations-5199|src/safety.c|s/#define SAFETY_ITERATIONS 5200u/#define SAFETY_ITERATIONS 5199u/'
  'replay-cache-fifo-eviction|src/keys.c|s/    if \(a->n_replay < REPLAY_CACHE_MAX\)\n        return 0;\n/    (void)spk_id; (void)wipe;\n    return 0;\n/; s/    if \(room == 1\)\n        spk_wipe\(a, wipe\);\n/    (void)room; (void)wipe;\n    if (a->n_replay == REPLAY_CACHE_MAX) {\n        memmove(a->replay, a->replay + 1, (REPLAY_CACHE_MAX - 1) * sizeof a->replay[0]);\n        a->n_replay--;\n    }\n/'
  'no-early-rotation-on-flood|src/keys.c|s/    if \(account_replay_count\(a, a->spk\[0\]\.id\) >= REPLAY_CACHE_MAX \/ 2\)\n        return 1;[^\n]*\n//'
  'spk-retention-30-days|src/keys.c|s/now - a->spk\[i\]\.replaced >= SOTTO_SPK_RETENTION/now - a->spk[i].replaced >= SOTTO_QUEUE_RETENTION/'
  'no-listed-key-check|src/session.c|s/    if \(expected && sodium_memcmp\(sk, expected, KEY\) != 0\)\n        return SOTTO_E_KEY_MISMATCH;\n/    (void)sk; (void)expected;\n/'
  'no-pending-max-age|src/session.c|s/return c->pending && c->pending_since && now >= c->pending_since &&\n\s+now - c->pending_since >= SOTTO_PENDING_MAX_AGE;/(void)c; (void)now;\n    return 0;/'
  'one-time-key-cap-fails-for-good|src/keys.c|s/    while \(a->n_opk > SOTTO_ONE_TIME_KEYS_MAX - count\)\n        account_remove_opk\(a, \(int\)opk_victim\(a\)\);\n/    (void)opk_victim;\n    if (count > SOTTO_ONE_TIME_KEYS_MAX - a->n_opk)\n        return SOTTO_E_BOUNDS;\n/'
  'one-time-key-victim-ignores-claims|src/keys.c|s/        if \(x->claimed &&\s+\(!b->claimed/        if (0 \&\& x->claimed \&\& (!b->claimed/; s/else if \(!x->claimed && !b->claimed && x->id < b->id\)/else if (x->id < b->id)/'
  'one-time-key-grace-shortened|src/keys.c|s/now - a->opk\[i\]\.claimed >= SOTTO_ONE_TIME_KEY_GRACE/now - a->opk[i].claimed >= SOTTO_ONE_TIME_KEY_GRACE \/ 1000/'
  'call-binding-optional|src/payload.c|s/call == \(p->has_call != 0\) && \(!call \|\| call_ok\(&p->call\)\)/(call \|\| 1)/'
  'same-call-ignores-callee|src/payload.c|s/memcmp\(a->callee_device_id, b->callee_device_id, SOTTO_UUIDBYTES\) == 0 &&/1 \&\&/'
  'file-name-allows-separators|src/pointer.c|s/ \|\|\n            cp == .\/. \|\| cp == .\\\\.\)/)/'
  'files-on-any-content-type|src/payload.c|s/\(p->n_attachments == 0 \|\| files\)/(p->n_attachments == 0 || files || 1)/'
  'file-tail-accepted|src/pointer.c|s/    if \(r\.off != r\.len\)/    if (0)/'
  'device-list-pin-ignored|src/devicelist.c|s/if \(pinned && sodium_memcmp/if (0 \&\& pinned \&\& sodium_memcmp/'
  'device-list-fork-accepted|src/devicelist.c|s/next->version == seen->version && same_devices\(seen, next\)/next->version == seen->version \&\& (same_devices(seen, next) \|\| 1)/'
  'device-list-ids-unordered|src/devicelist.c|s/entry_cmp\(&l->devices\[i - 1\], &l->devices\[i\]\) >= 0/entry_cmp(\&l->devices[i - 1], \&l->devices[i]) > 0/'
)

want=("$@")
selected() {
  [ ${#want[@]} -eq 0 ] && return 0
  local w; for w in "${want[@]}"; do [ "$w" = "$1" ] && return 0; done; return 1
}

echo "mutate: copying the tree to $SRC"
mkdir -p "$SRC"
cp "$ROOT/CMakeLists.txt" "$SRC/"
tar -C "$ROOT" --exclude=core/wasm/node_modules -cf - core | tar -C "$SRC" -xf -
cmake -S "$SRC" -B "$BUILD" -G "$GEN" -DSOTTO_PARTS=core -DCMAKE_BUILD_TYPE=Debug \
  -DSOTTO_TEST_RNG=ON -DSOTTO_SANITIZE="${MUTATE_SANITIZE:-OFF}" >"$WORK/cmake.log" 2>&1 \
  || { cat "$WORK/cmake.log"; exit 2; }

run_suite() { # 0 if every core test passes; failing test names in $WORK/failed
  : >"$WORK/failed"
  if ! cmake --build "$BUILD" -j "$JOBS" >"$WORK/build.log" 2>&1; then return 2; fi
  if ctest --test-dir "$BUILD" -R '^core\.' --timeout 300 >"$WORK/ctest.log" 2>&1; then return 0; fi
  grep -E '^[[:space:]]*[0-9]+ - core\.' "$WORK/ctest.log" | sed 's/^[[:space:]]*[0-9]* - //; s/ (.*//' \
    | paste -sd' ' - >"$WORK/failed"
  return 1
}

echo "mutate: baseline (no mutation) must pass"
if ! run_suite; then
  echo "mutate: the unmutated suite fails; see $WORK (MUTATE_KEEP=1 keeps it)"
  cat "$WORK/ctest.log" "$WORK/build.log" | tail -30
  exit 2
fi

caught=0 survived=0 broken=0 total=0
for m in "${MUTATIONS[@]}"; do
  IFS='|' read -r name file expr <<<"$m"
  selected "$name" || continue
  total=$((total + 1))
  f="$SRC/core/$file"
  cp "$ROOT/core/$file" "$f"
  perl -0777 -pi -e "$expr" "$f"
  if cmp -s "$ROOT/core/$file" "$f"; then
    printf '%-38s NOT APPLIED (the targeted code changed: update mutate.sh)\n' "$name"
    broken=$((broken + 1))
    continue
  fi
  set +e; run_suite; rc=$?; set -e
  case $rc in
    0) printf '%-38s SURVIVED (every test passed)\n' "$name"; survived=$((survived + 1)) ;;
    1) printf '%-38s caught by %s\n' "$name" "$(cat "$WORK/failed")"; caught=$((caught + 1)) ;;
    *) printf '%-38s DOES NOT BUILD (fix the mutation)\n' "$name"; tail -5 "$WORK/build.log"
       broken=$((broken + 1)) ;;
  esac
  cp "$ROOT/core/$file" "$f" # pristine again for the next one
done
cmake --build "$BUILD" -j "$JOBS" >/dev/null 2>&1 || true

echo "mutate: $caught of $total mutations caught, $survived survived, $broken broken"
[ "$survived" -eq 0 ] && [ "$broken" -eq 0 ] && [ "$total" -gt 0 ]
