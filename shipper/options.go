package shipper

import (
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Defaults of Options.
const (
	DefaultInterval     = 30 * time.Second
	DefaultRetries      = 5
	DefaultRetryBackoff = time.Second
	DefaultCloseTimeout = time.Minute
)

// Options configure a Shipper. Zero values mean the default.
type Options struct {
	// Disabled turns the shipper off: blocks stay on the local disk only.
	Disabled bool
	// Interval is how often each workspace's new blocks are shipped; the
	// workspace's Close ships once more.
	Interval time.Duration
	// Retries is how many times an object whose upload failed is uploaded
	// again within one sync, waiting RetryBackoff, then twice as long, and
	// so on. A block that still fails is tried again at the next sync.
	Retries      int
	RetryBackoff time.Duration
	// CloseTimeout bounds the final sync of a closing workspace.
	CloseTimeout time.Duration

	Logger     *slog.Logger
	Registerer prometheus.Registerer
	// NewTicker returns the ticks of the periodic sync and a function that
	// stops them; nil means a time.Ticker of Interval.
	NewTicker func(d time.Duration) (ticks <-chan time.Time, stop func())

	// synced, if set, is called after every periodic sync (tests).
	synced func(workspaceID string, err error)
}

func (o *Options) applyDefaults() {
	if o.Interval <= 0 {
		o.Interval = DefaultInterval
	}
	if o.Retries <= 0 {
		o.Retries = DefaultRetries
	}
	if o.RetryBackoff <= 0 {
		o.RetryBackoff = DefaultRetryBackoff
	}
	if o.CloseTimeout <= 0 {
		o.CloseTimeout = DefaultCloseTimeout
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.NewTicker == nil {
		o.NewTicker = func(d time.Duration) (<-chan time.Time, func()) {
			t := time.NewTicker(d)
			return t.C, t.Stop
		}
	}
}
