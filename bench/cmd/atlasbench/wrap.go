// SPDX-License-Identifier: MPL-2.0

package main

import (
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"syscall"
)

// A Terraform command's own peak RSS is that of its largest process,
// Terraform itself, so the provider's is read through a wrapper: one
// mirror holds a copy of this program in place of the provider. Started by
// Terraform with these variables set, it runs the real provider as its
// child, passes the plugin handshake through untouched, and appends the
// child's peak RSS (KiB) to a file when it exits: one line per provider
// process, which also counts them.
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
	if f, ferr := os.OpenFile(os.Getenv(wrapEnvOut), os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600); ferr == nil {
		fmt.Fprintln(f, maxRSSKiB(cmd.ProcessState))
		_ = f.Close()
	}
	if err != nil {
		return max(cmd.ProcessState.ExitCode(), 1)
	}
	return 0
}
