package queue

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// Handler does the work for one key. Returning nil acknowledges the run; an
// error retries the key with backoff and, after MaxAttempts, dead-letters it.
// The handler must honour ctx: it is cancelled at HandlerTimeout and at the
// end of the shutdown grace period.
type Handler interface {
	Handle(ctx context.Context, it Item) error
}

// HandlerFunc adapts a function to Handler.
type HandlerFunc func(ctx context.Context, it Item) error

// Handle calls f.
func (f HandlerFunc) Handle(ctx context.Context, it Item) error { return f(ctx, it) }

// ErrRunning is returned by Run when the queue already runs.
var ErrRunning = errors.New("queue: already running")

// Run claims due keys and hands them to h on up to Workers goroutines until
// ctx ends. Then it stops claiming, gives running handlers ShutdownGrace to
// finish, cancels the rest and hands their keys back to the queue, and
// returns. Keys of a process that dies are taken back by any other Run
// once their lease expires.
func (q *Queue) Run(ctx context.Context, h Handler) error {
	if !q.state.start() {
		return ErrRunning
	}
	defer q.state.stop()
	q.logger.Info("queue workers started", "workers", q.opts.Workers)

	// Handlers and bookkeeping outlive ctx by the grace period.
	hardCtx, hardCancel := context.WithCancel(context.WithoutCancel(ctx))
	defer hardCancel()
	maintCtx, maintCancel := context.WithCancel(hardCtx)
	var maint sync.WaitGroup
	maint.Go(func() { q.panics.Loop(maintCtx, "queue.maintain", time.Second, q.maintain) })

	var (
		workers sync.WaitGroup
		busy    atomic.Int64
		freed   = make(chan struct{}, 1)
		tokens  = newTokens()
	)
	for ctx.Err() == nil {
		// While awake, every notify must wake us again: a hint queued after
		// the claim below read the queue leaves a token in q.wake.
		q.nextDue.Store(0)
		free := q.opts.Workers - int(busy.Load())
		var next time.Time
		if free > 0 {
			token := tokens.next()
			items, nxt, err := q.claim(ctx, free, token)
			if err != nil && ctx.Err() == nil {
				q.state.failure(q.now(), err)
				q.logger.Error("claim failed", "err", err)
			}
			next = nxt
			for _, it := range items {
				busy.Add(1)
				q.state.hold(it.Key, token)
				workers.Go(func() {
					defer func() {
						busy.Add(-1)
						select {
						case freed <- struct{}{}:
						default:
						}
					}()
					q.process(hardCtx, h, it, token)
				})
			}
			if len(items) == free {
				continue // more may be due
			}
		}
		wait := q.opts.PollInterval
		if d := time.Until(next); !next.IsZero() && d < wait {
			wait = max(d, time.Millisecond)
		}
		if free > 0 { // busy: stay at 0, look again when a worker frees up
			q.nextDue.CompareAndSwap(0, ms(q.now().Add(wait)))
		}
		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
		case <-q.wake:
		case <-freed:
		case <-timer.C:
		}
		timer.Stop()
	}

	q.logger.Info("queue stopping", "in_flight", busy.Load(), "grace", q.opts.ShutdownGrace.String())
	done := make(chan struct{})
	go func() { workers.Wait(); close(done) }()
	grace := time.NewTimer(q.opts.ShutdownGrace)
	defer grace.Stop()
	select {
	case <-done:
	case <-grace.C:
		q.logger.Warn("shutdown grace over; cancelling running handlers", "in_flight", busy.Load())
		hardCancel()
		<-done
	}
	maintCancel()
	maint.Wait()
	q.logger.Info("queue workers stopped")
	return nil
}

// maintain renews this process's leases and takes back expired ones.
func (q *Queue) maintain(ctx context.Context) {
	t := time.NewTicker(q.opts.Lease / 3)
	defer t.Stop()
	reap := func() {
		if _, err := q.reap(ctx); err != nil && ctx.Err() == nil {
			q.logger.Error("reaping expired leases failed", "err", err)
		}
	}
	reap() // a restarted process takes back what its predecessor held
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := q.extend(ctx, q.state.held()); err != nil && ctx.Err() == nil {
				q.logger.Error("renewing leases failed", "err", err)
			}
			reap()
		}
	}
}

// tokens makes claim tokens unique across processes and claims.
type tokens struct {
	id string
	n  atomic.Uint64
}

func newTokens() *tokens {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return &tokens{id: hex.EncodeToString(b)}
}

func (t *tokens) next() string { return fmt.Sprintf("%s-%d", t.id, t.n.Add(1)) }
