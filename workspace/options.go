package workspace

import (
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"regexp"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/prometheus/tsdb"
	"github.com/prometheus/prometheus/util/compression"
	"github.com/thanos-io/objstore"

	"github.com/promspace/promspace/internal/amp"
)

// AMP's defaults.
const (
	DefaultRegion               = amp.DefaultRegion
	DefaultAccountID            = amp.DefaultAccountID
	DefaultMaxWorkspaces        = 25
	DefaultRetention            = 150 * 24 * time.Hour
	DefaultOutOfOrderTimeWindow = 60 * time.Second
	DefaultMaxExemplars         = 100000
	// DefaultMetadataFlushInterval is how often changed metric metadata is
	// written to disk.
	DefaultMetadataFlushInterval = time.Minute
	// MaxMetadataFamilies is how many metric families a workspace keeps
	// metadata for; metadata of further families is dropped.
	MaxMetadataFamilies = 20000
)

// Options configure a Registry. Zero values mean the default.
type Options struct {
	// DataDir holds one directory per workspace (DataDir/workspaces/<id>) and,
	// when Bucket is nil, the default filesystem bucket (DataDir/bucket).
	DataDir string
	// Bucket stores the workspace records. The Registry does not close a
	// bucket it was given.
	Bucket objstore.Bucket
	// Region and AccountID name the workspaces' ARNs. AccountID is also the
	// account of callers that do not say which account they act for. Region
	// is lower-case words of letters and digits joined by dashes (us-east-1);
	// AccountID is 12 digits.
	Region    string
	AccountID string
	// MaxWorkspaces is the number of workspaces an account may have.
	MaxWorkspaces int

	Logger *slog.Logger
	// TSDBLogger logs the workspaces' TSDBs (WAL replay, compaction);
	// Logger when nil.
	TSDBLogger *slog.Logger
	Registerer prometheus.Registerer
	// Now is the clock used for creation times.
	Now func() time.Time

	// Retention and OutOfOrderTimeWindow are the configuration of a new
	// workspace. A negative OutOfOrderTimeWindow disables out-of-order
	// ingestion by default.
	Retention            time.Duration
	OutOfOrderTimeWindow time.Duration
	// MaxExemplars is the size of each workspace's exemplar storage.
	MaxExemplars int64
	// TSDBOptions returns the base options of a workspace's TSDB; retention,
	// out-of-order window and exemplar storage are set on top of them. Nil
	// means DefaultTSDBOptions (the Prometheus server's) with the block
	// ranges Prometheus derives from the retention and WALCompression.
	TSDBOptions func() *tsdb.Options
	// WALCompression compresses each workspace's WAL when TSDBOptions is
	// nil: compression.Snappy (the default, as the Prometheus server),
	// compression.Zstd, or compression.None.
	WALCompression compression.Type

	// MetadataFlushInterval is how often the metric metadata that changed is
	// written to each workspace's directory, so that a crash loses at most
	// that much of it; Close writes it too. Zero means
	// DefaultMetadataFlushInterval; negative disables the periodic flush.
	MetadataFlushInterval time.Duration
	// metadataFlushTicks, if set, drives the periodic flush instead of a
	// ticker of MetadataFlushInterval.
	metadataFlushTicks <-chan time.Time

	// Components are opened for every workspace after its TSDB, in order,
	// and closed before it in reverse order (see Component).
	Components []Component
}

var (
	accountIDRE = regexp.MustCompile(`^[0-9]{12}$`)
	regionRE    = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)
)

// DefaultOptions returns AMP's defaults; DataDir is left to the caller.
func DefaultOptions() Options {
	return Options{
		Region:               DefaultRegion,
		AccountID:            DefaultAccountID,
		MaxWorkspaces:        DefaultMaxWorkspaces,
		Logger:               slog.New(slog.DiscardHandler),
		Now:                  time.Now,
		Retention:            DefaultRetention,
		OutOfOrderTimeWindow: DefaultOutOfOrderTimeWindow,
		MaxExemplars:         DefaultMaxExemplars,

		MetadataFlushInterval: DefaultMetadataFlushInterval,
	}
}

func (o *Options) applyDefaults() error {
	if o.DataDir == "" {
		return errors.New("data directory is required")
	}
	d := DefaultOptions()
	if o.Region == "" {
		o.Region = d.Region
	}
	if o.AccountID == "" {
		o.AccountID = d.AccountID
	}
	if !regionRE.MatchString(o.Region) {
		return fmt.Errorf("invalid region %q: want lower-case letters and digits in dash-separated words, like us-east-1", o.Region)
	}
	if !accountIDRE.MatchString(o.AccountID) {
		return fmt.Errorf("invalid account id %q: want 12 digits", o.AccountID)
	}
	if o.MaxWorkspaces <= 0 {
		o.MaxWorkspaces = d.MaxWorkspaces
	}
	if o.Logger == nil {
		o.Logger = d.Logger
	}
	if o.Now == nil {
		o.Now = d.Now
	}
	if o.Retention <= 0 {
		o.Retention = d.Retention
	}
	switch {
	case o.OutOfOrderTimeWindow == 0:
		o.OutOfOrderTimeWindow = d.OutOfOrderTimeWindow
	case o.OutOfOrderTimeWindow < 0:
		o.OutOfOrderTimeWindow = 0
	}
	if o.MaxExemplars <= 0 {
		o.MaxExemplars = d.MaxExemplars
	}
	switch o.WALCompression {
	case "":
		o.WALCompression = compression.Snappy
	case compression.None, compression.Snappy, compression.Zstd:
	default:
		return fmt.Errorf("invalid WAL compression %q: want one of %q", o.WALCompression, compression.Types())
	}
	if err := validateComponents(o.Components); err != nil {
		return err
	}
	if o.MetadataFlushInterval == 0 {
		o.MetadataFlushInterval = d.MetadataFlushInterval
	}
	return nil
}

func (o *Options) workspacesDir() string { return filepath.Join(o.DataDir, "workspaces") }
