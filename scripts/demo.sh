#!/usr/bin/env bash
# End-to-end demo: the provider, installed from a local filesystem mirror,
# requests a snapshot download from the Atlas simulator, Terraform shows the
# job, the script fetches the archive and lists it, then everything is torn
# down. Nothing leaves this machine: the simulator listens on loopback only.
#
# Usage: scripts/demo.sh        (or `make demo`, which also finds terraform)
# Env:   TERRAFORM  terraform binary to use (default: terraform on PATH)
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo_root"

TERRAFORM="${TERRAFORM:-terraform}"
if ! command -v "$TERRAFORM" >/dev/null 2>&1; then
  echo "demo: terraform not found (set TERRAFORM, or run 'make demo' to have one built)" >&2
  exit 1
fi

# Terraform only accepts semantic versions for providers in a mirror.
provider_version="0.1.0"
provider_addr="registry.terraform.io/atlas-community/atlas"
# Demo keys: the simulator is started with these and the provider reads them
# from the same environment variables it reads for real Atlas.
public_key="demopubkey"
private_key="demo-private-key-0000"

color_args=()
if [[ ! -t 1 || -n "${NO_COLOR:-}" ]]; then
  color_args=(-no-color)
fi

step() { printf '\n==> %s\n' "$*"; }

tmp="$(mktemp -d "${TMPDIR:-/tmp}/atlas-demo.XXXXXX")"
sim_pid=""
cleanup() {
  local status=$?
  if [[ -n "$sim_pid" ]] && kill -0 "$sim_pid" 2>/dev/null; then
    kill "$sim_pid" 2>/dev/null || true
    wait "$sim_pid" 2>/dev/null || true
  fi
  rm -rf "$tmp"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

os_arch="$(go env GOOS)_$(go env GOARCH)"
mirror="$tmp/mirror"
plugin_dir="$mirror/$provider_addr/$provider_version/$os_arch"
workdir="$tmp/work"
mkdir -p "$plugin_dir" "$workdir"

step "Building the provider (v$provider_version, $os_arch) into a local mirror"
go build -trimpath -ldflags "-X main.version=$provider_version" \
  -o "$plugin_dir/terraform-provider-atlas_v$provider_version" .

step "Building and starting the Atlas simulator"
go build -trimpath -o "$tmp/atlas-sim" ./cmd/atlas-sim
"$tmp/atlas-sim" -addr 127.0.0.1:0 -public-key "$public_key" -private-key "$private_key" \
  >"$tmp/sim.out" 2>"$tmp/sim.err" &
sim_pid=$!

base_url=""
for _ in $(seq 1 100); do
  base_url="$(sed -n 's/^ATLAS_SIM_BASE_URL=//p' "$tmp/sim.out" | head -n 1)"
  [[ -n "$base_url" ]] && break
  if ! kill -0 "$sim_pid" 2>/dev/null; then
    echo "demo: the simulator exited early:" >&2
    cat "$tmp/sim.err" >&2
    exit 1
  fi
  sleep 0.1
done
if [[ -z "$base_url" ]]; then
  echo "demo: the simulator did not print ATLAS_SIM_BASE_URL within 10s" >&2
  exit 1
fi
echo "simulator: $base_url (pid $sim_pid)"

cat >"$tmp/terraform.rc" <<EOF
provider_installation {
  filesystem_mirror {
    path    = "$mirror"
    include = ["$provider_addr"]
  }
}
EOF
export TF_CLI_CONFIG_FILE="$tmp/terraform.rc"
export TF_IN_AUTOMATION=1
export TF_INPUT=0
export CHECKPOINT_DISABLE=1
export TF_VAR_base_url="$base_url"
export MONGODB_ATLAS_PUBLIC_KEY="$public_key"
export MONGODB_ATLAS_PRIVATE_KEY="$private_key"

# DEMO_EXAMPLE picks another runnable example under examples/ (such as
# flex-latest); the whole tree is copied so relative module sources work.
example="${DEMO_EXAMPLE:-demo}"
if [[ ! -d "examples/$example" ]]; then
  echo "demo: no example named $example under examples/" >&2
  exit 1
fi
cp -R examples "$workdir/"
cd "$workdir/examples/$example"

step "terraform init (provider from the local mirror)"
"$TERRAFORM" init ${color_args[@]+"${color_args[@]}"}

step "terraform apply: request a download of the newest snapshot"
"$TERRAFORM" apply -auto-approve ${color_args[@]+"${color_args[@]}"}

step "terraform output (snapshot_url is sensitive, so Terraform hides it)"
"$TERRAFORM" output ${color_args[@]+"${color_args[@]}"}

step "Fetching the snapshot archive (the URL is never printed)"
archive="$tmp/snapshot.tar.gz"
snapshot_url="$("$TERRAFORM" output -raw snapshot_url)"
if [[ -z "$snapshot_url" ]]; then
  echo "demo: the download job has no snapshot_url yet" >&2
  exit 1
fi
if command -v curl >/dev/null 2>&1; then
  # The URL goes to curl on stdin as a config file, so it stays out of argv.
  escaped="${snapshot_url//\\/\\\\}"
  escaped="${escaped//\"/\\\"}"
  printf 'url = "%s"\n' "$escaped" | curl -fsS -K - -o "$archive"
else
  mkdir -p "$tmp/fetch"
  cat >"$tmp/fetch/main.go" <<'EOF'
// fetch reads a URL on stdin and saves the body to the file named in argv.
// Errors never include the URL: it carries a download token.
package main

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
)

func main() {
	if err := fetch(os.Args[1]); err != nil {
		fmt.Fprintln(os.Stderr, "fetch:", err)
		os.Exit(1)
	}
}

func fetch(path string) error {
	raw, err := io.ReadAll(os.Stdin)
	if err != nil {
		return err
	}
	resp, err := http.Get(strings.TrimSpace(string(raw)))
	if err != nil {
		var uerr *url.Error
		if errors.As(err, &uerr) {
			return uerr.Err
		}
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("download answered %s", resp.Status)
	}
	out, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, resp.Body); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
EOF
  printf '%s\n' "$snapshot_url" | go run "$tmp/fetch/main.go" "$archive"
fi
unset snapshot_url escaped
echo "archive size: $(wc -c <"$archive" | tr -d ' ') bytes"
echo "archive contents:"
tar tzf "$archive" | sed 's/^/  /'

step "terraform destroy (Atlas cannot delete a download job: this only forgets it)"
"$TERRAFORM" destroy -auto-approve ${color_args[@]+"${color_args[@]}"}

if command -v curl >/dev/null 2>&1; then
  step "Simulator request counts (GET /__sim/stats)"
  curl -fsS "$base_url/__sim/stats"
  echo
fi

step "Stopping the simulator and removing temporary files"
kill "$sim_pid" 2>/dev/null || true
wait "$sim_pid" 2>/dev/null || true
sim_pid=""
echo "done"
