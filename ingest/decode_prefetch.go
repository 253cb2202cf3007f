package ingest

// prefetchV2 brings into cache, for all of a 2.0 request's series at
// once, what their labels cache lookups will read: it hashes each series'
// label references as the lookup will, then reads their slots, then
// their entries, then the start of the entries' labels, each in one loop
// over the series (see labelsTable). The steady state of remote write,
// every series a hit, then waits for one cache miss at a time per loop
// instead of per read. It changes nothing: lookups still hash and verify
// the pairs themselves, so a series whose references it cannot read (an
// invalid one, which decoding drops) merely goes without.
func (d *decoder) prefetchV2() {
	c := d.cache
	if c == nil || len(d.rawSeries) < minPrefetchSeries {
		return
	}
	hashes := d.hashes[:0]
	for _, msg := range d.rawSeries {
		refs, ok := d.peekRefs(msg)
		if !ok {
			continue
		}
		hashes = append(hashes, d.refsHash(refs, d.stripRef(refs)))
	}
	d.hashes = hashes

	var sum uint64
	for _, h := range hashes {
		sum += c.cur.touchSlot(h)
	}
	entries := d.entries[:0]
	for _, h := range hashes {
		e, v := c.cur.touchEntry(h)
		if e == nil && c.old != nil {
			e, v = c.old.touchEntry(h)
		}
		sum += v
		entries = append(entries, e)
	}
	for _, e := range entries {
		sum += touchLabels(e)
	}
	clear(entries)
	d.entries = entries[:0]
	d.prefetched = sum
}

// minPrefetchSeries is the fewest series for which prefetchV2 pays: a
// small request's lookups have little to overlap. Tests lower it.
var minPrefetchSeries = 64

// peekRefs returns the label references of an encoded 2.0 series, in
// d.refs, and false if they cannot be read or name no symbol.
func (d *decoder) peekRefs(b []byte) ([]uint32, bool) {
	refs := d.refs[:0]
	for i := 0; i < len(b); {
		field, wt, next, err := readTag(b, i, "TimeSeries")
		if err != nil {
			return nil, false
		}
		if field == 1 {
			if refs, next, err = appendRefs(refs, b, next, wt, "LabelsRefs"); err != nil {
				return nil, false
			}
		} else if next, err = skipField(b, i); err != nil {
			return nil, false
		}
		i = next
	}
	d.refs = refs
	if len(refs)%2 != 0 {
		return nil, false
	}
	for _, r := range refs {
		if int(r) >= len(d.symHashes) {
			return nil, false
		}
	}
	return refs, true
}

// stripRef is stripIndex for a series' label references: the index of
// the pair of the label to strip, -1 if there is none.
func (d *decoder) stripRef(refs []uint32) int {
	if d.strip == "" {
		return -1
	}
	for j := 0; j+1 < len(refs); j += 2 {
		if d.symbols[refs[j]] == d.strip {
			if d.symbols[refs[j+1]] == "" {
				return -1
			}
			return j / 2
		}
	}
	return -1
}
