#!/usr/bin/env bash
# Fuzz smoke run: every target listed by `cargo fuzz list` for FUZZ_SECONDS (default 20) each.
# cargo-fuzz needs nightly flags; RUSTC_BOOTSTRAP=1 lets the stable toolchain accept them.
# Fails on the first crash, leak or timeout (libFuzzer's exit status); the reproducer is left
# in fuzz/artifacts/<target>/. New corpus entries go to a scratch directory, so the checked-in
# seed corpora in fuzz/corpus/ stay as they are.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
seconds="${FUZZ_SECONDS:-20}"
export RUSTC_BOOTSTRAP=1

if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "fuzz: installing cargo-fuzz"
  cargo install cargo-fuzz --locked
fi

cd "$root/fuzz"
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT

mapfile -t targets < <(cargo fuzz list)
if [ "${#targets[@]}" -eq 0 ]; then
  echo "fuzz: no targets found" >&2
  exit 1
fi
echo "fuzz: ${#targets[@]} targets: ${targets[*]}"
# Build everything once up front so the timed runs measure fuzzing, not compiling.
cargo fuzz build
failed=()
for t in "${targets[@]}"; do
  mkdir -p "$scratch/$t"
  seeds=()
  [ -d "corpus/$t" ] && seeds+=("corpus/$t")
  echo "=== fuzz $t (${seconds}s)"
  if ! cargo fuzz run "$t" "$scratch/$t" "${seeds[@]}" -- \
    -max_total_time="$seconds" -print_final_stats=1 2>&1 | tail -n 25; then
    failed+=("$t")
  fi
done
if [ "${#failed[@]}" -gt 0 ]; then
  echo "fuzz: FAILED: ${failed[*]} (see fuzz/artifacts/)" >&2
  exit 1
fi
echo "fuzz: all ${#targets[@]} targets ran ${seconds}s without a crash"
