#!/usr/bin/env bash
# check-style.sh: the C style check run in CI, in the spirit of curl's checksrc.
#
#   scripts/check-style.sh            check every tracked *.c / *.h file
#   scripts/check-style.sh FILE...    check only these files
#   scripts/check-style.sh --fix      apply clang-format in place (banned uses are still reported)
#
# Two checks (the rules, with reasons, are in docs/style.md):
#  1. Layout: the top-level .clang-format (4-space indent, 100 columns, function braces on
#     their own line, includes kept in the order written). `clang-format --dry-run -Werror`.
#  2. Banned functions, which overflow, truncate silently, hide parse errors, are not
#     thread-safe or are not random: strcpy strcat strncpy strncat sprintf vsprintf gets
#     strtok atoi atol atoll atof system alloca asctime ctime gmtime localtime tmpnam
#     tempnam mktemp rand srand. Use snprintf or memcpy with explicit lengths, strtol /
#     strtoul / strtod with an end pointer and errno, strtok_r or strcspn/strspn,
#     gmtime_r / localtime_r, randombytes_buf. Comments and string literals are not searched.
#     A justified use carries, on its own line, `/* checksrc: allow <reason> */`.
#
# Exits 1 on any finding and always ends with a one-line summary. CLANG_FORMAT picks the
# binary (default clang-format); the .clang-format was tuned for version 14 and other
# versions may disagree on a few lines, so CI pins 14.
set -euo pipefail

CLANG_FORMAT=${CLANG_FORMAT:-clang-format}
# Third-party or generated C files that follow their own style (none today): an ERE on paths.
EXCLUDE='^$'

fix=0
files=()
for arg in "$@"; do
    case $arg in
    --fix) fix=1 ;;
    -h | --help)
        sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'
        exit 0
        ;;
    -*)
        echo "check-style: unknown option $arg (try --help)" >&2
        exit 2
        ;;
    *) files+=("$arg") ;;
    esac
