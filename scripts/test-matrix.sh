#!/usr/bin/env bash
# Run the acceptance tests once per Terraform or OpenTofu binary and print a
# table of the results. `make test-matrix` passes Terraform 1.5.7 (the oldest
# supported), the terraform `make test` uses, TERRAFORM_ACTIONS (that one if
# it is 1.14 or newer, else the Terraform the Makefile builds: the one that
# runs the action and list-resource tests, which skip under older ones) and
# the pinned OpenTofu.
#
# Usage: scripts/test-matrix.sh BINARY...
# Env:   MATRIX_LOG_DIR  where the go test -json logs go (default .tools/test-matrix)
#
# Counts are of tests and subtests that have no subtests of their own, so a
# test that only groups cases counts once per case. A package that fails
# outside any test (a build error, a panic) counts as one failure.
set -euo pipefail

if [[ $# -eq 0 ]]; then
  echo "usage: $0 BINARY..." >&2
  exit 2
fi
# Absolute paths, found before changing directories (and since go test runs
# each package in its own directory); the same binary twice runs once.
bins=()
for bin in "$@"; do
  if ! path="$(command -v "$bin")"; then
    echo "test-matrix: $bin not found" >&2
    exit 1
  fi
  path="$(readlink -f "$path")"
  if [[ " ${bins[*]-} " == *" $path "* ]]; then
    echo "test-matrix: $bin is $path, already in the matrix; running it once"
    continue
  fi
  bins+=("$path")
done

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo_root"

# Every package with tests that run terraform (TF_ACC). The load test's
# provider mirror serves registry.terraform.io only, so it runs under
# Terraform only.
acc_packages=(./internal/provider/... ./internal/examplestest/...)
terraform_only_packages=(./internal/loadtest/...)

# A TF_CLI_CONFIG_FILE naming a missing file only adds a warning, but
# OpenTofu 1.12 prints that on stdout, where it breaks the tests' reading of
# `version -json`.
if [[ -n "${TF_CLI_CONFIG_FILE:-}" && ! -e "$TF_CLI_CONFIG_FILE" ]]; then
  echo "test-matrix: TF_CLI_CONFIG_FILE names a missing file ($TF_CLI_CONFIG_FILE); unsetting it for the tests"
  unset TF_CLI_CONFIG_FILE
fi

log_dir="${MATRIX_LOG_DIR:-$repo_root/.tools/test-matrix}"
mkdir -p "$log_dir"

# tool_of BINARY prints "OpenTofu VERSION" or "Terraform VERSION". Both print
# "terraform_version" in `version -json`; OpenTofu's text output has a line
# "OpenTofu vX.Y.Z" (not always the first: 1.12 prints CLI configuration
# warnings on stdout).
tool_of() {
  local version name
  version="$("$1" version -json 2>/dev/null | sed -n 's/^ *"terraform_version": *"\([^"]*\)".*/\1/p')"
  if "$1" version 2>/dev/null | grep '^OpenTofu v' >/dev/null; then
    name=OpenTofu
  else
    name=Terraform
  fi
  printf '%s %s\n' "$name" "${version:-unknown}"
}

# count LOG prints "passed skipped failed" for a go test -json log.
count() {
  awk '
    match($0, /"Action":"(pass|fail|skip)"/) {
      action = substr($0, RSTART + 10, RLENGTH - 11)
      pkg = ""; test = ""
      if (match($0, /"Package":"[^"]*"/)) pkg = substr($0, RSTART + 11, RLENGTH - 12)
      if (match($0, /"Test":"[^"]*"/)) test = substr($0, RSTART + 8, RLENGTH - 9)
      if (test == "") { pkgresult[pkg] = action; next }
      key = pkg " " test
      if (!(key in result)) keys[++n] = key
      result[key] = action
      tests_in[pkg]++
    }
    END {
      for (i = 1; i <= n; i++) {
        k = keys[i]; leaf = 1
        for (j = 1; j <= n; j++) {
          if (index(keys[j], k "/") == 1) { leaf = 0; break }
        }
        if (leaf) total[result[k]]++
      }
      # A failed package whose tests all passed failed outside them.
      for (p in pkgresult) {
        if (pkgresult[p] == "fail") {
          failed_inside = 0
          for (i = 1; i <= n; i++) {
            split(keys[i], f, " ")
            if (f[1] == p && result[keys[i]] == "fail") { failed_inside = 1; break }
          }
          if (!failed_inside) total["fail"]++
        }
      }
      printf "%d %d %d\n", total["pass"], total["skip"], total["fail"]
    }' "$1"
}

rows=()
status=0
for path in "${bins[@]}"; do
  read -r tool version < <(tool_of "$path")
  packages=("${acc_packages[@]}")
  env_args=(TF_ACC=1 TF_ACC_TERRAFORM_PATH="$path")
  if [[ "$tool" == OpenTofu ]]; then
    # Providers with no source resolve under OpenTofu's registry host.
    env_args+=(TF_ACC_PROVIDER_HOST=registry.opentofu.org)
  else
    packages+=("${terraform_only_packages[@]}")
  fi
  log="$log_dir/$(tr 'A-Z' 'a-z' <<<"$tool")-$version-$((${#rows[@]} + 1)).json"
  printf '\n==> %s %s (%s): go test %s\n' "$tool" "$version" "$path" "${packages[*]}"
  start=$SECONDS
  # The log keeps every result; the short lines (each failed test, each
  # package's result) show progress meanwhile.
  set +e
  env "${env_args[@]}" go test -json -count=1 -timeout 30m "${packages[@]}" 2>&1 |
    tee "$log" |
    grep --line-buffered -o '"Action":"\(pass\|fail\|skip\)","Package":"[^"]*","Elapsed"\|"Action":"fail","Package":"[^"]*","Test":"[^"]*"' |
    sed -u -e 's/"Action":"\([a-z]*\)","Package":"\([^"]*\)","Test":"\([^"]*\)"/  \1  \2 \3/' \
      -e 's/"Action":"\([a-z]*\)","Package":"\([^"]*\)","Elapsed"/  \1  \2/'
  run_status=${PIPESTATUS[0]}
  set -e
  read -r passed skipped failed < <(count "$log")
  if [[ $run_status -ne 0 && $failed -eq 0 ]]; then
    failed=1 # go test failed without a test or package result: say so
  fi
  if [[ $failed -ne 0 ]]; then
    status=1
  fi
  printf '  %d passed, %d skipped, %d failed in %d s; log: %s\n' \
    "$passed" "$skipped" "$failed" "$((SECONDS - start))" "$log"
  rows+=("$tool|$version|$passed|$skipped|$failed")
done

printf '\n%-10s %-10s %7s %8s %7s\n' tool version passed skipped failed
for row in "${rows[@]}"; do
  IFS='|' read -r tool version passed skipped failed <<<"$row"
  printf '%-10s %-10s %7s %8s %7s\n' "$tool" "$version" "$passed" "$skipped" "$failed"
done
exit "$status"
