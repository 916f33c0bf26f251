package e2e

import (
	"fmt"
	"maps"
	"runtime"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// report prints the setup, the table with the goals under its
// header (shown, never asserted), and the reconcile log counts.
func report(rows []scaleRow, edits int, load0, load1 string, total time.Duration) string {
	var b strings.Builder
	fmt.Fprintf(&b, "bench-scale: %d CPU(s), load average %s at the start, %s at the end; %s in all\n\n",
		runtime.NumCPU(), load0, load1, total.Round(time.Second))
	b.WriteString("setup, from the first bulk POST (VPCs, POSTs of <= 500): created / all pushed (first full reconcile) / NetBox quiet after the write-back (3 s without a request)\n")
	for _, r := range rows {
		fmt.Fprintf(&b, "  %6d objects: created %s, pushed %s, quiet %s; states shown in NetBox at quiet: %d of %d\n",
			r.size, dur(r.created), dur(r.pushed), dur(r.quiet), r.shown, r.size)
	}
	b.WriteString("\n")
	w := tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(w, "objects\tedit→pushed p50\tmax\tGET/edit\twrites/edit\treconciles/edit\tpeak RSS\tbulk n\tNetBox save\tbulk pushed\t×save\twritten back\t\n")
	fmt.Fprintf(w, "(goal)\t<= 1.0s\t\t<= 3 requests in all\t\t= 1\t<= 150 MB at 5000\t\t\t\t<= 1.2×\t<= 60s after save\t\n")
	for _, r := range rows {
		p50, mx := pushedStats(r.edits)
		reads, writes, runs := editMeans(r.edits)
		fmt.Fprintf(w, "%d\t%s\t%s\t%.1f\t%.1f\t%.1f\t%.0f MB\t", r.size, dur(p50), dur(mx), reads, writes, runs, float64(r.rssKB)/1024)
		if r.bulkN == 0 {
			fmt.Fprintf(w, "-\t-\t-\t-\t-\t\n")
			continue
		}
		fmt.Fprintf(w, "%d\t%s\t%s\t%.2f×\t%s\t\n", r.bulkN, dur(r.bulkSave), dur(r.bulkPushed), r.bulkPushed.Seconds()/r.bulkSave.Seconds(), dur(r.bulkWritten))
	}
	_ = w.Flush()
	fmt.Fprintf(&b, "\nper edit: %d edits of one VPC's spec (PATCH); GET and writes (PATCH/POST/DELETE) the sidecar sent NetBox from the PATCH until 2 s without a request;\n", edits)
	b.WriteString("reconciles: delta of hnp_reconcile_runs_total (all labels); peak RSS: the sidecar's VmHWM after the size's work (one process for all sizes);\n")
	b.WriteString("bulk: one PATCH of n VPCs; pushed from its start; written back: every edited VPC's git_file_path and last_synced, from the end of NetBox's save.\n")
	b.WriteString("\nreconcile log lines per size (setup, edits and bulk edit):\n")
	for _, r := range rows {
		var parts []string
		for _, msg := range slices.Sorted(maps.Keys(r.logs)) {
			parts = append(parts, fmt.Sprintf("%q ×%d", msg, r.logs[msg]))
		}
		fmt.Fprintf(&b, "  %6d: %s\n", r.size, strings.Join(parts, ", "))
	}
	return b.String()
}

// pushedStats is the median (the lower one of an even count) and the
// maximum of the edits' times to pushed.
func pushedStats(edits []editCost) (p50, mx time.Duration) {
	ds := make([]time.Duration, len(edits))
	for i, e := range edits {
		ds[i] = e.pushed
	}
	slices.Sort(ds)
	if len(ds) == 0 {
		return 0, 0
	}
	return ds[(len(ds)-1)/2], ds[len(ds)-1]
}

func editMeans(edits []editCost) (reads, writes, runs float64) {
	for _, e := range edits {
		reads += float64(e.reads)
		writes += float64(e.writes)
		runs += e.runs
	}
	n := float64(max(1, len(edits)))
	return reads / n, writes / n, runs / n
}

func dur(d time.Duration) string {
	if d >= time.Minute {
		return d.Round(time.Second).String()
	}
	return fmt.Sprintf("%.2fs", d.Seconds())
}