done
if [ ${#files[@]} -eq 0 ]; then
    cd "$(dirname "$0")/.."
    # Tracked files that exist (a deletion not yet committed is not an error).
    mapfile -t files < <(git ls-files -- '*.c' '*.h' | grep -Ev "$EXCLUDE" |
        while IFS= read -r f; do [ -f "$f" ] && printf '%s\n' "$f"; done)
fi
if [ ${#files[@]} -eq 0 ]; then
    echo "check-style: no C files"
    exit 0
fi

if ! command -v "$CLANG_FORMAT" >/dev/null 2>&1; then
    echo "check-style: $CLANG_FORMAT not found (apt-get install clang-format)" >&2
    exit 2
fi
version=$("$CLANG_FORMAT" --version | sed -n 's/.*version \([0-9]*\).*/\1/p')
if [ "$version" != 14 ]; then
    echo "check-style: warning: $CLANG_FORMAT is version ${version:-?}; CI uses 14" >&2
fi

# 1. Layout.
unformatted=0
if [ "$fix" = 1 ]; then
    # clang-format 14 needs a second pass on a few lines (a comment that outgrows a macro);
    # stop as soon as a pass leaves nothing to change.
    for _ in 1 2 3; do
        "$CLANG_FORMAT" -i --style=file "${files[@]}"
        "$CLANG_FORMAT" --dry-run -Werror --style=file "${files[@]}" >/dev/null 2>&1 && break
    done
else
    report=$("$CLANG_FORMAT" --dry-run -Werror --style=file "${files[@]}" 2>&1) && rc=0 || rc=$?
    # clang-format reports every differing spot; print the first one per file.
    layout=$(printf '%s\n' "$report" | awk -F: '
        / error: code should be clang-formatted/ && !seen[$1]++ {
            printf "%s:%s: not clang-formatted (first difference; --fix applies it)\n", $1, $2 }')
    if [ -n "$layout" ]; then
        printf '%s\n' "$layout"
        unformatted=$(printf '%s\n' "$layout" | wc -l)
    elif [ "$rc" -ne 0 ]; then
        printf '%s\n' "$report" >&2
        echo "check-style: $CLANG_FORMAT failed (exit $rc)" >&2
        exit 2
    fi
fi

# 2. Banned functions.
banned=$(python3 - "${files[@]}" <<'PY'
import re
import sys

BANNED = {
    "strcpy": "unbounded copy; use snprintf or memcpy with a checked length",
    "strcat": "unbounded append; use snprintf with a running offset",
    "strncpy": "may leave the result unterminated; use snprintf or memcpy",
    "strncat": "its size is easy to get wrong; use snprintf with a running offset",
    "sprintf": "unbounded; use snprintf",
    "vsprintf": "unbounded; use vsnprintf",
    "gets": "unbounded; use fgets",
    "strtok": "hidden state, not thread-safe; use strtok_r or strcspn/strspn",
    "atoi": "no error detection; use strtol with an end pointer and errno",
    "atol": "no error detection; use strtol with an end pointer and errno",
    "atoll": "no error detection; use strtoll with an end pointer and errno",
    "atof": "no error detection; use strtod with an end pointer and errno",
    "system": "runs a shell; use fork/exec (posix_spawn) with an argument vector",
    "alloca": "unbounded stack allocation; use a fixed array or malloc",
    "asctime": "static buffer, not thread-safe; use strftime",
    "ctime": "static buffer, not thread-safe; use localtime_r and strftime",
    "gmtime": "static result, not thread-safe; use gmtime_r",
    "localtime": "static result, not thread-safe; use localtime_r",
    "tmpnam": "racy temporary name; use mkstemp or mkdtemp",
    "tempnam": "racy temporary name; use mkstemp or mkdtemp",
    "mktemp": "racy temporary name; use mkstemp or mkdtemp",
    "rand": "not random; use randombytes_buf or randombytes_uniform",
    "srand": "not random; use randombytes_buf or randombytes_uniform",
}
CALL = re.compile(r"(?<![\w$])(" + "|".join(BANNED) + r")\s*\(")
ALLOW = re.compile(r"/\*\s*checksrc:\s*allow\b\s*([^*]*?)\s*\*/")


def code_only(line, in_comment):
    """Blanks comments and string and character literals out of one line of C; returns
    (what is left, whether a block comment is still open at its end)."""
    out, i, n = [], 0, len(line)
    while i < n:
        if in_comment:
            end = line.find("*/", i)
            if end < 0:
                break
            in_comment, i = False, end + 2
            out.append(" ")
        elif line.startswith("/*", i):
            in_comment, i = True, i + 2
        elif line.startswith("//", i):
            break
        elif line[i] in "\"'":
            quote, j = line[i], i + 1
            while j < n and line[j] != quote:
                j += 2 if line[j] == "\\" else 1
            out.append(quote + quote)
            i = j + 1
        else:
            out.append(line[i])
            i += 1
    return "".join(out), in_comment


for path in sys.argv[1:]:
    try:
        text = open(path, encoding="utf-8", errors="replace").read()
    except OSError as e:
        print(f"{path}:0: cannot read ({e.strerror})")
        continue
    in_comment = False
    for num, line in enumerate(text.splitlines(), 1):
        code, in_comment = code_only(line, in_comment)
        # A call, not a struct member of the same name (`m->system(`, `o.rand(`).
        hits = [m.group(1) for m in CALL.finditer(code)
                if not code[:m.start()].rstrip().endswith((".", "->"))]
        if not hits:
            continue
        allow = ALLOW.search(line)
        if allow and allow.group(1):
            continue
        for name in hits:
            why = BANNED[name]
            if allow:
                why += " (checksrc: allow needs a reason)"
            print(f"{path}:{num}: {name}() is banned: {why}")
PY
)
nbanned=0
if [ -n "$banned" ]; then
    printf '%s\n' "$banned"
    nbanned=$(printf '%s\n' "$banned" | wc -l)
fi

summary="check-style: ${#files[@]} files, $unformatted not clang-formatted, $nbanned banned uses"
if [ "$unformatted" -ne 0 ] || [ "$nbanned" -ne 0 ]; then
    echo "$summary: FAIL"
    exit 1
fi
echo "$summary: ok"
