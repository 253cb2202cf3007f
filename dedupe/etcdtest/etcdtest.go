// Package etcdtest starts a real etcd server inside a test process, as
// net/http/httptest starts an HTTP server: one member on loopback ports
// the system picks, its data in the test's t.TempDir(), stopped by
// t.Cleanup. Tests of dedupe.NewEtcdKV and of several promspace nodes
// sharing one etcd run against it instead of a mock.
//
//	srv := etcdtest.NewServer(t)
//	kv := dedupe.NewEtcdKV(srv.Client(t), "promspace/ha/")
package etcdtest

import (
	"net/url"
	"os"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/server/v3/embed"
)

// Server is a running single-member etcd cluster.
type Server struct {
	// Endpoints are the client URLs, for clientv3.Config.Endpoints.
	Endpoints []string
}

// NewServer starts an etcd member on 127.0.0.1 and waits until it serves.
// Start one per test package, not one per test: a start takes a fraction
// of a second, and tests can keep apart by key prefix.
func NewServer(t testing.TB) *Server {
	t.Helper()
	cfg := embed.NewConfig()
	cfg.Name = "etcdtest"
	cfg.Dir = t.TempDir()
	// Its errors on closing, and its complaints of a new member's storage
	// version, are noise in a test's output.
	cfg.LogOutputs = []string{os.DevNull}
	// Port 0 everywhere: the kernel picks free ports, so packages testing
	// in parallel do not collide. One member needs no peer traffic.
	local := url.URL{Scheme: "http", Host: "127.0.0.1:0"}
	cfg.ListenClientUrls, cfg.AdvertiseClientUrls = []url.URL{local}, []url.URL{local}
	cfg.ListenPeerUrls, cfg.AdvertisePeerUrls = []url.URL{local}, []url.URL{local}
	cfg.InitialCluster = cfg.InitialClusterFromName(cfg.Name)
	// A test's data need not survive a crash, and a single member elects
	// itself within a few ticks of 10ms.
	cfg.UnsafeNoFsync = true
	cfg.TickMs, cfg.ElectionMs = 10, 100
	e, err := embed.StartEtcd(cfg)
	if err != nil {
		t.Fatalf("etcdtest: start etcd: %v", err)
	}
	t.Cleanup(e.Close)
	select {
	case <-e.Server.ReadyNotify():
	case err := <-e.Err():
		t.Fatalf("etcdtest: etcd failed: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("etcdtest: etcd not ready after 30s")
	}
	s := &Server{}
	for _, l := range e.Clients {
		s.Endpoints = append(s.Endpoints, "http://"+l.Addr().String())
	}
	return s
}

// Client returns a client of the server, closed by t.Cleanup.
func (s *Server) Client(t testing.TB) *clientv3.Client {
	t.Helper()
	c, err := clientv3.New(clientv3.Config{Endpoints: s.Endpoints, DialTimeout: 5 * time.Second})
	if err != nil {
		t.Fatalf("etcdtest: client: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}
