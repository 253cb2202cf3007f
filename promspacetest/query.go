package promspacetest

import (
	"context"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/prometheus/common/model"
)

// Query runs an instant PromQL query at ts (the zero time means now) and
// returns its value. An error fails the test.
func (s *Server) Query(t testing.TB, q string, ts time.Time) model.Value {
	t.Helper()
	if ts.IsZero() {
		ts = time.Now()
	}
	v, warnings, infos, err := s.api.Query(context.Background(), q, ts)
	if err != nil {
		t.Fatalf("promspacetest: query %q: %v", q, err)
	}
	for _, w := range warnings {
		t.Logf("promspacetest: query %q: warning: %s", q, w)
	}
	for _, i := range infos {
		t.Logf("promspacetest: query %q: info: %s", q, i)
	}
	return v
}

// QueryVector runs an instant query at now and returns its samples keyed by
// their series, written as PromQL writes them (`up{job="a"}`, `{}` for no
// labels). A result that is not a vector fails the test.
func (s *Server) QueryVector(t testing.TB, q string) map[string]float64 {
	t.Helper()
	v := s.Query(t, q, time.Time{})
	vec, ok := v.(model.Vector)
	if !ok {
		t.Fatalf("promspacetest: query %q: got a %s, want a vector", q, v.Type())
	}
	got := make(map[string]float64, len(vec))
	for _, smp := range vec {
		if smp.Histogram != nil {
			t.Fatalf("promspacetest: query %q: %s is a native histogram; query its count or sum", q, smp.Metric)
		}
		got[smp.Metric.String()] = float64(smp.Value)
	}
	return got
}

// AssertQuery runs an instant query at now and fails the test unless the
// result holds exactly the series and values of want.
func (s *Server) AssertQuery(t testing.TB, q string, want map[string]float64) {
	t.Helper()
	got := s.QueryVector(t, q)
	if maps.Equal(got, want) {
		return
	}
	t.Errorf("promspacetest: query %q:\n got: %s\nwant: %s", q, formatVector(got), formatVector(want))
}

func formatVector(v map[string]float64) string {
	if len(v) == 0 {
		return "(empty)"
	}
	var out string
	for _, k := range slices.Sorted(maps.Keys(v)) {
		out += "\n  " + k + " => " + model.SampleValue(v[k]).String()
	}
	return out
}
