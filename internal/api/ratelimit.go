package api

import (
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
	"golang.org/x/time/rate"
)

// Credentials NetBox has not answered for yet cost a NetBox call each:
// one client may present newCredsBurst of them at once, then one every
// newCredsEvery. Known credentials are answered from the cache.
const (
	newCredsBurst = 5
	newCredsEvery = 2 * time.Second
	maxClients    = 10000
)

// limiter keeps two token buckets per client address: one for requests
// (HNP_API_RATE_LIMIT, HNP_API_RATE_BURST), one for credentials NetBox must
// be asked about. Clients idle for a minute are forgotten first when the
// map is full.
type limiter struct {
	mu      sync.Mutex
	rate    rate.Limit
	burst   int
	clients map[string]*client
	now     func() time.Time
}

type client struct {
	requests, newCreds *rate.Limiter
	seen               time.Time
}

func newLimiter(perSecond float64, burst int) *limiter {
	r := rate.Limit(perSecond)
	if perSecond <= 0 {
		r = rate.Inf
	}
	return &limiter{rate: r, burst: max(burst, 1), clients: map[string]*client{}, now: time.Now}
}

func (l *limiter) client(ip string) *client {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	c := l.clients[ip]
	if c == nil {
		if len(l.clients) >= maxClients {
			l.evict(now)
		}
		c = &client{requests: rate.NewLimiter(l.rate, l.burst),
			newCreds: rate.NewLimiter(rate.Every(newCredsEvery), newCredsBurst)}
		l.clients[ip] = c
	}
	c.seen = now
	return c
}

// evict forgets clients idle for a minute, then any, down to 90% of
// maxClients, so a full map costs one pass per maxClients/10 new clients.
func (l *limiter) evict(now time.Time) {
	for _, idleOnly := range []bool{true, false} {
		for k, old := range l.clients {
			if len(l.clients) < maxClients*9/10 {
				return
			}
			if !idleOnly || now.Sub(old.seen) > time.Minute {
				delete(l.clients, k)
			}
		}
	}
}

// allow takes a token from b, or answers 429 with Retry-After and false.
func (l *limiter) allow(c echo.Context, b *rate.Limiter, what string) bool {
	r := b.ReserveN(l.now(), 1)
	if r.OK() {
		d := r.DelayFrom(l.now())
		if d == 0 {
			return true
		}
		r.CancelAt(l.now())
		c.Response().Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(d.Seconds()))))
	} else {
		c.Response().Header().Set("Retry-After", "60")
	}
	_ = c.JSON(http.StatusTooManyRequests, map[string]string{"error": "too many " + what + " from this address; retry later"})
	return false
}
