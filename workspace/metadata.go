package workspace

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"iter"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/prometheus/prometheus/model/metadata"
	"github.com/promspace/promspace/internal/atomicfile"
)

// metadataFile is the MetadataStore's file in a workspace directory. The
// TSDB ignores files that are not block directories.
const metadataFile = "metric-metadata.json"

// MetadataFile is the name of the file, in the workspace's directory, that
// the workspace loads its metric metadata from when its TSDB opens and
// saves it to every Options.MetadataFlushInterval: the block shipper keeps a
// copy of it in the bucket and puts it back on an empty disk.
const MetadataFile = metadataFile

// MetadataStore keeps the latest metadata of each metric family of a
// workspace, up to a fixed number of families; metadata of further families
// is dropped, as AMP does. It is safe for concurrent use.
type MetadataStore struct {
	mtx         sync.RWMutex
	maxFamilies int
	families    map[string]metadata.Metadata
	dirty       bool

	dropped atomic.Int64

	// saveMtx serializes writes of the file: the periodic flush and Close
	// may save at once.
	saveMtx sync.Mutex
}

// NewMetadataStore returns an empty store that keeps at most maxFamilies
// metric families (MaxMetadataFamilies if maxFamilies <= 0).
func NewMetadataStore(maxFamilies int) *MetadataStore {
	if maxFamilies <= 0 {
		maxFamilies = MaxMetadataFamilies
	}
	return &MetadataStore{maxFamilies: maxFamilies, families: map[string]metadata.Metadata{}}
}

// SetMaxFamilies changes how many metric families the store keeps
// metadata for (MaxMetadataFamilies if n <= 0), as a quota override does.
// Families already kept stay when n is lower; only new ones are dropped.
func (s *MetadataStore) SetMaxFamilies(n int) {
	if n <= 0 {
		n = MaxMetadataFamilies
	}
	s.mtx.Lock()
	s.maxFamilies = n
	s.mtx.Unlock()
}

// MaxFamilies returns how many metric families the store keeps metadata
// for.
func (s *MetadataStore) MaxFamilies() int {
	s.mtx.RLock()
	defer s.mtx.RUnlock()
	return s.maxFamilies
}

// Set records m as the metadata of metricFamily. Metadata of a family that
// is not yet known is dropped once the store is full.
func (s *MetadataStore) Set(metricFamily string, m metadata.Metadata) {
	s.SetAll(func(yield func(string, metadata.Metadata) bool) { yield(metricFamily, m) })
}

// SetAll records the metadata of each family families yields, as Set does.
// Senders repeat the same metadata with every request, so it is first
// compared under the read lock, and written only if some of it changed.
func (s *MetadataStore) SetAll(families iter.Seq2[string, metadata.Metadata]) {
	s.mtx.RLock()
	same := true
	for f, m := range families {
		if f == "" {
			continue
		}
		if old, ok := s.families[f]; !ok || old != m {
			same = false
			break
		}
	}
	s.mtx.RUnlock()
	if same {
		return
	}

	s.mtx.Lock()
	defer s.mtx.Unlock()
	for f, m := range families {
		old, ok := s.families[f]
		switch {
		case f == "", ok && old == m:
			continue
		case !ok && len(s.families) >= s.maxFamilies:
			s.dropped.Add(1)
			continue
		}
		s.families[f] = m
		s.dirty = true
	}
}

// List returns metadata in the shape of Prometheus' /api/v1/metadata. A
// non-empty metric restricts the result to that metric family. limit caps
// the number of families and limitPerMetric the entries per family; zero or
// negative means no limit. With a limit the families are the first in
// lexical order, so that the answer does not change between calls.
func (s *MetadataStore) List(metric string, limit, limitPerMetric int) map[string][]metadata.Metadata {
	// The store keeps one entry per family, which any limitPerMetric allows.
	s.mtx.RLock()
	defer s.mtx.RUnlock()
	if metric != "" {
		if m, ok := s.families[metric]; ok {
			return map[string][]metadata.Metadata{metric: {m}}
		}
		return map[string][]metadata.Metadata{}
	}
	if limit <= 0 || limit >= len(s.families) {
		res := make(map[string][]metadata.Metadata, len(s.families))
		for name, m := range s.families {
			res[name] = []metadata.Metadata{m}
		}
		return res
	}
	names := make([]string, 0, len(s.families))
	for name := range s.families {
		names = append(names, name)
	}
	slices.Sort(names)
	res := make(map[string][]metadata.Metadata, limit)
	for _, name := range names[:limit] {
		res[name] = []metadata.Metadata{s.families[name]}
	}
	return res
}

// Len returns the number of metric families with metadata.
func (s *MetadataStore) Len() int {
	s.mtx.RLock()
	defer s.mtx.RUnlock()
	return len(s.families)
}

// Dropped returns how many updates were dropped because the store was full.
func (s *MetadataStore) Dropped() int64 { return s.dropped.Load() }

type metadataFileContent struct {
	Version  int                          `json:"version"`
	Families map[string]metadata.Metadata `json:"families"`
}

// MarshalJSON encodes the store as its file (MetadataFile) holds it, for
// the copies kept elsewhere: the block shipper's, in the bucket.
func (s *MetadataStore) MarshalJSON() ([]byte, error) {
	s.mtx.RLock()
	defer s.mtx.RUnlock()
	return json.Marshal(metadataFileContent{Version: 1, Families: s.families})
}

// load adds the families saved in dir to the store; families already set
// are kept.
func (s *MetadataStore) load(dir string) error {
	b, err := os.ReadFile(filepath.Join(dir, metadataFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	var c metadataFileContent
	if err := json.Unmarshal(b, &c); err != nil {
		return fmt.Errorf("decode %s: %w", metadataFile, err)
	}
	s.mtx.Lock()
	defer s.mtx.Unlock()
	for name, m := range c.Families {
		if _, ok := s.families[name]; ok || len(s.families) >= s.maxFamilies {
			continue
		}
		s.families[name] = m
	}
	return nil
}

// save writes the store to dir if it changed since the last save.
func (s *MetadataStore) save(dir string) error {
	s.saveMtx.Lock()
	defer s.saveMtx.Unlock()
	s.mtx.Lock()
	if !s.dirty {
		s.mtx.Unlock()
		return nil
	}
	b, err := json.Marshal(metadataFileContent{Version: 1, Families: s.families})
	s.dirty = false
	s.mtx.Unlock()
	if err != nil {
		return err
	}
	if err := atomicfile.Write(filepath.Join(dir, metadataFile), bytes.NewReader(b)); err != nil {
		s.mtx.Lock()
		s.dirty = true
		s.mtx.Unlock()
		return err
	}
	return nil
}
