package alertmanager

import (
	"bytes"
	"context"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-openapi/strfmt"
	amclient "github.com/prometheus/alertmanager/api/v2/client"
	"github.com/prometheus/alertmanager/api/v2/client/silence"
	"github.com/prometheus/alertmanager/api/v2/models"
	silences "github.com/prometheus/alertmanager/silence"
	promrules "github.com/prometheus/prometheus/rules"

	"github.com/promspace/promspace/internal/logbuf"
	"github.com/promspace/promspace/quota"
)

// postSilence silences alertname through Alertmanager's API client and
// returns the silence's ID.
func postSilence(t *testing.T, c *amclient.AlertmanagerAPI, alertname string) string {
	t.Helper()
	start, end := strfmt.DateTime(time.Now()), strfmt.DateTime(time.Now().Add(time.Hour))
	name, isEqual, isRegex := "alertname", true, false
	by, comment := "test", "quiet"
	ok, err := c.Silence.PostSilences(silence.NewPostSilencesParams().WithSilence(&models.PostableSilence{
		Silence: models.Silence{
			Matchers: models.Matchers{{Name: &name, Value: &alertname, IsEqual: &isEqual, IsRegex: &isRegex}},
			StartsAt: &start, EndsAt: &end, CreatedBy: &by, Comment: &comment,
		},
	}))
	if err != nil {
		t.Fatal(err)
	}
	return ok.Payload.SilenceID
}

