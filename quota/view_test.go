package quota_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/promspace/promspace/quota"
	"github.com/promspace/promspace/workspace"
)

// getView serves GET with q and decodes the JSON.
func getView(t *testing.T, q *quota.Quota) (quota.View, map[string]any) {
	t.Helper()
	srv := httptest.NewServer(q)
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/limits")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("%d %s %s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	var v quota.View
	var raw map[string]any
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(body, &raw); err != nil {
		t.Fatal(err)
	}
	return v, raw
}

// TestView: every limit next to its usage, in the JSON the README
// documents, with null for no limit and for usage not measured.
func TestView(t *testing.T) {
	o := &overrides{l: quota.DefaultLimits()}
	o.l.MaxActiveSeries = 10
	o.l.MaxQueryLength = time.Hour
	o.l.MaxRules = 0
	// The token bucket refills only when the clock moves.
	clock := &fakeClock{t: time.Now()}
	e := newMeterEnv(t, quota.Options{Overrides: o.get, Now: clock.Now})
	set := []workspace.LabelSetLimit{{LabelSet: labels.FromStrings("job", "api"), MaxSeries: 5}}
	if _, err := e.reg.UpdateConfiguration(context.Background(), workspace.UpdateConfigurationInput{ID: e.w.ID(), LimitsPerLabelSet: set}); err != nil {
		t.Fatal(err)
	}
	now := clock.Now()
	e.write(samples(now, 2, "__name__", "up", "job", "api", "i", "0"), samples(now, 2, "__name__", "up", "job", "api", "i", "1"),
		samples(now, 2, "__name__", "other", "job", "db"))
	e.m.ObserveQuery(7)

	v, raw := getView(t, e.q)
	num := func(f float64) *float64 { return &f }
	eq := func(name string, got quota.ViewLimit, limit, usage *float64, unit string) {
		t.Helper()
		same := func(a, b *float64) bool { return (a == nil) == (b == nil) && (a == nil || *a == *b) }
		if !same(got.Limit, limit) || !same(got.Usage, usage) || got.Unit != unit {
			t.Errorf("%s: %s, want limit %s usage %s %s", name, show(got), fmtp(limit), fmtp(usage), unit)
		}
	}
	l := v.Limits
	eq("activeSeries", l.ActiveSeries, num(10), num(3), "series")
	eq("activeSeriesPerMetric", l.ActiveSeriesPerMetric, num(quota.DefaultMaxActiveSeriesPerMetric), num(2), "series")
	if l.ActiveSeriesPerMetric.Metric != "up" {
		t.Errorf("largest metric %q", l.ActiveSeriesPerMetric.Metric)
	}
	eq("ingestionRate", l.IngestionRate, num(quota.DefaultIngestionRate), nil, "samples/s")
	if u := l.IngestionBurst.Usage; u == nil || *u != 6 || *l.IngestionBurst.Limit != quota.DefaultIngestionBurst {
		t.Errorf("ingestionBurst %s, want 6 of the burst taken", show(l.IngestionBurst))
	}
	eq("labelsPerSeries", l.LabelsPerSeries, num(quota.DefaultMaxLabelsPerSeries), nil, "labels")
	eq("metadataFamilies", l.MetadataFamilies, num(quota.DefaultMaxMetadataFamilies), num(0), "families")
	eq("queryTimeRange", l.QueryTimeRange, num(3600), nil, "seconds")
	eq("queryTimeout", l.QueryTimeout, num(60), nil, "seconds")
	eq("bytesPerQuery", l.BytesPerQuery, num(quota.DefaultMaxBytesPerQuery), nil, "bytes per 24h of range")
	eq("outOfOrderTimeWindow", l.OutOfOrderTimeWindow, num(60), nil, "seconds")
	eq("rules", l.Rules, nil, nil, "rules")
	eq("activeAlerts", l.ActiveAlerts, num(quota.DefaultMaxActiveAlerts), nil, "alerts")
	if len(v.LabelSets) != 1 || v.LabelSets[0].LabelSet["job"] != "api" {
		t.Fatalf("labelSets %+v", v.LabelSets)
	}
	eq("labelSets[0]", v.LabelSets[0].ViewLimit, num(5), num(2), "series")
	u := v.Usage
	if v.WorkspaceID != e.w.ID() || u.SamplesIngested != 6 || u.QuerySamplesProcessed != 7 ||
		u.StorageBytes.WAL <= 0 || u.StorageBytes.Total != u.StorageBytes.Head+u.StorageBytes.WAL+u.StorageBytes.Blocks {
		t.Errorf("view %s usage %+v", v.WorkspaceID, u)
	}
	// The JSON's own names, as documented.
	for _, key := range []string{"workspaceId", "time", "limits", "labelSets", "usage"} {
		if _, ok := raw[key]; !ok {
			t.Errorf("no %q in %v", key, raw)
		}
	}
	rules := raw["limits"].(map[string]any)["rules"].(map[string]any)
	if rules["limit"] != nil || rules["usage"] != nil {
		t.Errorf("rules %v: want null limit and usage", rules)
	}
	if _, ok := raw["usage"].(map[string]any)["samplesDiscarded"].(map[string]any); !ok {
		t.Errorf("samplesDiscarded %v: want an object", raw["usage"])
	}

	// An override changes the view as soon as it applies.
	o.set(func(l *quota.Limits) { l.MaxQueryLength = 2 * time.Hour })
	if _, err := e.reg.UpdateConfiguration(context.Background(), workspace.UpdateConfigurationInput{ID: e.w.ID(), LimitsPerLabelSet: set}); err != nil {
		t.Fatal(err)
	}
	if v, _ := getView(t, e.q); v.Limits.QueryTimeRange.Limit == nil || *v.Limits.QueryTimeRange.Limit != 7200 {
		t.Errorf("after the override: queryTimeRange %s", show(v.Limits.QueryTimeRange))
	}

	resp, err := http.Post(httptest.NewServer(e.q).URL, "application/json", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST: %d", resp.StatusCode)
	}
}

func show(l quota.ViewLimit) string {
	b, _ := json.Marshal(l)
	return string(b)
}

func fmtp(p *float64) string {
	b, _ := json.Marshal(p)
	return string(b)
}
