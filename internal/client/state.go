package client

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/githedgehog/hnp-sidecar/internal/api"
	"github.com/githedgehog/hnp-sidecar/internal/config"
	"github.com/githedgehog/hnp-sidecar/internal/state"
)

// StateList prints the object states that match the filters (each may be
// empty), as a table or as JSON lines.
func StateList(ctx context.Context, cfg config.ClientConfig, fabric, kind, st string, asJSON bool, out io.Writer) error {
	q := url.Values{}
	for k, v := range map[string]string{"fabric": fabric, "kind": kind, "state": st} {
		if v != "" {
			q.Set(k, v)
		}
	}
	q.Set("limit", fmt.Sprint(api.MaxResourcesLimit))
	var all []state.Record
	for offset := 0; ; {
		q.Set("offset", fmt.Sprint(offset))
		var page api.ResourcesPage
		if err := call(ctx, cfg, http.MethodGet, "/api/v1/resources?"+q.Encode(), http.StatusOK, &page); err != nil {
			return err
		}
		all = append(all, page.Results...)
		offset += len(page.Results)
		if len(page.Results) == 0 || offset >= page.Count {
			break
		}
	}
	if asJSON {
		enc := json.NewEncoder(out)
		for _, r := range all {
			if err := enc.Encode(r); err != nil {
				return fmt.Errorf("state: %w", err)
			}
		}
		return nil
	}
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "FABRIC\tKIND\tNAMESPACE\tNAME\tSTATE\tCOMMIT\tUPDATED\tREASON")
	for _, r := range all {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", fabricLabel(r), r.Kind, r.Namespace, r.Name, r.State,
			state.ShortCommit(r.Commit), r.UpdatedAt.Local().Format(time.DateTime), oneLine(r.Reason, 80))
	}
	fmt.Fprintf(tw, "%d objects\n", len(all))
	return tw.Flush()
}

// StateShow prints one object's state and its history, newest first.
func StateShow(ctx context.Context, cfg config.ClientConfig, fabric, kind, namespace, name string, asJSON bool, out io.Writer) error {
	var r state.Record
	path := "/api/v1/resources/" + url.PathEscape(fabric) + "/" + url.PathEscape(kind) + "/" + url.PathEscape(namespace) + "/" + url.PathEscape(name)
	if err := call(ctx, cfg, http.MethodGet, path, http.StatusOK, &r); err != nil {
		return err
	}
	if asJSON {
		return json.NewEncoder(out).Encode(r)
	}
	st := string(r.State)
	if r.Gone {
		st = "(gone: removed from Git)"
	}
	fmt.Fprintf(out, "%s %s/%s in fabric %s (NetBox id %d)\nstate:   %s\n", r.Kind, r.Namespace, r.Name, fabricLabel(r), r.NetBoxID, st)
	for _, kv := range [][2]string{{"reason", r.Reason}, {"commit", r.Commit}, {"path", r.Path}} {
		if kv[1] != "" {
			fmt.Fprintf(out, "%-8s %s\n", kv[0]+":", kv[1])
		}
	}
	fmt.Fprintln(out, "history:")
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	for _, h := range r.History {
		fmt.Fprintf(tw, "  %s\t%s -> %s\t%s\t%s\t%s\n", h.At.Local().Format(time.DateTime+".000"), orDash(string(h.From)), orDash(string(h.To)),
			h.Trigger, state.ShortCommit(h.Commit), oneLine(h.Reason, 100))
	}
	return tw.Flush()
}

func fabricLabel(r state.Record) string {
	if r.FabricName != "" {
		return r.FabricName
	}
	return fmt.Sprint(r.Fabric)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > n {
		s = s[:n-1] + "…"
	}
	return s
}
