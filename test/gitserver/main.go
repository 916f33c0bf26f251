// Command gitserver serves bare Git repositories over smart HTTP (the real
// git http-backend) with basic auth on a 127.0.0.1 address, for `make run`.
//
//	gitserver -root DIR -addr 127.0.0.1:8091 -user hnp -password-file FILE -repo fabric-1
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"

	gitenv "github.com/githedgehog/hnp-sidecar/internal/testenv/git"
)

func main() {
	root := flag.String("root", "", "directory of the bare repositories")
	addr := flag.String("addr", "127.0.0.1:8091", "listen address (127.0.0.1 only)")
	user := flag.String("user", "hnp", "basic-auth user")
	pwFile := flag.String("password-file", "", "file holding the basic-auth password")
	repo := flag.String("repo", "fabric-1", "repository to create (branch main) if missing")
	flag.Parse()
	pw, err := os.ReadFile(*pwFile)
	if err != nil || *root == "" || !strings.HasPrefix(*addr, "127.0.0.1:") {
		fmt.Fprintln(os.Stderr, "gitserver: need -root, -password-file and a 127.0.0.1 -addr:", err)
		os.Exit(2)
	}
	if err := os.MkdirAll(*root, 0o755); err != nil {
		fmt.Fprintln(os.Stderr, "gitserver:", err)
		os.Exit(1)
	}
	s, err := gitenv.Serve(*root, *user, strings.TrimSpace(string(pw)), *addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "gitserver:", err)
		os.Exit(1)
	}
	defer s.Close()
	url, err := s.Create(*repo, "main")
	if err != nil {
		fmt.Fprintln(os.Stderr, "gitserver:", err)
		os.Exit(1)
	}
	fmt.Println("serving", url)
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	<-ctx.Done()
}
