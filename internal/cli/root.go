// Package cli is hnp-sidecar's command line, built on cobra: the command
// tree, its help, the flags that beat HNP_* variables, and exit codes.
// The commands call internal/app; cmd/hnp-sidecar only runs Run.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"
)

// Exit codes: 0 success, 1 the command failed, 2 it was called wrongly.
const (
	exitOK      = 0
	exitFailed  = 1
	exitUsage   = 2
	programName = "hnp-sidecar"
)

// Options is what the commands take from the process; tests give their own.
type Options struct {
	// Version is the build's version (-ldflags "-X main.version=..."); ""
	// falls back to the module's version, then "dev".
	Version        string
	Stdout, Stderr io.Writer
	// LookupEnv reads HNP_* variables (os.LookupEnv); set flags are laid over it.
	LookupEnv func(string) (string, bool)
	// Environ lists the environment (os.Environ), for serve's warning about
	// unknown HNP_* variables.
	Environ func() []string
}

func (o Options) withDefaults() Options {
	if o.Stdout == nil {
		o.Stdout = os.Stdout
	}
	if o.Stderr == nil {
		o.Stderr = os.Stderr
	}
	if o.LookupEnv == nil {
		o.LookupEnv = os.LookupEnv
	}
	if o.Environ == nil {
		o.Environ = os.Environ
	}
	return o
}

// Run runs the command line args (without the program's name) with ctx,
// which ends on SIGINT/SIGTERM in main, and returns the exit code.
// Errors go to stderr: a usage error with a hint and exit code 2, any
// other failure as "hnp-sidecar: <error>" and exit code 1.
func Run(ctx context.Context, args []string, o Options) int {
	o = o.withDefaults()
	root := NewRootCommand(o)
	if args == nil {
		args = []string{} // nil makes cobra read os.Args
	}
	root.SetArgs(args)
	cmd, err := root.ExecuteContextC(ctx)
	if err == nil {
		return exitOK
	}
	var usage *usageError
	var reported *reportedError
	switch {
	case errors.As(err, &usage):
		if usage.showUsage {
			fmt.Fprint(o.Stderr, cmd.UsageString(), "\n")
		}
		fmt.Fprintf(o.Stderr, "%s: %v\nRun '%s --help' for usage.\n", cmd.CommandPath(), usage.err, cmd.CommandPath())
		return exitUsage
	case errors.As(err, &reported):
		return reported.code
	default:
		fmt.Fprintf(o.Stderr, "%s: %v\n", programName, err)
		return exitFailed
	}
}

