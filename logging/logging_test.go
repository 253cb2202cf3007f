package logging_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/promspace/promspace/logging"
	"github.com/promspace/promspace/query"
	"github.com/promspace/promspace/workspace"
)

const groupARN = "arn:aws:logs:us-east-1:111122223333:log-group:/aws/vendedlogs/prometheus/test:*"

// open opens a registry with the logging component in dir and one
// workspace, and returns the workspace's logging instance.
func open(t *testing.T, dir, logs string) (*workspace.Registry, *logging.Instance, string) {
	t.Helper()
	reg, w, in := openWith(t, dir, logs, nil)
	return reg, in, w.ID()
}

func records(t *testing.T, logs string) []logging.Record {
	t.Helper()
	f, err := os.Open(filepath.Join(logs, logging.FileName(groupARN)))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []logging.Record
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var r logging.Record
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	return out
}

func TestHandlerVendsFailuresWhileActive(t *testing.T) {
	dir := t.TempDir()
	logs := filepath.Join(dir, "logs")
	_, in, id := open(t, dir, logs)
	logger := slog.New(in.Handler(logging.ComponentAlertManager)).With("workspace", id)

	logger.Error("Notify for alerts failed", "num_alerts", 2, "err", errors.New("boom"))
	if recs := records(t, logs); len(recs) != 0 {
		t.Fatalf("vended without a configuration: %+v", recs)
	}
	if _, err := in.Create(context.Background(), logging.CreateInput{LogGroupARN: groupARN}); err != nil {
		t.Fatal(err)
	}
	logger.Info("Completed", "x", 1) // not a failure
	logger.WithGroup("g").Warn("Notify for alerts failed", "num_alerts", 2, "err", errors.New("boom"))
	recs := records(t, logs)
	if len(recs) != 1 {
		t.Fatalf("%d records", len(recs))
	}
	r := recs[0]
	if r.WorkspaceID != id || r.Component != "alertmanager" || r.LogGroupARN != groupARN || r.Message["level"] != "ERROR" ||
		r.Message["log"] != "Notify for alerts failed, g.num_alerts=2, g.err=boom" ||
		!r.Timestamp.Equal(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)) {
		t.Fatalf("record %+v", r)
	}
}

func TestObserveQueryThreshold(t *testing.T) {
	dir := t.TempDir()
	logs := filepath.Join(dir, "logs")
	_, in, _ := open(t, dir, logs)
	if _, err := in.CreateQuery(context.Background(), logging.QueryInput{LogGroupARN: groupARN, QSPThreshold: 100}); err != nil {
		t.Fatal(err)
	}
	at := time.Unix(1000, 0)
	in.ObserveQuery(query.Record{Expr: "up", Start: at, End: at, SamplesProcessed: 100})
	in.ObserveQuery(query.Record{Expr: "rate(x[5m])", Start: at, End: at.Add(time.Hour), Step: time.Minute,
		SamplesProcessed: 101, Duration: 1500 * time.Microsecond})
	recs := records(t, logs)
	if len(recs) != 1 {
		t.Fatalf("%d records", len(recs))
	}
	m := recs[0].Message
	if m["query"] != "rate(x[5m])" || m["samplesProcessed"] != 101.0 || m["durationMs"] != 1.5 || m["queryType"] != "range" ||
		m["stepSeconds"] != 60.0 || m["qspThreshold"] != 100.0 || recs[0].Component != "query" {
		t.Fatalf("record %+v", m)
	}
}

// A log group whose file cannot be created leaves the configuration
// CREATION_FAILED with the reason; stored, it comes back after a reopen,
// and opens once the file can be created.
func TestUnwritableLogGroup(t *testing.T) {
	dir := t.TempDir()
	logs := filepath.Join(dir, "logs")
	if err := os.WriteFile(logs, nil, 0o644); err != nil { // a file where the directory should be
		t.Fatal(err)
	}
	reg, in, _ := open(t, dir, logs)
	out, err := in.Create(context.Background(), logging.CreateInput{LogGroupARN: groupARN})
	if err != nil {
		t.Fatal(err)
	}
	if out.Status != logging.StatusCreationFailed || out.StatusReason == "" {
		t.Fatalf("create answered %s %q", out.Status, out.StatusReason)
	}
	reg.Close()
	if err := os.Remove(logs); err != nil {
		t.Fatal(err)
	}
	_, in, _ = open(t, dir, logs)
	c, err := in.Describe()
	if err != nil {
		t.Fatal(err)
	}
	if c.Status != logging.StatusActive || c.LogGroupARN != groupARN {
		t.Fatalf("after reopening: %+v", c)
	}
	var ve *logging.ValidationError
	if _, err := in.Update(context.Background(), logging.CreateInput{LogGroupARN: "nope"}); !errors.As(err, &ve) {
		t.Fatalf("update with a bad ARN: %v", err)
	}
	if err := in.Delete(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := in.Delete(context.Background()); !errors.Is(err, logging.ErrNotFound) {
		t.Fatalf("second delete: %v", err)
	}
}

func TestFileName(t *testing.T) {
	for arn, want := range map[string]string{
		"arn:aws:logs:us-east-1:111122223333:log-group:/aws/vendedlogs/prometheus/ws-1:*": "aws_vendedlogs_prometheus_ws-1.jsonl",
		"arn:aws:logs:us-east-1:111122223333:log-group:a_b/c:*":                           "a%5Fb_c.jsonl",
		"arn:aws:logs:us-east-1:111122223333:log-group:../..:*":                           ".._...jsonl",
	} {
		if got := logging.FileName(arn); got != want {
			t.Errorf("FileName(%s) = %s, want %s", arn, got, want)
		}
	}
}

func TestByWorkspace(t *testing.T) {
	dir := t.TempDir()
	logs := filepath.Join(dir, "logs")
	_, in, id := open(t, dir, logs)
	if _, err := in.Create(context.Background(), logging.CreateInput{LogGroupARN: groupARN}); err != nil {
		t.Fatal(err)
	}
	shared := slog.New(logging.ByWorkspace(logging.ComponentAlertManager, func(ws string) *logging.Instance {
		if ws == id {
			return in
		}
		return nil
	}))
	shared.Error("no workspace")
	shared.With("workspace", "ws-other").Error("another workspace")
	shared.With("workspace", id).Info("not a failure")
	shared.With("workspace", id).With("component", "dispatcher").Error("Notify for alerts failed", "num_alerts", 1)
	recs := records(t, logs)
	if len(recs) != 1 || recs[0].Component != "alertmanager" || recs[0].Message["log"] != "Notify for alerts failed, num_alerts=1" {
		t.Fatalf("records %+v", recs)
	}
}
