#!/usr/bin/env bash
# Build OpenTofu from source through the Go module proxy.
#
# `go install github.com/opentofu/opentofu/cmd/tofu@v1.7.0` and later fail:
# OpenTofu's go.mod has a replace directive (for hcl), which go install
# refuses. Building inside a copy of the module works, since there the
# go.mod is the main module's and its replace directives apply.
#
# Usage: scripts/build-tofu.sh VERSION OUTPUT
#   VERSION  an OpenTofu release tag, such as v1.11.5
#   OUTPUT   path of the tofu binary to write
set -euo pipefail

if [[ $# -ne 2 ]]; then
  echo "usage: $0 VERSION OUTPUT" >&2
  exit 2
fi
version="$1"
output="$2"
case "$output" in
  /*) ;;
  *) output="$PWD/$output" ;;
esac

tmp="$(mktemp -d "${TMPDIR:-/tmp}/build-tofu.XXXXXX")"
trap 'chmod -R u+w "$tmp" 2>/dev/null || true; rm -rf "$tmp"' EXIT

# Outside any module, so the download touches no go.mod or go.sum.
cd "$tmp"
dir="$(GOFLAGS=-mod=mod go mod download -json "github.com/opentofu/opentofu@$version" |
  sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
if [[ -z "$dir" || ! -f "$dir/go.mod" ]]; then
  echo "build-tofu: go mod download gave no module directory for opentofu@$version" >&2
  exit 1
fi

# The module cache is read-only; the build needs a writable copy.
cp -R "$dir" "$tmp/src"
chmod -R u+w "$tmp/src"
cd "$tmp/src"
mkdir -p "$(dirname "$output")"
# version.dev=no drops the "-dev" suffix, so tofu reports the release version
# (terraform-plugin-testing's version checks read it).
go build -trimpath -buildvcs=false \
  -ldflags "-X github.com/opentofu/opentofu/version.dev=no" \
  -o "$output.tmp" ./cmd/tofu
mv "$output.tmp" "$output"
"$output" version
