// SPDX-License-Identifier: MPL-2.0

package main

import (
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"syscall"
	"time"
)

// The provider's own peak memory cannot be read from Terraform's: the
// rusage of a command is that of its largest process. So one mirror holds a
// copy of this program in place of the provider; started by Terraform with
// these variables set, it runs the real provider as its child, passes the
// plugin handshake through untouched, and appends the child's peak RSS to a
// file when it exits.
const (
	wrapEnvReal = "ATLASBENCH_WRAP_REAL"
	wrapEnvOut  = "ATLASBENCH_WRAP_OUT"
)

func wrapProvider(provider string) int {
	cmd := exec.Command(provider, os.Args[1:]...) //nolint:gosec,noctx // runs for as long as Terraform wants the provider
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, wrapEnvReal+"=") && !strings.HasPrefix(kv, wrapEnvOut+"=") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	started := time.Now()
	if err := cmd.Start(); err != nil {
		fmt.Fprintln(os.Stderr, "atlasbench wrapper:", err)
		return 1
	}
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		for s := range sigs {
			_ = cmd.Process.Signal(s)
		}
	}()
	err := cmd.Wait()
	signal.Stop(sigs)
	if out := os.Getenv(wrapEnvOut); out != "" {
		if f, ferr := os.OpenFile(out, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600); ferr == nil { //nolint:gosec // the harness names the file
			fmt.Fprintf(f, "%d %d %d\n", maxRSSKiB(cmd.ProcessState), time.Since(started).Microseconds(),
				cpuTime(cmd.ProcessState).Microseconds())
			_ = f.Close()
		}
	}
	if err != nil {
		if cmd.ProcessState != nil && cmd.ProcessState.ExitCode() > 0 {
			return cmd.ProcessState.ExitCode()
		}
		return 1
	}
	return 0
}
