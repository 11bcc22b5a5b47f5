// SPDX-License-Identifier: MPL-2.0

package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/atlas-community/terraform-provider-atlas/internal/atlassim"
)

const providerAddr = "registry.terraform.io/atlas-community/atlas"

// Credentials for the provider's environment: the simulator's defaults.
var (
	apiKey         = []string{"MONGODB_ATLAS_PUBLIC_KEY=" + atlassim.DefaultPublicKey, "MONGODB_ATLAS_PRIVATE_KEY=" + atlassim.DefaultPrivateKey}
	serviceAccount = []string{"MONGODB_ATLAS_CLIENT_ID=" + atlassim.DefaultClientID, "MONGODB_ATLAS_CLIENT_SECRET=" + atlassim.DefaultClientSecret}
)

// env is what the sections that run Terraform share: the provider built as
// a release builds it, and two CLI configurations that install it from
// filesystem mirrors, directly (rc) or through the wrapper of wrap.go
// (rcWrapped), which costs a process start and records what the provider
// processes used.
type env struct {
	o             options
	tmp           string
	provider      string
	rc, rcWrapped string
	wrapOut       string
	tfVersion     string
}

func newEnv(ctx context.Context, o options, tmp string) (*env, error) {
	e := &env{o: o, tmp: tmp, wrapOut: filepath.Join(tmp, "wrap.txt")}
	var err error
	if e.tfVersion, err = terraformVersion(ctx, o.terraform); err != nil {
		return nil, err
	}
	plugin := filepath.Join(providerAddr, "0.1.0", runtime.GOOS+"_"+runtime.GOARCH, "terraform-provider-atlas_v0.1.0")
	e.provider = filepath.Join(tmp, "mirror", plugin)
	logf("building the provider as .goreleaser.yml does")
	build := exec.CommandContext(ctx, "go", "build", "-trimpath", "-ldflags", "-s -w -X main.version=0.1.0", "-o", e.provider, ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("go build: %w\n%s", err, out)
	}
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	wrapper := filepath.Join(tmp, "mirror-wrapped", plugin)
	data, err := os.ReadFile(self)
	if err == nil {
		err = os.MkdirAll(filepath.Dir(wrapper), 0o750)
	}
	if err == nil {
		err = os.WriteFile(wrapper, data, 0o700) //nolint:gosec // a program Terraform runs
	}
	if err != nil {
		return nil, err
	}
	e.rc, e.rcWrapped = filepath.Join(tmp, "mirror.rc"), filepath.Join(tmp, "mirror-wrapped.rc")
	for rc, mirror := range map[string]string{e.rc: "mirror", e.rcWrapped: "mirror-wrapped"} {
		text := fmt.Sprintf("provider_installation {\n  filesystem_mirror {\n    path    = %q\n    include = [%q]\n  }\n  direct {\n    exclude = [%q]\n  }\n}\n",
			filepath.Join(tmp, mirror), providerAddr, providerAddr)
		if err := os.WriteFile(rc, []byte(text), 0o600); err != nil {
			return nil, err
		}
	}
	return e, nil
}

// terraformVersion is the version `terraform version -json` reports.
func terraformVersion(ctx context.Context, terraform string) (string, error) {
	out, err := exec.CommandContext(ctx, terraform, "version", "-json").Output() //nolint:gosec // the terraform the caller chose
	var v struct {
		Version string `json:"terraform_version"`
	}
	if err == nil {
		err = json.Unmarshal(out, &v)
	}
	if err == nil && v.Version == "" {
		err = errors.New("no terraform_version")
	}
	if err != nil {
		return "", fmt.Errorf("%s version -json: %w", terraform, err)
	}
	return v.Version, nil
}

// workDir writes config to a new directory and runs terraform init there
// with the CLI configuration rc, which the directory keeps using.
func (e *env) workDir(ctx context.Context, name, rc, config string) (string, error) {
	dir := filepath.Join(e.tmp, name)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return "", err
	}
	if err := os.WriteFile(filepath.Join(dir, "main.tf"), []byte(config), 0o600); err != nil {
		return "", err
	}
	_, _, err := e.tf(ctx, dir, rc, nil, "init", "-input=false")
	return dir, err
}

