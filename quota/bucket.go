package quota

import (
	"math"
	"sync"
	"time"
)

// tokenBucket is a workspace's ingestion rate limit: it holds up to burst
// tokens, refills at rate tokens a second, and a request takes one token
// for each sample, histogram and metadata entry it carries. It starts full,
// as golang.org/x/time/rate's Limiter (Cortex's) does. Its lock is the
// workspace's own.
type tokenBucket struct {
	mtx    sync.Mutex
	rate   float64 // tokens a second; 0: no limit
	burst  float64
	tokens float64
	last   time.Time // of the last refill
}

// bucketDecision is what a request of n tokens gets.
type bucketDecision int

const (
	bucketAllowed bucketDecision = iota
	// bucketWait: not enough tokens now; retry after the wait returned.
	bucketWait
	// bucketTooLarge: n exceeds the burst, so no wait will ever do.
	bucketTooLarge
)

// setLimits changes the rate and burst, keeping the tokens (at most the new
// burst). A bucket that had no limit starts full.
func (b *tokenBucket) setLimits(now time.Time, rate float64, burst int) {
	b.mtx.Lock()
	defer b.mtx.Unlock()
	if rate <= 0 {
		b.rate, b.burst, b.tokens = 0, 0, 0
		return
	}
	newBurst := float64(burst)
	if burst <= 0 {
		// No burst configured: one second of the rate.
		newBurst = math.Ceil(rate)
	}
	if b.rate == 0 {
		b.tokens, b.last = newBurst, now
	} else {
		b.refill(now)
	}
	b.rate, b.burst = rate, newBurst
	b.tokens = min(b.tokens, b.burst)
}

// refill adds the tokens earned since the last refill; b.mtx is held. A
// clock going back earns nothing.
func (b *tokenBucket) refill(now time.Time) {
	if d := now.Sub(b.last); d > 0 {
		b.tokens = min(b.burst, b.tokens+d.Seconds()*b.rate)
		b.last = now
	}
}

// take takes n tokens at now if the bucket holds them. Otherwise it takes
// none and says how long until it will hold them.
func (b *tokenBucket) take(now time.Time, n int) (bucketDecision, time.Duration) {
	b.mtx.Lock()
	defer b.mtx.Unlock()
	if b.rate == 0 || n == 0 {
		return bucketAllowed, 0
	}
	need := float64(n)
	if need > b.burst {
		return bucketTooLarge, 0
	}
	b.refill(now)
	if need <= b.tokens {
		b.tokens -= need
		return bucketAllowed, 0
	}
	wait := time.Duration(math.Ceil((need - b.tokens) / b.rate * float64(time.Second)))
	return bucketWait, wait
}

// tryTake takes n tokens at now if the bucket holds them.
func (b *tokenBucket) tryTake(now time.Time, n int) bool {
	b.mtx.Lock()
	defer b.mtx.Unlock()
	if b.rate == 0 {
		return true
	}
	b.refill(now)
	if need := float64(n); need <= b.tokens {
		b.tokens -= need
		return true
	}
	return false
}

// giveBack returns n tokens taken and not used.
func (b *tokenBucket) giveBack(n int) {
	if n == 0 {
		return
	}
	b.mtx.Lock()
	defer b.mtx.Unlock()
	if b.rate != 0 {
		b.tokens = min(b.burst, b.tokens+float64(n))
	}
}

// limit returns the rate and burst in force (0, 0: no limit).
func (b *tokenBucket) limit() (float64, float64) {
	b.mtx.Lock()
	defer b.mtx.Unlock()
	return b.rate, b.burst
}

// available returns the tokens the bucket holds at now.
func (b *tokenBucket) available(now time.Time) float64 {
	b.mtx.Lock()
	defer b.mtx.Unlock()
	if b.rate == 0 {
		return 0
	}
	b.refill(now)
	return b.tokens
}

// retryAfter rounds a wait up to the whole seconds of a Retry-After header,
// at least one.
func retryAfter(wait time.Duration) time.Duration {
	s := math.Ceil(wait.Seconds())
	return time.Duration(max(s, 1)) * time.Second
}
