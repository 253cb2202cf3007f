package ingest

// prefetchV2 brings into cache, for all of a 2.0 request's series at
// once, what their labels cache lookups will read: it hashes each series'
// label references as the lookup will, then reads their slots, then
// their entries, then the start of the entries' labels, each in one loop
// over the series (see labelsTable). The steady state of remote write,
// every series a hit, then waits for one cache miss at a time per loop
// instead of per read. Decoding then takes each series' references and
// hash from it (see peek) instead of reading them again; the lookups still
// verify the pairs, and a series whose references it cannot read (an
// invalid one, which decoding drops) is decoded as without it.
func (d *decoder) prefetchV2() {
	c := d.cache
	if c == nil || len(d.rawSeries) < minPrefetchSeries {
		return
	}
	peeked, refs := d.peeked[:0], d.peekedRefs[:0]
	for _, msg := range d.rawSeries {
		start := len(refs)
		var ok bool
		if refs, ok = d.peekRefs(refs, msg); !ok {
			refs = refs[:start]
			peeked = append(peeked, peekedSeries{})
			continue
		}
		own := refs[start:]
		peeked = append(peeked, peekedSeries{end: len(refs), hash: d.refsHash(own, d.stripRef(own)), ok: true})
	}
	d.peeked, d.peekedRefs = peeked, refs

	var sum uint64
	for _, p := range peeked {
		sum += c.cur.touchSlot(p.hash)
	}
	entries := d.entries[:0]
	for _, p := range peeked {
		e, v := c.cur.touchEntry(p.hash)
		if e == nil && c.old != nil {
			e, v = c.old.touchEntry(p.hash)
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

// peekedSeries is what prefetchV2 read of a series: its label references,
// d.peekedRefs up to end from the previous series' end, and their hash,
// as decodeSeriesV2 would find them; ok false if it could not read them.
type peekedSeries struct {
	end  int
	hash uint64
	ok   bool
}

// peek returns what prefetchV2 read of raw series i, ok false if nothing.
func (d *decoder) peek(i int) (refs []uint32, hash uint64, ok bool) {
	if i >= len(d.peeked) || !d.peeked[i].ok {
		return nil, 0, false
	}
	start := 0
	if i > 0 {
		start = d.peeked[i-1].end
	}
	return d.peekedRefs[start:d.peeked[i].end], d.peeked[i].hash, true
}

// minPrefetchSeries is the fewest series for which prefetchV2 pays: a
// small request's lookups have little to overlap. Tests lower it.
var minPrefetchSeries = 64

// peekRefs appends the label references of an encoded 2.0 series to
// refs, and returns false if they cannot be read or name no symbol.
func (d *decoder) peekRefs(refs []uint32, b []byte) ([]uint32, bool) {
	start := len(refs)
	for i := 0; i < len(b); {
		field, wt, next, err := readTag(b, i, "TimeSeries")
		if err != nil {
			return refs, false
		}
		if field == 1 {
			if refs, next, err = appendRefs(refs, b, next, wt, "LabelsRefs"); err != nil {
				return refs, false
			}
		} else if next, err = skipField(b, i); err != nil {
			return refs, false
		}
		i = next
	}
	own := refs[start:]
	if len(own)%2 != 0 {
		return refs, false
	}
	for _, r := range own {
		if int(r) >= len(d.symHashes) {
			return refs, false
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
