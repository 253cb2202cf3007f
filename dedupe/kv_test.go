package dedupe_test

import (
	"testing"

	"github.com/promspace/promspace/dedupe"
	"github.com/promspace/promspace/dedupe/kvtest"
)

func TestMemoryKV(t *testing.T) {
	kvtest.TestKV(t, func(*testing.T) dedupe.KV { return dedupe.NewMemoryKV() })
}
