package ingest

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/prometheus/prometheus/model/labels"
)

// TestSamePairs checks samePairs against samePairsRange, which reads the
// labels through their methods, on pairs that are and are not the labels:
// reordered, one changed, cut short, longer, with empty values and a
// skipped pair, values long enough for a three-byte length.
func TestSamePairs(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	word := func() string {
		switch rng.IntN(8) {
		case 0:
			return strings.Repeat("x", 250+rng.IntN(20))
		case 1:
			return ""
		default:
			return string(rune('a'+rng.IntN(4))) + strings.Repeat("b", rng.IntN(3))
		}
	}
	for range 20000 {
		n := rng.IntN(6)
		var pairs []labels.Label
		for k := range n {
			pairs = append(pairs, labels.Label{Name: string(rune('a'+k)) + word(), Value: word()})
		}
		skip := rng.IntN(n+1) - 1
		b := labels.NewScratchBuilder(n)
		for k, p := range pairs {
			if k != skip && p.Value != "" {
				b.Add(p.Name, p.Value)
			}
		}
		ls := b.Labels()
		// Variants of the pairs, most not ls.
		variant := append([]labels.Label(nil), pairs...)
		switch rng.IntN(5) {
		case 0:
			if n > 0 {
				k := rng.IntN(n)
				variant[k].Value = word()
			}
		case 1:
			if n > 1 {
				variant[0], variant[1] = variant[1], variant[0]
			}
		case 2:
			if n > 0 {
				variant = variant[:n-1]
			}
		case 3:
			variant = append(variant, labels.Label{Name: "z" + word(), Value: word()})
		}
		for _, ps := range [][]labels.Label{pairs, variant} {
			if got, want := samePairs(ls, ps, skip), samePairsRange(ls, ps, skip); got != want {
				t.Fatalf("samePairs(%v, %v, %d) = %v, Range says %v", ls, ps, skip, got, want)
			}
		}
		if !samePairs(ls, pairs, skip) {
			t.Fatalf("samePairs(%v, own pairs %v, %d) is false", ls, pairs, skip)
		}
	}
}
