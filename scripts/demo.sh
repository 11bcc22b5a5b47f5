#!/usr/bin/env bash
# End-to-end demo: the provider, installed from a local filesystem mirror,
# requests a download of the newest snapshot of a Flex cluster from the Atlas
# simulator, Terraform shows the job, the script fetches the archive and
# lists it, then everything is torn down. Nothing leaves this machine: the
# simulator listens on loopback only.
#
# Usage: scripts/demo.sh        (or `make demo`, which also finds terraform)
# Env:   TERRAFORM     terraform binary to use (default: terraform on PATH)
#        DEMO_EXAMPLE  directory under examples/ to apply (default flex-latest;
#                      demo-tenant for an M2/M5 cluster, `make demo-tenant`)
#        DEMO_AUTH     api_key (default) or service_account (`make demo-sa`)
set -euo pipefail

TERRAFORM="${TERRAFORM:-terraform}"
if ! command -v "$TERRAFORM" >/dev/null 2>&1; then
  echo "demo: terraform not found (set TERRAFORM, or run 'make demo' to have one built)" >&2
  exit 1
fi
# An absolute path, since the script changes directories.
TERRAFORM="$(command -v "$TERRAFORM")"
if [[ "$TERRAFORM" != /* ]]; then
  TERRAFORM="$PWD/$TERRAFORM"
fi

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo_root"

# Terraform only accepts semantic versions for providers in a mirror.
provider_version="0.1.0"
provider_addr="registry.terraform.io/atlas-community/atlas"
# Demo keys: the simulator is started with these and the provider reads them
# from the same environment variables it reads for real Atlas.
public_key="demopubkey"
private_key="demo-private-key-0000"
# DEMO_AUTH=service_account authenticates with a service account (OAuth 2.0
# client credentials) instead of the API key.
client_id="mdb_sa_id_demo0000000000000000000"
client_secret="mdb_sa_sk_demo-secret-0000"
auth="${DEMO_AUTH:-api_key}"
case "$auth" in
  api_key | service_account) ;;
  *) echo "demo: DEMO_AUTH must be api_key or service_account, not $auth" >&2; exit 1 ;;
esac

color_args=()
if [[ ! -t 1 || -n "${NO_COLOR:-}" ]]; then
  color_args=(-no-color)
fi

step() { printf '\n==> %s\n' "$*"; }

tmp="$(mktemp -d "${TMPDIR:-/tmp}/atlas-demo.XXXXXX")"
sim_pid=""
ticker_pid=""
cleanup() {
  local status=$?
  if [[ -n "$ticker_pid" ]]; then
    kill "$ticker_pid" 2>/dev/null || true
    wait "$ticker_pid" 2>/dev/null || true
  fi
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

# long WHAT CMD...: runs CMD and says every 15 seconds that it still runs, so
# a build on an empty Go cache (a minute or two) does not look like a hang.
long() {
  local what="$1"
  shift
  # The sleep gets no stdout and dies with the ticker, so that nothing holds
  # a pipe the demo writes to once it is done.
  (
    nap=""
    trap '[[ -n "$nap" ]] && kill "$nap" 2>/dev/null; exit 0' TERM
    elapsed=0
    while :; do
      sleep 15 >/dev/null 2>&1 </dev/null &
      nap=$!
      wait "$nap"
      elapsed=$((elapsed + 15))
      printf '    still %s (%ds so far)\n' "$what" "$elapsed"
    done
  ) &
  ticker_pid=$!
  local status=0
  "$@" || status=$?
  kill "$ticker_pid" 2>/dev/null || true
  wait "$ticker_pid" 2>/dev/null || true
  ticker_pid=""
  return "$status"
}

# write_helper writes a small Go program for the steps that would otherwise
# need curl or jq: `fetch FILE` saves the URL read from stdin (used only
# when there is no curl), `stats URL` prints the simulator's counts as a
# table.
write_helper() {
  cat >"$tmp/helper/main.go" <<'EOF'
package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
)

func main() {
	var err error
	switch {
	case len(os.Args) == 3 && os.Args[1] == "fetch":
		err = fetch(os.Args[2])
	case len(os.Args) == 3 && os.Args[1] == "stats":
		err = stats(os.Args[2])
	default:
		err = errors.New("usage: demo-helper fetch FILE <url | demo-helper stats URL")
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "demo-helper:", err)
		os.Exit(1)
	}
}

// get returns the body of a 200 answer. Errors never include the URL: a
// download link carries a token.
func get(rawURL string) (io.ReadCloser, error) {
	resp, err := http.Get(rawURL)
	if err != nil {
		var uerr *url.Error
		if errors.As(err, &uerr) {
			return nil, uerr.Err
		}
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		return nil, fmt.Errorf("the server answered %s", resp.Status)
	}
	return resp.Body, nil
}

func fetch(path string) error {
	raw, err := io.ReadAll(os.Stdin)
	if err != nil {
		return err
	}
	body, err := get(strings.TrimSpace(string(raw)))
	if err != nil {
		return err
	}
	defer body.Close()
	out, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, body); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// stats reads only the fields it prints, so that new fields in
// /__sim/stats do not break the demo.
func stats(rawURL string) error {
	body, err := get(rawURL)
	if err != nil {
		return err
	}
	defer body.Close()
	var st struct {
		TotalRequests    int64                       `json:"totalRequests"`
		DigestChallenges int64                       `json:"digestChallenges"`
		TokenRequests    int64                       `json:"tokenRequests"`
		Routes           map[string]map[string]int64 `json:"routes"`
		Faults           map[string]int64            `json:"faults"`
		JobsCreated      map[string]int64            `json:"jobsCreated"`
	}
	if err := json.NewDecoder(body).Decode(&st); err != nil {
		return fmt.Errorf("reading the stats: %w", err)
	}
	var codes []string
	for _, byCode := range st.Routes {
		for code := range byCode {
			if !slices.Contains(codes, code) {
				codes = append(codes, code)
			}
		}
	}
	slices.Sort(codes)
	routes := make([]string, 0, len(st.Routes))
	for route := range st.Routes {
		routes = append(routes, route)
	}
	// By path, then method: the calls on one endpoint stay together.
	slices.SortFunc(routes, func(a, b string) int {
		_, pa, _ := strings.Cut(a, " ")
		_, pb, _ := strings.Cut(b, " ")
		if c := strings.Compare(pa, pb); c != 0 {
			return c
		}
		return strings.Compare(a, b)
	})
	w := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprint(w, "  ")
	for _, code := range codes {
		fmt.Fprintf(w, "%s\t", code)
	}
	fmt.Fprintln(w, "\troute")
	for _, route := range routes {
		fmt.Fprint(w, "  ")
		for _, code := range codes {
			if n := st.Routes[route][code]; n > 0 {
				fmt.Fprintf(w, "%d\t", n)
			} else {
				fmt.Fprint(w, "-\t")
			}
		}
		fmt.Fprintf(w, "\t%s\n", route)
	}
	if err := w.Flush(); err != nil {
		return err
	}
	var jobs, faults int64
	for _, n := range st.JobsCreated {
		jobs += n
	}
	for _, n := range st.Faults {
		faults += n
	}
	auth := fmt.Sprintf("%d were digest challenges (401 until the provider signs its request)", st.DigestChallenges)
	if st.TokenRequests > 0 {
		auth = fmt.Sprintf("%d asked for a service-account token", st.TokenRequests)
	}
	fmt.Printf("  %d requests: %s, %d injected faults; %d download job(s) created\n",
		st.TotalRequests, auth, faults, jobs)
	return nil
}
EOF
}

os_arch="$(go env GOOS)_$(go env GOARCH)"
mirror="$tmp/mirror"
plugin_dir="$mirror/$provider_addr/$provider_version/$os_arch"
workdir="$tmp/work"
mkdir -p "$plugin_dir" "$workdir" "$tmp/helper"

step "Building the provider (v$provider_version, $os_arch) into a local mirror"
echo "(seconds with a warm Go build cache; a minute or two the first time, while Go downloads and compiles the dependencies)"
long "building the provider" \
  go build -trimpath -ldflags "-X main.version=$provider_version" \
  -o "$plugin_dir/terraform-provider-atlas_v$provider_version" .

step "Building and starting the Atlas simulator"
long "building the simulator" go build -trimpath -o "$tmp/atlas-sim" ./cmd/atlas-sim
write_helper
# Built outside the module: it needs only the standard library.
long "building the demo helper" go -C "$tmp/helper" build -trimpath -o "$tmp/demo-helper" main.go
"$tmp/atlas-sim" -addr 127.0.0.1:0 -public-key "$public_key" -private-key "$private_key" \
  -client-id "$client_id" -client-secret "$client_secret" \
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
unset MONGODB_ATLAS_PUBLIC_KEY MONGODB_ATLAS_PRIVATE_KEY MONGODB_ATLAS_PUBLIC_API_KEY MONGODB_ATLAS_PRIVATE_API_KEY \
  MONGODB_ATLAS_CLIENT_ID MONGODB_ATLAS_CLIENT_SECRET MONGODB_ATLAS_ACCESS_TOKEN
if [[ "$auth" == service_account ]]; then
  echo "authentication: service account $client_id (MONGODB_ATLAS_CLIENT_ID, MONGODB_ATLAS_CLIENT_SECRET)"
  export MONGODB_ATLAS_CLIENT_ID="$client_id"
  export MONGODB_ATLAS_CLIENT_SECRET="$client_secret"
else
  echo "authentication: API key $public_key (MONGODB_ATLAS_PUBLIC_KEY, MONGODB_ATLAS_PRIVATE_KEY)"
  export MONGODB_ATLAS_PUBLIC_KEY="$public_key"
  export MONGODB_ATLAS_PRIVATE_KEY="$private_key"
fi

# The whole examples/ tree is copied so relative module sources work.
example="${DEMO_EXAMPLE:-flex-latest}"
if [[ ! -d "examples/$example" ]]; then
  echo "demo: no example named $example under examples/" >&2
  exit 1
fi
cp -R examples "$workdir/"
cd "$workdir/examples/$example"

# A provider installed from a mirror comes without the registry's signed
# checksums for every platform, so an init that writes the lock file warns
# ("Incomplete lock file information"). Writing the lock file first, from the
# mirror and for this platform only, is what that warning asks for; init then
# reuses it quietly. Modules come first: providers lock reads the whole
# configuration.
step "terraform providers lock: record the mirrored provider's checksum in .terraform.lock.hcl"
lock_log="$tmp/lock.log"
if ! "$TERRAFORM" get -no-color >"$lock_log" 2>&1 ||
  ! "$TERRAFORM" providers lock -no-color -fs-mirror="$mirror" -platform="$os_arch" >>"$lock_log" 2>&1; then
  cat "$lock_log" >&2
  exit 1
fi
sed -n 's/^provider "\(.*\)" {$/locked: \1/p' .terraform.lock.hcl

step "terraform init (provider from the local mirror)"
"$TERRAFORM" init ${color_args[@]+"${color_args[@]}"}

step "terraform apply: request a download of the newest snapshot"
"$TERRAFORM" apply -auto-approve ${color_args[@]+"${color_args[@]}"}

step "terraform output (snapshot_url is sensitive, so Terraform prints <sensitive>)"
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
  printf '%s\n' "$snapshot_url" | "$tmp/demo-helper" fetch "$archive"
fi
unset snapshot_url escaped
echo "archive size: $(wc -c <"$archive" | tr -d ' ') bytes"
echo "archive contents:"
tar tzf "$archive" | sed 's/^/  /'

step "terraform destroy (Atlas cannot delete a download job: this only forgets it)"
"$TERRAFORM" destroy -auto-approve ${color_args[@]+"${color_args[@]}"}

step "What the simulator saw: requests per route and HTTP status (GET /__sim/stats)"
"$tmp/demo-helper" stats "$base_url/__sim/stats"

step "Stopping the simulator and removing temporary files"
kill "$sim_pid" 2>/dev/null || true
wait "$sim_pid" 2>/dev/null || true
sim_pid=""
echo "done"