// emptyDisk removes everything of dir but the registry's default bucket,
// as a node replaced on an empty disk with the same bucket.
func emptyDisk(t *testing.T, dir string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.Name() != "bucket" {
			if err := os.RemoveAll(filepath.Join(dir, e.Name())); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func TestStateRestoredFromTheBucket(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	r, w, in, h, srv := hookedWorkspace(t, dir)
	id := postSilence(t, apiClient(t, srv, w), "Noisy")
	// Answered means in the bucket, before any maintenance or close.
	if ok, err := w.Bucket().Exists(ctx, stateObject(silencesState)); err != nil || !ok {
		t.Fatalf("silences in the bucket once answered: %v, %v", ok, err)
	}
	in.Send(ctx, "vector(1)", []*promrules.Alert{firing("Down")})
	waitFor(t, "a notification", func() bool { return count(h.messages(), "Down") > 0 })
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	for _, kind := range []string{silencesState, nflogState} {
		local, err := os.ReadFile(filepath.Join(w.Dir(), stateDirName, kind))
		if err != nil {
			t.Fatal(err)
		}
		rc, err := w.Bucket().Get(ctx, stateObject(kind))
		if err != nil {
			t.Fatalf("%s in the bucket after close: %v", kind, err)
		}
		var remote bytes.Buffer
		_, _ = remote.ReadFrom(rc)
		rc.Close()
		if len(local) == 0 || !bytes.Equal(local, remote.Bytes()) {
			t.Errorf("%s: %d bytes on disk, %d in the bucket", kind, len(local), remote.Len())
		}
	}

	emptyDisk(t, dir)
	_, w, in = openWorkspace(t, dir, Options{}, quota.DefaultLimits())
	if in.running.Load() == nil {
		t.Fatal("no definition running after the restore")
	}
	srv2 := httptest.NewServer(in)
	defer srv2.Close()
	got, err := apiClient(t, srv2, w).Silence.GetSilence(silence.NewGetSilenceParams().WithSilenceID(strfmt.UUID(id)))
	if err != nil {
		t.Fatalf("silence after the restore: %v", err)
	}
	if *got.Payload.Status.State != "active" {
		t.Errorf("silence after the restore: %+v", got.Payload)
	}
	// The notification log came back too, so that the alert already
	// notified is not notified again as new.
	if b, err := in.nflog.MarshalBinary(); err != nil || len(b) == 0 {
		t.Errorf("notification log after the restore: %d bytes, %v", len(b), err)
	}
}

func TestCorruptStateSkipped(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	r, w, in := openWorkspace(t, dir, Options{}, quota.DefaultLimits())
	if _, err := in.Create(ctx, definition(webhookConfig("http://127.0.0.1:1/"), nil), ""); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(in)
	id := postSilence(t, apiClient(t, srv, w), "Noisy")
	srv.Close()
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}

	// A truncated copy on disk: the bucket's is read instead.
	local := filepath.Join(w.Dir(), stateDirName, silencesState)
	b, err := os.ReadFile(local)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(local, b[:len(b)/2], 0o666); err != nil {
		t.Fatal(err)
	}
	var logs logbuf.Buffer
	r, w, in = openWorkspace(t, dir, Options{Logger: logs.Logger()}, quota.DefaultLimits())
	if _, err := in.silences.QueryOne(ctx, silences.QIDs(id)); err != nil {
		t.Errorf("silence from the bucket's copy: %v", err)
	}
	if !strings.Contains(logs.String(), local) {
		t.Errorf("the truncated copy is not named in the logs:\n%s", logs.String())
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}

	// Both copies broken: the workspace opens without silences, and both
	// are named.
	if err := os.WriteFile(local, []byte("not a snapshot"), 0o666); err != nil {
		t.Fatal(err)
	}
	if err := w.Bucket().Upload(ctx, stateObject(silencesState), strings.NewReader("garbage")); err != nil {
		t.Fatal(err)
	}
	logs = logbuf.Buffer{}
	_, _, in = openWorkspace(t, dir, Options{Logger: logs.Logger()}, quota.DefaultLimits())
	if in.running.Load() == nil {
		t.Error("definition not running beside broken silences")
	}
	if got, _, err := in.silences.Query(ctx); err != nil || len(got) != 0 {
		t.Errorf("silences from broken copies: %v, %v", got, err)
	}
	full := "workspaces/" + w.ID() + "/" + stateObject(silencesState)
	if out := logs.String(); !strings.Contains(out, local) || !strings.Contains(out, full) {
		t.Errorf("the broken copies are not named in the logs:\n%s", out)
	}
}

func TestCorruptDefinition(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	r, w, _ := openWorkspace(t, dir, Options{}, quota.DefaultLimits())
	if err := w.Bucket().Upload(ctx, objectName, strings.NewReader(`{"data": "trunc`)); err != nil {
		t.Fatal(err)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	var logs logbuf.Buffer
	r, w, in := openWorkspace(t, dir, Options{Logger: logs.Logger()}, quota.DefaultLimits())
	full := "workspaces/" + w.ID() + "/" + objectName
	d, err := in.Describe()
	if err != nil {
		t.Fatal(err)
	}
	if d.Status != StatusUpdateFailed || !strings.Contains(d.StatusReason, full) || d.CreatedAt.IsZero() {
		t.Errorf("corrupt definition: %+v", d)
	}
	if !strings.Contains(logs.String(), full) {
		t.Errorf("the object is not named in the logs:\n%s", logs.String())
	}
	if in.running.Load() != nil {
		t.Error("a corrupt definition runs")
	}
	if _, err := in.Create(ctx, definition(webhookConfig("http://127.0.0.1:1/"), nil), ""); err == nil {
		t.Error("Create over a corrupt definition succeeded: it exists, as AMP's does")
	}
	if _, err := in.Put(ctx, definition(webhookConfig("http://127.0.0.1:1/"), nil), ""); err != nil {
		t.Fatal(err)
	}
	if d, _ := in.Describe(); d.Status != StatusActive || d.StatusReason != "" || in.running.Load() == nil {
		t.Errorf("after Put: %+v", d)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	_, _, in = openWorkspace(t, dir, Options{}, quota.DefaultLimits())
	if d, err := in.Describe(); err != nil || d.Status != StatusActive {
		t.Errorf("after reopening: %+v, %v", d, err)
	}
}
