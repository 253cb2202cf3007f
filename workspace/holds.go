package workspace

import "sync"

// holds counts the holders of a workspace's TSDB. Unlike a read lock, a
// hold may be taken while holding another (a request holds the workspace
// and so does each querier it opens) without deadlocking against a closer
// that waits: once closing starts, new holds are refused at once instead of
// queueing, and the closer waits only for the holds already taken.
//
// There is one exception, for the inner holds of the workspace's appenders
// and queriers (acquireInner): those are taken as long as an outer hold
// (acquire, that is Workspace.Acquire and Registry.Resolve) is held, closing
// or not, since the TSDB stays open until that one is released. A request
// that resolved a workspace can thus use its storage until it is done,
// whenever the deletion starts. Outer holds are refused once closing, so
// the closer still waits for a bounded time: inner holds cannot keep each
// other going once the last outer one is released.
type holds struct {
	mtx sync.Mutex
	// n counts every hold, outer the outer ones among them.
	n, outer int
	closing  bool
	// drained is closed when n drops to zero once closing; closed is
	// closed once the closer is done.
	drained chan struct{}
	closed  chan struct{}
}

// acquire takes an outer hold if the holds are not closing and usable says
// the workspace can be used; it is called with the holds locked. release
// releases it.
func (h *holds) acquire(usable func() bool) bool {
	h.mtx.Lock()
	defer h.mtx.Unlock()
	if h.closing || !usable() {
		return false
	}
	h.n++
	h.outer++
	return true
}

// acquireInner takes an inner hold: as acquire does, or else while an
// outer hold is held. releaseInner releases it.
func (h *holds) acquireInner(usable func() bool) bool {
	h.mtx.Lock()
	defer h.mtx.Unlock()
	if h.outer == 0 && (h.closing || !usable()) {
		return false
	}
	h.n++
	return true
}

func (h *holds) release() {
	h.mtx.Lock()
	defer h.mtx.Unlock()
	h.outer--
	h.releaseLocked()
}

func (h *holds) releaseInner() {
	h.mtx.Lock()
	defer h.mtx.Unlock()
	h.releaseLocked()
}

func (h *holds) releaseLocked() {
	h.n--
	if h.n == 0 && h.drained != nil {
		close(h.drained)
		h.drained = nil
	}
}

// refuse turns new holds away from now on.
func (h *holds) refuse() {
	h.mtx.Lock()
	h.closing = true
	h.mtx.Unlock()
}

// drain refuses new holds and waits until every hold is released. The
// first caller gets first true, and must call done once it closed what the
// holds protect; later callers wait for that and get false.
func (h *holds) drain() (first bool) {
	h.mtx.Lock()
	h.closing = true
	if h.closed != nil {
		closed := h.closed
		h.mtx.Unlock()
		<-closed
		return false
	}
	h.closed = make(chan struct{})
	var drained chan struct{}
	if h.n > 0 {
		drained = make(chan struct{})
		h.drained = drained
	}
	h.mtx.Unlock()
	if drained != nil {
		<-drained
	}
	return true
}

// done ends a drain whose caller got first.
func (h *holds) done() { close(h.closed) }
