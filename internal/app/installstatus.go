package app

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/githedgehog/hnp-sidecar/internal/kind"
	"github.com/githedgehog/hnp-sidecar/internal/netbox"
)

// fabricWriter is the part of the NetBox client an installation's status
// needs.
type fabricWriter interface {
	PatchFabric(ctx context.Context, id int64, fields map[string]any) error
	AddJournalEntries(ctx context.Context, entries []netbox.JournalEntry) error
}

// fabricStatus writes an Argo CD installation's status into the fabric's
// fields (argocd_installed, gitops_setup_status, argocd_health_status,
// gitops_setup_error). When NetBox refuses the fabric's write (the real
// plugin refuses every PATCH of a fabric whose other data is invalid),
// the outcome goes into a journal entry on the fabric instead; the
// installation's job says it either way.
func fabricStatus(nb fabricWriter, logger *slog.Logger) func(ctx context.Context, f netbox.Fabric, fields map[string]any) {
	return func(ctx context.Context, f netbox.Fabric, fields map[string]any) {
		err := nb.PatchFabric(ctx, f.ID, fields)
		switch {
		case err == nil:
			return
		case !netbox.Refused(err):
			logger.Warn("argocd install: status not written to the fabric in NetBox", "fabric", f.Name, "err", err)
			return
		}
		status, _ := fields["gitops_setup_status"].(string)
		if status == "installing" {
			return // the outcome's entry says it all
		}
		level, text := netbox.JournalInfo, "Argo CD is installed"
		if msg, _ := fields["gitops_setup_error"].(string); msg != "" {
			level, text = netbox.JournalWarning, "Argo CD installation failed: "+msg
		}
		answer := netbox.AsAPIError(err)
		entry := netbox.JournalEntry{Kind: kind.Fabric, ObjectID: f.ID, Level: level, Comments: fmt.Sprintf(
			"hnp-sidecar: %s (gitops_setup_status %s). NetBox refused to store it in the fabric's fields: HTTP %d: %s.",
			text, status, answer.Status, answer.Answer())}
		if err := nb.AddJournalEntries(ctx, []netbox.JournalEntry{entry}); err != nil {
			logger.Warn("argocd install: status neither in the fabric's fields nor in its journal", "fabric", f.Name, "err", err)
		}
	}
}
