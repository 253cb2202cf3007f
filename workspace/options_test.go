package workspace

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/metadata"
)

func TestFlushMetadata(t *testing.T) {
	if d := DefaultOptions().MetadataFlushInterval; d != time.Minute {
		t.Errorf("default flush interval = %v, want 1m", d)
	}
	ctx := context.Background()
	help := metadata.Metadata{Type: model.MetricTypeCounter, Help: "Requests.", Unit: "requests"}
	saved := func(t *testing.T, w *Workspace) []metadata.Metadata {
		t.Helper()
		s := NewMetadataStore(0)
		if err := s.load(w.Dir()); err != nil {
			t.Fatal(err)
		}
		return s.List("http_requests_total", 0, 0)["http_requests_total"]
	}

	t.Run("on demand", func(t *testing.T) {
		r := openRegistry(t, testOptions(t, t.TempDir()))
		w := createActive(t, r, CreateInput{})
		w.Metadata().Set("http_requests_total", help)
		if got := saved(t, w); len(got) != 0 {
			t.Fatalf("metadata on disk before a flush: %v", got)
		}
		if err := r.FlushMetadata(ctx); err != nil {
			t.Fatal(err)
		}
		if got := saved(t, w); len(got) != 1 || got[0] != help {
			t.Errorf("metadata on disk = %v", got)
		}
		if err := r.Close(); err != nil {
			t.Fatal(err)
		}
		if err := r.FlushMetadata(ctx); !errors.Is(err, ErrClosed) {
			t.Errorf("FlushMetadata after Close: %v, want ErrClosed", err)
		}
	})

	t.Run("periodic", func(t *testing.T) {
		ticks := make(chan time.Time)
		opts := testOptions(t, t.TempDir())
		opts.metadataFlushTicks = ticks
		r := openRegistry(t, opts)
		w := createActive(t, r, CreateInput{})
		w.Metadata().Set("http_requests_total", help)
		ticks <- testNow
		// Taken only once the flush of the first tick is done.
		ticks <- testNow
		if got := saved(t, w); len(got) != 1 || got[0] != help {
			t.Errorf("metadata on disk = %v", got)
		}
	})
}

func TestOptionsValidation(t *testing.T) {
	for name, tc := range map[string]struct {
		set  func(*Options)
		want string
	}{
		"short account":     {func(o *Options) { o.AccountID = "1234" }, "account id"},
		"account letters":   {func(o *Options) { o.AccountID = "12345678901a" }, "account id"},
		"upper-case region": {func(o *Options) { o.Region = "US-EAST-1" }, "region"},
		"trailing dash":     {func(o *Options) { o.Region = "us-east-" }, "region"},
		"underscore":        {func(o *Options) { o.Region = "us_east_1" }, "region"},
	} {
		t.Run(name, func(t *testing.T) {
			opts := testOptions(t, t.TempDir())
			tc.set(&opts)
			r, err := Open(context.Background(), opts)
			if err == nil {
				r.Close()
				t.Fatal("Open succeeded")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want it to name the %s", err, tc.want)
			}
		})
	}

	opts := testOptions(t, t.TempDir())
	opts.Region = "eu-central-2"
	opts.AccountID = "123456789012"
	r := openRegistry(t, opts)
	w, err := r.Create(context.Background(), CreateInput{})
	if err != nil {
		t.Fatal(err)
	}
	if want := "arn:aws:aps:eu-central-2:123456789012:workspace/" + w.ID(); w.ARN() != want {
		t.Errorf("arn = %s, want %s", w.ARN(), want)
	}
	for _, account := range []string{"12", "abcdefghijkl", "1234567890123", "../000000000"} {
		_, err := r.Create(context.Background(), CreateInput{Account: account})
		var ve *ValidationError
		if !errors.As(err, &ve) || len(ve.Fields) != 1 || ve.Fields[0].Name != "account" {
			t.Errorf("Create for account %q: %v, want a ValidationError on account", account, err)
		}
	}
}
