package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/githedgehog/hnp-sidecar/internal/webhook"
)

// signedBody is one pre-built webhook request body and its signature.
type signedBody struct {
	body []byte
	sig  string
}

// buildBodies renders 2×objects NetBox 4.7 payloads for netbox_hedgehog.vpc,
// shaped like webhooks/samples/netbox-4.7/updated.json: body j is about
// object j%objects+1, "created" for the first round of ids, "updated" for
// the second. Each is padded in data.annotations to exactly size bytes
// (when the unpadded payload, about 1.1-1.5 KB, is smaller).
func buildBodies(secret []byte, objects, size int) ([]signedBody, error) {
	out := make([]signedBody, 0, 2*objects)
	for j := range 2 * objects {
		id := j%objects + 1
		event := []string{"created", "updated"}[(j/objects)%2]
		p := payload(id, event, "")
		b, err := json.Marshal(p)
		if err != nil {
			return nil, err
		}
		if pad := size - len(b); pad > 0 {
			p = payload(id, event, strings.Repeat("x", pad))
			if b, err = json.Marshal(p); err != nil {
				return nil, err
			}
		}
		out = append(out, signedBody{body: b, sig: webhook.Sign(secret, b)})
	}
	return out, nil
}

// payload is one webhook as NetBox 4.7 sends it for a VPC of the plugin.
func payload(id int, event, padding string) map[string]any {
	vlan := 1000 + id%3000
	subnet := func(v int) map[string]any {
		return map[string]any{"subnets": map[string]any{"default": map[string]any{
			"subnet": fmt.Sprintf("10.%d.%d.0/24", v/256%256, v%256), "gateway": fmt.Sprintf("10.%d.%d.1", v/256%256, v%256), "vlan": v,
		}}}
	}
	name := fmt.Sprintf("vpc-%d", id)
	snapshot := func(v int, updated string) map[string]any {
		return map[string]any{
			"fabric": 1, "name": name, "namespace": "default", "spec": subnet(v), "labels": map[string]any{},
			"annotations": map[string]any{}, "kubernetes_status": "unknown", "sync_error": "", "git_file_path": "",
			"auto_sync": true, "custom_fields": map[string]any{}, "tags": []any{},
			"created": "2026-11-25T09:00:00Z", "last_updated": updated,
		}
	}
	annotations := map[string]any{"bench.githedgehog.com/padding": padding}
	method, pre := "PATCH", any(snapshot(vlan-1, "2026-11-25T09:30:00Z"))
	if event == "created" {
		method, pre = "POST", nil
	}
	return map[string]any{
		"event":       event,
		"timestamp":   "2026-11-25T10:00:00.345678+00:00",
		"object_type": "netbox_hedgehog.vpc",
		"request": map[string]any{
			"id":     fmt.Sprintf("6d1b5c1e-7f0a-4b8e-9a57-%012x", id),
			"method": method, "path": fmt.Sprintf("/api/plugins/hedgehog/vpcs/%d/", id), "user": "alice",
		},
		"data": map[string]any{
			"id": id, "url": fmt.Sprintf("http://netbox/api/plugins/hedgehog/vpcs/%d/", id), "display": name,
			"fabric": 1, "name": name, "namespace": "default", "spec": subnet(vlan), "labels": map[string]any{},
			"annotations": annotations, "kubernetes_status": "unknown", "last_applied": nil, "last_synced": nil,
			"sync_error": "", "git_file_path": "", "auto_sync": true, "tags": []any{}, "custom_fields": map[string]any{},
			"created": "2026-11-25T09:00:00.000000Z", "last_updated": "2026-11-25T10:00:00.123456Z",
		},
		"snapshots": map[string]any{"prechange": pre, "postchange": snapshot(vlan, "2026-11-25T10:00:00.123Z")},
	}
}

// result is what one phase measured.
type result struct {
	accepted  int             // 202 answers in the measured window
	nonOK     map[int]int     // other statuses in the measured window
	transport int             // requests that got no answer, measured window
	warmupBad int             // non-202 or failed requests during warm-up
	firstErr  string          // first failure, for the report
	latencies []time.Duration // every measured request, sorted
}

// add merges o, measured in another slice, into r; latencies are sorted
// again by the caller.
func (r *result) add(o *result) {
	r.accepted += o.accepted
	r.transport += o.transport
	r.warmupBad += o.warmupBad
	for s, n := range o.nonOK {
		r.nonOK[s] += n
	}
	if r.firstErr == "" {
		r.firstErr = o.firstErr
	}
	r.latencies = append(r.latencies, o.latencies...)
}

func (r *result) bad() int {
	n := r.transport
	for _, c := range r.nonOK {
		n += c
	}
	return n
}

func (r *result) pct(p float64) time.Duration {
	if len(r.latencies) == 0 {
		return 0
	}
	return r.latencies[int(p*float64(len(r.latencies)-1))]
}

// load sends signed webhooks to url on conns keep-alive connections for
// warmup, then measures for duration. Bodies are taken in turn from a
// shared cursor so ids and events cycle across all connections.
func load(ctx context.Context, url string, bodies []signedBody, conns int, warmup, duration time.Duration) *result {
	var (
		cursor atomic.Uint64
		wg     sync.WaitGroup
		mu     sync.Mutex
		total  = &result{nonOK: map[int]int{}}
	)
	start := time.Now()
	measureFrom, end := start.Add(warmup), start.Add(warmup+duration)
	for range conns {
		wg.Go(func() {
			tr := &http.Transport{Proxy: nil, MaxIdleConns: 4, MaxIdleConnsPerHost: 4, MaxConnsPerHost: 1, DisableCompression: true}
			defer tr.CloseIdleConnections()
			client := &http.Client{Transport: tr, Timeout: 30 * time.Second}
			r := &result{nonOK: map[int]int{}, latencies: make([]time.Duration, 0, 4096)}
			for {
				b := bodies[(cursor.Add(1)-1)%uint64(len(bodies))]
				req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(b.body))
				if err != nil {
					panic(err) // url is ours
				}
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set(webhook.SignatureHeader, b.sig)
				t0 := time.Now()
				if !t0.Before(end) || ctx.Err() != nil {
					break
				}
				status, err := send(client, req)
				lat := time.Since(t0)
				if err != nil && r.firstErr == "" {
					r.firstErr = err.Error()
				} else if status != http.StatusAccepted && r.firstErr == "" {
					r.firstErr = fmt.Sprintf("HTTP %d", status)
				}
				switch {
				case t0.Before(measureFrom):
					if err != nil || status != http.StatusAccepted {
						r.warmupBad++
					}
				case err != nil:
					r.transport++
				case status == http.StatusAccepted:
					r.accepted++
					r.latencies = append(r.latencies, lat)
				default:
					r.nonOK[status]++
					r.latencies = append(r.latencies, lat)
				}
			}
			mu.Lock()
			defer mu.Unlock()
			total.accepted += r.accepted
			total.transport += r.transport
			total.warmupBad += r.warmupBad
			for s, n := range r.nonOK {
				total.nonOK[s] += n
			}
			if total.firstErr == "" {
				total.firstErr = r.firstErr
			}
			total.latencies = append(total.latencies, r.latencies...)
		})
	}
	wg.Wait()
	slices.Sort(total.latencies)
	return total
}

// send does one request and drains the answer so the connection is reused.
func send(client *http.Client, req *http.Request) (int, error) {
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	_, err = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	return resp.StatusCode, err
}
