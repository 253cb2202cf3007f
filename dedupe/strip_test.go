package dedupe

import (
	"fmt"
	"sync"
	"testing"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/promspace/promspace/ingest"
)

func TestLabelsID(t *testing.T) {
	a := labels.FromStrings("a", "1", "b", "2")
	b := labels.FromStrings("a", "1", "b", "2")
	c := a
	if labelsID(a) != labelsID(c) {
		t.Error("copies of labels have different ids")
	}
	if labelsID(a) == labelsID(b) {
		t.Error("labels built apart have the same id")
	}
}

func TestStripperCache(t *testing.T) {
	for _, name := range []string{"__replica__", "replica"} {
		t.Run(name, func(t *testing.T) {
			s := newStripper(name, 4)
			lsets := make([]labels.Labels, 10)
			for i := range lsets {
				lsets[i] = labels.FromStrings("__name__", "up", name, "r0", "cluster", "c", "i", fmt.Sprint(i))
			}
			other := labels.FromStrings("__name__", "up", "i", "x")
			req := func() []ingest.Series {
				ss := []ingest.Series{{Labels: other}}
				for _, ls := range lsets {
					ss = append(ss, ingest.Series{Labels: ls})
				}
				return ss
			}
			first := req()
			s.stripAll(first)
			for round := range 3 {
				got := req()
				s.stripAll(got)
				for i, ser := range got {
					want := labels.NewBuilder(req()[i].Labels).Del(name).Labels()
					if !labels.Equal(ser.Labels, want) {
						t.Fatalf("round %d series %d: %s, want %s", round, i, ser.Labels, want)
					}
					if ser.Labels.Has(name) {
						t.Fatalf("round %d series %d keeps %s", round, i, name)
					}
					if err := ser.Labels.Validate(func(labels.Label) error { return nil }); err != nil {
						t.Fatal(err)
					}
				}
				if len(s.table)*bucketLen != s.size {
					t.Fatalf("table of %d entries, size %d", len(s.table)*bucketLen, s.size)
				}
			}
			// Labels of the same content elsewhere in memory are stripped
			// alike.
			again := []ingest.Series{{Labels: labels.FromStrings("__name__", "up", name, "r0", "cluster", "c", "i", "3")}}
			s.stripAll(again)
			if want := labels.FromStrings("__name__", "up", "cluster", "c", "i", "3"); !labels.Equal(again[0].Labels, want) {
				t.Errorf("%s, want %s", again[0].Labels, want)
			}
			s.reset()
			if s.table != nil {
				t.Error("reset kept entries")
			}
		})
	}
}

// TestStripperCacheHit checks that labels received again get the labels
// stripped the first time, the very memory, as the TSDB's series has them.
func TestStripperCacheHit(t *testing.T) {
	s := newStripper(DefaultReplicaLabel, 16)
	ls := labels.FromStrings("__name__", "up", "__replica__", "a", "cluster", "c")
	one := []ingest.Series{{Labels: ls}}
	two := []ingest.Series{{Labels: ls}}
	s.stripAll(one)
	s.stripAll(two)
	if labelsID(one[0].Labels) != labelsID(two[0].Labels) {
		t.Error("stripped anew on a hit")
	}
	if got := testing.AllocsPerRun(10, func() { s.stripAll([]ingest.Series{{Labels: ls}}) }); got > 1 {
		t.Errorf("%v allocations on a hit", got)
	}
}

func TestStripperConcurrent(t *testing.T) {
	s := newStripper(DefaultReplicaLabel, 8)
	lsets := make([]labels.Labels, 32)
	for i := range lsets {
		lsets[i] = labels.FromStrings("__replica__", "a", "i", fmt.Sprint(i))
	}
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for r := range 50 {
				ss := make([]ingest.Series, 0, len(lsets))
				for i := range lsets {
					ss = append(ss, ingest.Series{Labels: lsets[(i+g+r)%len(lsets)]})
				}
				s.stripAll(ss)
				for i, ser := range ss {
					if want := fmt.Sprint((i + g + r) % len(lsets)); ser.Labels.Get("i") != want || ser.Labels.Has("__replica__") || ser.Labels.Len() != 1 {
						t.Errorf("got %s, want {i=%q}", ser.Labels, want)
						return
					}
				}
			}
		})
	}
	wg.Wait()
}
