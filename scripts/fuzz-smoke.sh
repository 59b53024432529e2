#!/usr/bin/env bash
# Fuzz smoke test: builds every cargo-fuzz target in fuzz/ and runs each one briefly over a copy of
# its committed seed corpus (fuzz/seeds/<target>/, never modified). Fails on any crash, panic,
# timeout or out-of-memory; the crashing input is left in fuzz/artifacts/<target>/.
#
#   scripts/fuzz-smoke.sh            # 20 s per target
#   FUZZ_SMOKE_SECONDS=60 scripts/fuzz-smoke.sh
#
# Long runs: see fuzz/README.md.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR=never
# cargo-fuzz passes nightly-only flags (-Zsanitizer=address); this lets the stable toolchain take them.
export RUSTC_BOOTSTRAP=1
seconds="${FUZZ_SMOKE_SECONDS:-20}"

if ! cargo fuzz --version >/dev/null 2>&1; then
    cargo install cargo-fuzz --locked
fi

# -a: debug assertions and overflow checks on, as in the long runs.
cargo fuzz build -a

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
failed=()
for target in $(cargo fuzz list); do
    mkdir -p "$work/$target"
    cp fuzz/seeds/"$target"/* "$work/$target/"
    echo "== fuzz smoke: $target (${seconds} s)"
    if ! cargo fuzz run -a "$target" "$work/$target" -- \
        -max_total_time="$seconds" -rss_limit_mb=2048 -malloc_limit_mb=512 -timeout=30 \
        -print_final_stats=1 2>"$work/$target.log"; then
        tail -n 60 "$work/$target.log"
        failed+=("$target")
    else
        grep -E '^#[0-9]+[[:space:]]+DONE' "$work/$target.log" || true
    fi
done
if ((${#failed[@]})); then
    echo "fuzz smoke FAILED: ${failed[*]} (inputs in fuzz/artifacts/)" >&2
    exit 1
fi
echo "fuzz smoke: all targets ran ${seconds} s without a crash"
