package ingest

import (
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/stretchr/testify/require"
)

// TestPrefetchV2 checks that prefetching reads the slots the lookups use:
// the hash it finds for each series, from the series' references alone,
// is the hash of the series' pairs, and files the entry the series' lookup
// found, with and without a label left out.
func TestPrefetchV2(t *testing.T) {
	msg := benchDecodeRequestV2(benchDecodeRequest(true))
	body, err := msg.Marshal()
	require.NoError(t, err)
	for _, strip := range []string{"", "instance"} {
		cache := newLabelsCache(1<<12, time.Now)
		for round := range 2 {
			req := newRequest()
			require.NoError(t, decode(req, V2, body, model.UTF8Validation, cache, strip))
			if round == 0 {
				continue // the misses that fill the cache
			}
			require.Len(t, req.d.peeked, len(req.Series))
			for i := range req.Series {
				s := &req.Series[i]
				refs, hash, ok := req.d.peek(i)
				require.True(t, ok, "series %d", i)
				require.Equal(t, msg.Timeseries[i].LabelsRefs, refs, "series %d", i)
				var pairs []labels.Label
				for j := 0; j < len(refs); j += 2 {
					pairs = append(pairs, labels.Label{Name: msg.Symbols[refs[j]], Value: msg.Symbols[refs[j+1]]})
				}
				d := decoder{strip: strip}
				require.Equal(t, cache.hash(pairs, d.stripIndex(pairs)), hash, "strip %q, series %d", strip, i)
				require.NotNil(t, s.cached, "series %d", i)
				require.Same(t, s.cached, cache.cur.find(hash), "strip %q, series %d: %s", strip, i, s.Labels)
			}
		}
	}
}
