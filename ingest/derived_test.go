package ingest

import (
	"testing"

	"github.com/prometheus/prometheus/model/labels"
)

func TestSeriesWithoutLabel(t *testing.T) {
	ls := labels.FromStrings("__name__", "up", "__replica__", "a", "job", "j")
	want := labels.FromStrings("__name__", "up", "job", "j")

	// Not from the labels cache: the stage strips itself.
	s := Series{Labels: ls}
	if _, ok := s.WithoutLabel("__replica__"); ok {
		t.Fatal("labels without a cache entry: ok")
	}

	e := &cachedLabels{labels: ls}
	s = Series{Labels: ls, cached: e}
	got, ok := s.WithoutLabel("__replica__")
	if !ok || !labels.Equal(got, want) {
		t.Fatalf("WithoutLabel = %v, %v; want %v, true", got, ok, want)
	}
	// A series of a later request, from the same entry, gets the same.
	s2 := Series{Labels: e.labels, cached: e}
	if got2, ok := s2.WithoutLabel("__replica__"); !ok || !labels.Equal(got2, want) {
		t.Fatalf("second WithoutLabel = %v, %v", got2, ok)
	}
	// Another name is not kept.
	if _, ok := s2.WithoutLabel("job"); ok {
		t.Fatal("second name: ok")
	}
	// Labels changed by an earlier stage are not those of the entry.
	s3 := Series{Labels: labels.FromStrings("__name__", "down", "__replica__", "a"), cached: e}
	if _, ok := s3.WithoutLabel("__replica__"); ok {
		t.Fatal("changed labels: ok")
	}
	// A name the labels lack gives the labels themselves.
	e4 := &cachedLabels{labels: want}
	s4 := Series{Labels: want, cached: e4}
	if got, ok := s4.WithoutLabel("replica"); !ok || !labels.Equal(got, want) {
		t.Fatalf("absent name: %v, %v", got, ok)
	}
}
