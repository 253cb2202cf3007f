package workspace

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/metadata"
)

func counterMeta(help string) metadata.Metadata {
	return metadata.Metadata{Type: model.MetricTypeCounter, Help: help}
}

func TestMetadataStoreList(t *testing.T) {
	s := NewMetadataStore(0)
	for _, name := range []string{"c_total", "a_total", "b_total"} {
		s.Set(name, counterMeta(name))
	}
	s.Set("a_total", counterMeta("newer")) // the latest wins
	s.Set("", counterMeta("no family"))    // ignored

	for name, tc := range map[string]struct {
		metric                string
		limit, limitPerMetric int
		want                  []string
	}{
		"all":                   {"", 0, 0, []string{"a_total", "b_total", "c_total"}},
		"negative limit":        {"", -1, -1, []string{"a_total", "b_total", "c_total"}},
		"limit 2":               {"", 2, 0, []string{"a_total", "b_total"}},
		"limit above the count": {"", 10, 1, []string{"a_total", "b_total", "c_total"}},
		"one metric":            {"b_total", 0, 0, []string{"b_total"}},
		"unknown metric":        {"nope", 0, 0, nil},
		"limit per metric 1":    {"", 0, 1, []string{"a_total", "b_total", "c_total"}},
	} {
		t.Run(name, func(t *testing.T) {
			got := s.List(tc.metric, tc.limit, tc.limitPerMetric)
			if got == nil {
				t.Fatal("List returned a nil map")
			}
			if len(got) != len(tc.want) {
				t.Fatalf("got %v, want families %v", got, tc.want)
			}
			for _, name := range tc.want {
				if len(got[name]) != 1 {
					t.Errorf("%s: %v", name, got[name])
				}
			}
		})
	}
	if got := s.List("a_total", 0, 0)["a_total"][0].Help; got != "newer" {
		t.Errorf("help of a_total = %q, want the latest", got)
	}
}

func TestMetadataStoreCap(t *testing.T) {
	s := NewMetadataStore(0)
	for i := range MaxMetadataFamilies + 5 {
		s.Set(fmt.Sprintf("m%d", i), counterMeta(""))
	}
	if s.Len() != MaxMetadataFamilies || s.Dropped() != 5 {
		t.Errorf("len %d dropped %d, want %d and 5", s.Len(), s.Dropped(), MaxMetadataFamilies)
	}
	// A known family is still updated when the store is full.
	s.Set("m0", counterMeta("updated"))
	if got := s.List("m0", 0, 0)["m0"][0].Help; got != "updated" {
		t.Errorf("m0 help = %q", got)
	}
	if got := s.List(fmt.Sprintf("m%d", MaxMetadataFamilies), 0, 0); len(got) != 0 {
		t.Errorf("a dropped family is listed: %v", got)
	}
}

// TestMetadataStoreSetAll sets a request's metadata at once: as many Sets
// would, the store marked for saving only when something changed.
func TestMetadataStoreSetAll(t *testing.T) {
	s := NewMetadataStore(3)
	all := func(kv ...string) func(yield func(string, metadata.Metadata) bool) {
		return func(yield func(string, metadata.Metadata) bool) {
			for i := 0; i < len(kv); i += 2 {
				if !yield(kv[i], counterMeta(kv[i+1])) {
					return
				}
			}
		}
	}
	help := func(f string) string {
		if m := s.List(f, 0, 0)[f]; len(m) == 1 {
			return m[0].Help
		}
		return "(none)"
	}

	s.SetAll(all("a_total", "a", "", "no family", "b_total", "b"))
	if s.Len() != 2 || help("a_total") != "a" || help("b_total") != "b" || !s.dirty {
		t.Fatalf("len %d, a %q, b %q, dirty %v", s.Len(), help("a_total"), help("b_total"), s.dirty)
	}
	s.dirty = false
	s.SetAll(all("b_total", "b", "a_total", "a"))
	if s.dirty {
		t.Error("the same metadata again marked the store for saving")
	}
	// One family changed among unchanged ones; a new one fills the store
	// and the next is dropped.
	s.SetAll(all("a_total", "a", "b_total", "b2", "c_total", "c", "d_total", "d"))
	if help("b_total") != "b2" || help("c_total") != "c" || help("d_total") != "(none)" || s.Dropped() != 1 || !s.dirty {
		t.Errorf("b %q, c %q, d %q, dropped %d, dirty %v", help("b_total"), help("c_total"), help("d_total"), s.Dropped(), s.dirty)
	}
}

func TestMetadataStorePersistence(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, metadataFile)
	s := NewMetadataStore(0)
	if err := s.save(dir); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(file); !os.IsNotExist(err) {
		t.Fatalf("an unchanged store was written: %v", err)
	}
	want := metadata.Metadata{Type: model.MetricTypeHistogram, Help: "Latency.", Unit: "seconds"}
	s.Set("latency_seconds", want)
	if err := s.save(dir); err != nil {
		t.Fatal(err)
	}
	// Setting the same value again does not make the store dirty.
	if err := os.Remove(file); err != nil {
		t.Fatal(err)
	}
	s.Set("latency_seconds", want)
	if err := s.save(dir); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(file); !os.IsNotExist(err) {
		t.Fatalf("an unchanged value made the store write: %v", err)
	}
	s.Set("other", counterMeta("x"))
	if err := s.save(dir); err != nil {
		t.Fatal(err)
	}

	loaded := NewMetadataStore(0)
	if err := loaded.load(dir); err != nil {
		t.Fatal(err)
	}
	if got := loaded.List("latency_seconds", 0, 0)["latency_seconds"]; len(got) != 1 || got[0] != want {
		t.Errorf("loaded %v, want %v", got, want)
	}
	if loaded.Len() != 2 {
		t.Errorf("loaded %d families, want 2", loaded.Len())
	}
	if err := NewMetadataStore(0).load(t.TempDir()); err != nil {
		t.Errorf("loading a directory without a file: %v", err)
	}
}

func TestMetadataStoreConcurrent(t *testing.T) {
	s := NewMetadataStore(100)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 500 {
				s.Set(fmt.Sprintf("m%d", (g*31+i)%150), counterMeta(fmt.Sprint(i%3)))
				_ = s.List("", 10, 1)
			}
		})
	}
	wg.Wait()
	if s.Len() != 100 {
		t.Errorf("len = %d, want the cap 100", s.Len())
	}
}

func BenchmarkMetadataStoreSet(b *testing.B) {
	names := make([]string, 1000)
	for i := range names {
		names[i] = fmt.Sprintf("metric_%d_total", i)
	}
	m := counterMeta("Total of something.")
	b.Run("unchanged", func(b *testing.B) {
		s := NewMetadataStore(0)
		for _, n := range names {
			s.Set(n, m)
		}
		b.ReportAllocs()
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			i := 0
			for pb.Next() {
				s.Set(names[i%len(names)], m)
				i++
			}
		})
	})
	b.Run("changed", func(b *testing.B) {
		s := NewMetadataStore(0)
		alt := [2]metadata.Metadata{m, counterMeta("Other help.")}
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; b.Loop(); i++ {
			s.Set(names[i%len(names)], alt[(i/len(names))%2])
		}
	})
}