// NewRootCommand builds the whole command tree.
func NewRootCommand(o Options) *cobra.Command {
	o = o.withDefaults()
	root := &cobra.Command{
		Use:   programName,
		Short: "The GitOps sidecar of the Hedgehog NetBox plugin",
		Long: `hnp-sidecar takes NetBox's webhooks for Hedgehog objects, reconciles each change into its
fabric's Git repository and follows Argo CD's sync of it.

serve runs the service; bootstrap installs its webhook and event rule into NetBox; resync,
argocd install and state ask a running sidecar through its API (HNP_SIDECAR_URL,
HNP_API_TOKEN).

Configuration comes from HNP_* environment variables, every one listed in the README's
Configuration section; a secret can instead be a file named by <NAME>_FILE. Where a command
has a flag for a variable, the flag beats the variable.

Exit codes: 0 success, 1 failure, 2 wrong usage (unknown command or flag, bad or missing
flag value).`,
		Example: `  # the service, configured by HNP_* variables
  hnp-sidecar serve

  # a full reconcile of fabric-1 through the running sidecar
  export HNP_SIDECAR_URL=http://127.0.0.1:8090 HNP_API_TOKEN_FILE=/run/secrets/hnp-api-token
  hnp-sidecar resync --fabric fabric-1`,
		Version:           buildVersion(o.Version),
		Args:              needsSubcommand,
		RunE:              func(*cobra.Command, []string) error { return nil }, // not reached: Args refuses
		SilenceErrors:     true,
		SilenceUsage:      true,
		DisableAutoGenTag: true,
		CompletionOptions: cobra.CompletionOptions{DisableDefaultCmd: true}, // completion.go has ours
		// Required flags are checked here, not by cobra after the
		// command's hooks, so that a missing one is a usage error.
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			if err := cmd.ValidateRequiredFlags(); err != nil {
				return &usageError{err: err}
			}
			if err := cmd.ValidateFlagGroups(); err != nil {
				return &usageError{err: err}
			}
			return nil
		},
	}
	root.SetVersionTemplate(programName + " {{.Version}}\n")
	root.SetUsageTemplate(usageTemplate(root.UsageTemplate()))
	root.SetOut(o.Stdout)
	root.SetErr(o.Stderr)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &usageError{err: err} })
	root.AddGroup(
		&cobra.Group{ID: groupService, Title: "Service commands:"},
		&cobra.Group{ID: groupClient, Title: "Commands through a running sidecar's API (HNP_SIDECAR_URL, HNP_API_TOKEN):"},
		&cobra.Group{ID: groupOther, Title: "Other commands:"},
	)
	root.SetHelpCommandGroupID(groupOther)
	add := func(group string, cmds ...*cobra.Command) {
		for _, c := range cmds {
			c.GroupID = group
			root.AddCommand(c)
		}
	}
	add(groupService, newServeCommand(o), newBootstrapCommand(o))
	add(groupClient, newResyncCommand(o), newArgoCDCommand(o), newStateCommand(o))
	add(groupOther, newVersionCommand(o), newCompletionCommand(), newDocsCommand())
	return root
}

const (
	groupService = "service"
	groupClient  = "client"
	groupOther   = "other"
)

// runnableUsage is where cobra's usage template prints a runnable
// command's own usage line.
const runnableUsage = "Usage:{{if .Runnable}}"

// usageTemplate is cobra's template without the "[flags]" usage line of a
// command that only groups others (runnable only to refuse being called alone).
func usageTemplate(def string) string {
	return strings.Replace(def, runnableUsage, "Usage:{{if and .Runnable (not .HasAvailableSubCommands)}}", 1)
}

// usageError is a command called wrongly: exit code 2 with a hint.
type usageError struct {
	err       error
	showUsage bool // print the command's usage before the error
}

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

func usageErrorf(format string, args ...any) error {
	return &usageError{err: fmt.Errorf(format, args...)}
}

// reportedError is a failure the command has already reported (serve logs
// its own): Run only exits with code.
type reportedError struct{ code int }

func (e *reportedError) Error() string { return fmt.Sprintf("exit code %d", e.code) }

// needsSubcommand is the Args of a command that only groups others: called
// alone it prints its usage, with anything else it names the unknown command.
func needsSubcommand(cmd *cobra.Command, args []string) error {
	if len(args) == 0 {
		return &usageError{err: errors.New("a command is required"), showUsage: true}
	}
	msg := fmt.Sprintf("unknown command %q for %q", args[0], cmd.CommandPath())
	if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
		msg += "; did you mean " + strings.Join(s, " or ") + "?"
	}
	return &usageError{err: errors.New(msg)}
}

// usageArgs makes an argument check's failure a usage error.
func usageArgs(check cobra.PositionalArgs) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if err := check(cmd, args); err != nil {
			return &usageError{err: err}
		}
		return nil
	}
}

// noArgs refuses positional arguments.
func noArgs(_ *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usageErrorf("unexpected argument %q", args[0])
	}
	return nil
}

// groupCommand is a command that only holds subcommands.
func groupCommand(c *cobra.Command, subs ...*cobra.Command) *cobra.Command {
	c.Args = needsSubcommand
	c.RunE = func(*cobra.Command, []string) error { return nil } // not reached: Args refuses
	c.AddCommand(subs...)
	return c
}
