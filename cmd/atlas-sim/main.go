// Command atlas-sim serves the Atlas API simulator (internal/atlassim) on a
// loopback address, for people and scripts.
//
// After it listens it prints one machine-readable line,
//
//	ATLAS_SIM_BASE_URL=http://127.0.0.1:8080
//
// so that `-addr 127.0.0.1:0` can be used and the port read back.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/atlas-community/terraform-provider-atlas/internal/atlassim"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	switch {
	case errors.Is(err, flag.ErrHelp):
		os.Exit(0)
	case errors.Is(err, errUsage):
		os.Exit(2)
	case err != nil:
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

// errUsage is a bad command line; flag has already explained it.
var errUsage = errors.New("atlas-sim: usage error")

const maxRequestBody = 1 << 20

// run parses args, starts the simulator and serves until ctx ends.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("atlas-sim", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:8080", "listen address (host:port); port 0 picks a free port")
	seedFile := fs.String("seed", "", "seed `file` (JSON); empty means the built-in default seed")
	publicKey := fs.String("public-key", atlassim.DefaultPublicKey, "API public key (digest user name)")
	privateKey := fs.String("private-key", atlassim.DefaultPrivateKey, "API private key (digest password)")
	queuedFor := fs.Duration("queued-for", 0, "how long a new download job stays QUEUED")
	runningFor := fs.Duration("running-for", 0, "how long a download job then stays RUNNING")
	allowNonLoopback := fs.Bool("allow-non-loopback", false, "allow listening on a non-loopback address")
	quiet := fs.Bool("quiet", false, "do not log requests to stderr")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: atlas-sim [flags]\n\nServes a simulated Atlas Administration API v1.0 (tenant backup endpoints).\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return errUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "atlas-sim: unexpected arguments: %s\n", strings.Join(fs.Args(), " "))
		fs.Usage()
		return errUsage
	}
	if *queuedFor < 0 || *runningFor < 0 {
		return errors.New("atlas-sim: -queued-for and -running-for must not be negative")
	}
	if *publicKey == "" || *privateKey == "" {
		return errors.New("atlas-sim: -public-key and -private-key must not be empty")
	}

	loopback, err := isLoopbackAddr(*addr)
	if err != nil {
		return fmt.Errorf("atlas-sim: -addr %q: %w", *addr, err)
	}
	if !loopback {
		if !*allowNonLoopback {
			return fmt.Errorf("atlas-sim: refusing to listen on non-loopback address %q: the simulator accepts well-known keys; pass -allow-non-loopback to do it anyway", *addr)
		}
		fmt.Fprintf(stderr, "atlas-sim: WARNING: listening on non-loopback address %q; anyone who can reach it can use the simulator keys\n", *addr)
	}

	var seed *atlassim.Seed
	if *seedFile != "" {
		seed, err = atlassim.LoadSeedFile(*seedFile)
		if err != nil {
			// LoadSeedFile errors start with the file name.
			return fmt.Errorf("atlas-sim: seed %w", err)
		}
	} else {
		seed = atlassim.DefaultSeed()
	}

	cfg := atlassim.Config{
		PublicKey:  *publicKey,
		PrivateKey: *privateKey,
		Seed:       seed,
		QueuedFor:  *queuedFor,
		RunningFor: *runningFor,
	}
	if !*quiet {
		logger := log.New(stderr, "atlas-sim: ", log.LstdFlags)
		cfg.Logf = logger.Printf
	}
	sim, err := atlassim.New(cfg)
	if err != nil {
		return fmt.Errorf("atlas-sim: %w", err)
	}

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("atlas-sim: %w", err)
	}
	srv := &http.Server{
		Handler:           limitBody(sim),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      2 * time.Minute,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          log.New(stderr, "atlas-sim: http: ", log.LstdFlags),
	}

	baseURL := "http://" + ln.Addr().String()
	fmt.Fprintf(stdout, "ATLAS_SIM_BASE_URL=%s\n", baseURL)
	where := "loopback"
	if !loopback {
		where = "a NON-loopback address"
	}
	projectIDs := make([]string, 0, len(seed.Projects))
	for _, p := range seed.Projects {
		projectIDs = append(projectIDs, p.ID)
	}
	fmt.Fprintf(stdout, "atlas-sim listening on %s at %s; public key %q, simulator private key %q; project ids: %s\n",
		where, baseURL, *publicKey, *privateKey, strings.Join(projectIDs, ", "))

	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	select {
	case err := <-serveErr:
		return fmt.Errorf("atlas-sim: %w", err)
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("atlas-sim: shutting down: %w", err)
	}
	if err := <-serveErr; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("atlas-sim: %w", err)
	}
	return nil
}

// limitBody caps request bodies before the simulator reads them.
func limitBody(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, maxRequestBody)
		h.ServeHTTP(w, r)
	})
}

// isLoopbackAddr reports whether host:port names only loopback interfaces.
// An empty host means every interface, so it is not loopback.
func isLoopbackAddr(addr string) (bool, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false, err
	}
	if strings.EqualFold(host, "localhost") {
		return true, nil
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback(), nil
}
