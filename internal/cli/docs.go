package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/spf13/cobra"
)

// The README's command line reference is between these two lines.
const (
	ReferenceStart = "<!-- cli-reference:start -->"
	ReferenceEnd   = "<!-- cli-reference:end -->"
)

func newDocsCommand() *cobra.Command {
	var readme string
	cmd := &cobra.Command{
		Use:    "docs",
		Hidden: true,
		Short:  "Print the command line reference as Markdown, or update the README's",
		Long: `Print the command line reference as Markdown: for every command, its summary and exactly
what its --help prints. With --readme, replace the part of that file between the lines
` + ReferenceStart + ` and ` + ReferenceEnd + ` with it instead (make docs
does that to README.md; a test fails when README.md's is out of date).`,
		Example: `  hnp-sidecar docs
  hnp-sidecar docs --readme README.md`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ref, err := Reference(cmd.Context())
			if err != nil {
				return err
			}
			if readme == "" {
				_, err := io.WriteString(cmd.OutOrStdout(), ref)
				return err
			}
			b, err := os.ReadFile(readme)
			if err != nil {
				return err
			}
			out, err := ReplaceReference(string(b), ref)
			if err != nil {
				return fmt.Errorf("%s: %w", readme, err)
			}
			return os.WriteFile(readme, []byte(out), 0o644)
		},
	}
	cmd.Flags().StringVar(&readme, "readme", "", "update the reference in this Markdown `file` instead of printing it")
	_ = cmd.MarkFlagFilename("readme", "md")
	return cmd
}

// Reference is the command line reference in Markdown: for each visible
// command (the service's first, then the client commands, then the rest;
// subcommands after their parent), a heading, its summary and the output
// of its --help, obtained by running it.
func Reference(ctx context.Context) (string, error) {
	var b strings.Builder
	for _, c := range visibleCommands(NewRootCommand(Options{})) {
		path := strings.Fields(c.CommandPath())[1:]
		var out, errOut bytes.Buffer
		code := Run(ctx, append(path, "--help"), Options{Stdout: &out, Stderr: &errOut,
			LookupEnv: func(string) (string, bool) { return "", false }, Environ: func() []string { return nil }})
		if code != exitOK {
			return "", fmt.Errorf("%s --help: exit code %d: %s", c.CommandPath(), code, errOut.String())
		}
		fmt.Fprintf(&b, "### `%s`\n\n%s.\n\n```text\n%s```\n\n", c.CommandPath(), c.Short, out.String())
	}
	return strings.TrimSuffix(b.String(), "\n"), nil
}

// visibleCommands is root and every command under it that is neither
// hidden nor cobra's help command, parents before their subcommands; the
// root's in the order of its groups.
func visibleCommands(root *cobra.Command) []*cobra.Command {
	out := []*cobra.Command{root}
	subs := root.Commands()
	if groups := root.Groups(); len(groups) > 0 {
		subs = slices.Clone(subs)
		rank := func(c *cobra.Command) int {
			return slices.IndexFunc(groups, func(g *cobra.Group) bool { return g.ID == c.GroupID })
		}
		slices.SortStableFunc(subs, func(a, b *cobra.Command) int { return rank(a) - rank(b) })
	}
	for _, c := range subs {
		if c.IsAvailableCommand() && c.Name() != "help" {
			out = append(out, visibleCommands(c)...)
		}
	}
	return out
}

// ReplaceReference returns readme with the part between ReferenceStart
// and ReferenceEnd, each alone on its line, replaced by ref.
func ReplaceReference(readme, ref string) (string, error) {
	before, rest, ok := strings.Cut(readme, ReferenceStart+"\n")
	if !ok {
		return "", errors.New("no line " + ReferenceStart)
	}
	_, after, ok := strings.Cut(rest, ReferenceEnd)
	if !ok {
		return "", errors.New("no line " + ReferenceEnd + " after " + ReferenceStart)
	}
	return before + ReferenceStart + "\n" + ref + ReferenceEnd + after, nil
}

// ReadmeReference is the part of readme between ReferenceStart and
// ReferenceEnd.
func ReadmeReference(readme string) (string, error) {
	_, rest, ok := strings.Cut(readme, ReferenceStart+"\n")
	if !ok {
		return "", errors.New("no line " + ReferenceStart)
	}
	ref, _, ok := strings.Cut(rest, ReferenceEnd)
	if !ok {
		return "", errors.New("no line " + ReferenceEnd + " after " + ReferenceStart)
	}
	return ref, nil
}