// tf runs one terraform command in dir, with the CLI configuration rc and
// vars added to a clean environment, and returns its standard output and
// wall time in seconds.
func (e *env) tf(ctx context.Context, dir, rc string, vars []string, args ...string) ([]byte, float64, error) {
	cmd := exec.CommandContext(ctx, e.o.terraform, args...) //nolint:gosec // the terraform the caller chose
	cmd.Dir = dir
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "TF_") && !strings.HasPrefix(kv, "MONGODB_ATLAS_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, "TF_CLI_CONFIG_FILE="+rc, "TF_IN_AUTOMATION=1", "TF_INPUT=0", "TF_CLI_ARGS=-no-color", "CHECKPOINT_DISABLE=1")
	cmd.Env = append(cmd.Env, vars...)
	if rc == e.rcWrapped {
		cmd.Env = append(cmd.Env, wrapEnvReal+"="+e.provider, wrapEnvOut+"="+e.wrapOut)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	seconds := time.Since(start).Seconds()
	if err != nil {
		return nil, seconds, fmt.Errorf("terraform %s in %s: %w\n%s%s", strings.Join(args, " "), filepath.Base(dir), err, tail(stdout.Bytes()), tail(stderr.Bytes()))
	}
	return stdout.Bytes(), seconds, nil
}

func tail(b []byte) []byte { return b[max(0, len(b)-3000):] }

// removeState forgets what an apply in dir created, for the next one.
func removeState(dir string) {
	_ = os.Remove(filepath.Join(dir, "terraform.tfstate"))
	_ = os.Remove(filepath.Join(dir, "terraform.tfstate.backup"))
}

// providerRSS reads and clears what the wrapper recorded since the last
// call: one peak RSS in KiB per provider process.
func (e *env) providerRSS() []int64 {
	data, _ := os.ReadFile(e.wrapOut)
	_ = os.Remove(e.wrapOut)
	var out []int64
	for _, f := range strings.Fields(string(data)) {
		var kib int64
		if _, err := fmt.Sscan(f, &kib); err == nil {
			out = append(out, kib)
		}
	}
	return out
}

// sim is a running atlas-sim.
type sim struct {
	cmd *exec.Cmd
	url string
}

// startSim starts atlas-sim on a free loopback port with the extra flags.
func (e *env) startSim(ctx context.Context, extra ...string) (*sim, error) {
	r, w, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, e.o.simBin, append([]string{"-addr", "127.0.0.1:0", "-quiet"}, extra...)...) //nolint:gosec // the simulator the caller chose
	cmd.Stdout, cmd.Stderr = w, os.Stderr
	err = cmd.Start()
	_ = w.Close()
	if err != nil {
		return nil, err
	}
	s := &sim{cmd: cmd}
	br := bufio.NewReader(r)
	line, _ := br.ReadString('\n')
	go func() { // a simulator writing to a closed pipe would die of SIGPIPE
		_, _ = io.Copy(io.Discard, br)
		_ = r.Close()
	}()
	url, ok := strings.CutPrefix(strings.TrimSpace(line), "ATLAS_SIM_BASE_URL=")
	if !ok {
		s.stop()
		return nil, fmt.Errorf("%s printed %q first, not ATLAS_SIM_BASE_URL", e.o.simBin, line)
	}
	s.url = url
	return s, nil
}

// stats is the simulator's /__sim/stats.
func (s *sim) stats(ctx context.Context) (atlassim.Stats, error) {
	var st atlassim.Stats
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.url+"/__sim/stats", nil)
	if err != nil {
		return st, err
	}
	req.Close = true // a connection kept idle through a long command may be closed under it
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return st, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return st, fmt.Errorf("GET /__sim/stats: %s", resp.Status)
	}
	return st, json.NewDecoder(resp.Body).Decode(&st)
}

func (s *sim) stop() {
	_ = s.cmd.Process.Signal(os.Interrupt)
	_ = s.cmd.Wait() // an interrupted simulator exits non-zero
}

// spread is a median with the smallest and largest value.
type spread struct{ med, lo, hi float64 }

func spreadOf(vs []float64) spread {
	if len(vs) == 0 {
		return spread{math.NaN(), math.NaN(), math.NaN()}
	}
	s := slices.Sorted(slices.Values(vs))
	return spread{(s[(len(s)-1)/2] + s[len(s)/2]) / 2, s[0], s[len(s)-1]}
}

// format writes the median, and the range when it is not one value.
func (s spread) format(verb string) string {
	med, lo, hi := fmt.Sprintf(verb, s.med), fmt.Sprintf(verb, s.lo), fmt.Sprintf(verb, s.hi)
	if lo == hi {
		return med
	}
	return fmt.Sprintf("%s (%s–%s)", med, lo, hi)
}

// table writes a markdown table and a blank line.
func table(w io.Writer, header []string, rows ...[]string) {
	fmt.Fprintf(w, "| %s |\n|%s\n", strings.Join(header, " | "), strings.Repeat("---|", len(header)))
	for _, r := range rows {
		fmt.Fprintf(w, "| %s |\n", strings.Join(r, " | "))
	}
	fmt.Fprintln(w)
}
