#!/usr/bin/env bash
# Build Terraform from source through the Go module proxy, for Terraform
# releases that `go install` refuses (1.14 and later; see below).
#
# `go install github.com/hashicorp/terraform@v1.15.9` fails: Terraform's
# go.mod has replace directives (for nested modules under internal/), which
# go install refuses. Building inside a copy of the module gets past that,
# but the proxy's source archive of a module leaves its nested modules out
# (each has its own go.mod), so the replace directives point at directories
# that are not there. The script drops those replace directives and their
# requires from go.mod, and cuts from internal/backend/init/init.go the
# remote-state backends those modules provide (azurerm, consul, cos, gcs,
# kubernetes, oci, oss, pg and s3 in 1.14 and 1.15; 1.15 also drops
# internal/legacy, which only tests import). The binary keeps the local,
# remote, cloud, http and inmem backends: enough for the provider's tests,
# which use the local one. It is a test tool, not a Terraform to ship.
#
# Go's own output (a hundred "go: downloading" lines on an empty module
# cache) goes to a log that is shown only when the build fails.
#
# Usage: scripts/build-terraform.sh VERSION OUTPUT
#   VERSION  a Terraform release tag, such as v1.15.9
#   OUTPUT   path of the terraform binary to write
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
module=github.com/hashicorp/terraform

tmp="$(mktemp -d "${TMPDIR:-/tmp}/build-terraform.XXXXXX")"
trap 'chmod -R u+w "$tmp" 2>/dev/null || true; rm -rf "$tmp"' EXIT
log="$tmp/build.log"

# Outside any module, so the download touches no go.mod or go.sum.
cd "$tmp"
# A failure is reported in the JSON ("Error"), with the exit status.
info="$(GOFLAGS=-mod=mod go mod download -json "$module@$version" 2>>"$log")" || true
dir="$(sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p' <<<"$info")"
if [[ -z "$dir" || ! -f "$dir/go.mod" ]]; then
  cat "$log" >&2
  sed -n 's/^[[:space:]]*"Error": "\(.*\)",*$/\1/p' <<<"$info" >&2
  echo "build-terraform: go mod download gave no module directory for terraform@$version" >&2
  exit 1
fi

# The module cache is read-only; the build needs a writable copy.
cp -R "$dir" "$tmp/src"
chmod -R u+w "$tmp/src"
cd "$tmp/src"

# Replace directives whose target is a local directory the archive lacks:
# "OLD NEW" per line, from go.mod's JSON form.
missing=()
while read -r old new; do
  [[ -n "$old" ]] || continue
  case "$new" in
    ./* | ../*) ;;
    *) continue ;;
  esac
  if [[ ! -f "$new/go.mod" ]]; then
    missing+=("$old")
  fi
done < <(go mod edit -json |
  tr -d '\n\t ' |
  grep -o '"Old":{"Path":"[^"]*"[^}]*},"New":{"Path":"[^"]*"' |
  sed 's/^"Old":{"Path":"\([^"]*\)"[^}]*},"New":{"Path":"\([^"]*\)"$/\1 \2/')

init_go=internal/backend/init/init.go
if [[ ${#missing[@]} -gt 0 ]]; then
  echo "build-terraform: leaving out the nested modules the source archive lacks:" "${missing[@]##*/}"
fi
for mod in "${missing[@]}"; do
  go mod edit -dropreplace="$mod" -droprequire="$mod"
  # A remote-state backend: cut its import and its entry from the backends
  # map, found by the import's alias (backendS3 "…/remote-state/s3").
  alias="$(sed -n 's|^[[:space:]]*\([A-Za-z0-9_]*\)[[:space:]]*"'"$mod"'"$|\1|p' "$init_go")"
  if [[ -n "$alias" ]]; then
    sed -i -e '\|"'"$mod"'"$|d' -e "/[^A-Za-z0-9_]$alias\.New(/d" "$init_go"
  fi
done

# Anything else still importing a dropped module would fail the build with
# a less helpful message; say which file it is.
status=0
for mod in "${missing[@]}"; do
  if users="$(grep -rl --include='*.go' --exclude='*_test.go' "\"$mod[\"/]" . 2>/dev/null)"; then
    echo "build-terraform: $mod is dropped but still imported by:" >&2
    echo "$users" >&2
    status=1
  fi
done
[[ $status -eq 0 ]] || exit 1

mkdir -p "$(dirname "$output")"
# version.dev=no drops the "-dev" suffix, so terraform reports the release
# version (terraform-plugin-testing's version checks read it).
if ! go build -trimpath -buildvcs=false \
  -ldflags "-X $module/version.dev=no" \
  -o "$output.tmp" . >>"$log" 2>&1; then
  cat "$log" >&2
  echo "build-terraform: go build of terraform@$version failed (output above)" >&2
  exit 1
fi
want="${version#v}"
got="$("$output.tmp" version -json | sed -n 's/^ *"terraform_version": *"\([^"]*\)".*/\1/p')"
if [[ "$got" != "$want" ]]; then
  echo "build-terraform: the binary reports terraform_version \"$got\", not \"$want\"" >&2
  exit 1
fi
mv "$output.tmp" "$output"
"$output" version
