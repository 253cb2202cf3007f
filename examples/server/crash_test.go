//go:build crash

package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/promspace/promspace/internal/logbuf"
)

// The crash test runs the server as a child process, SIGKILLs it at random
// moments while clients create, tag, alias, configure and delete
// workspaces and two remote writers send interleaved, partly out-of-order
// samples, restarts it on the same data directory, and checks that
// everything acknowledged is there, and every sample once, after each
// restart. Run it with:
//
//	go test -tags crash -run TestCrash -v ./examples/server
func TestCrash(t *testing.T) {
	rounds := 20
	if s := os.Getenv("PROMSPACE_CRASH_ROUNDS"); s != "" {
		rounds, _ = strconv.Atoi(s)
	}
	bin := filepath.Join(t.TempDir(), "promspace")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	// PROMSPACE_CRASH_KEEP=dir keeps the data directory in dir (which must
	// not exist yet) for inspection after a failing run.
	dataDir := filepath.Join(t.TempDir(), "data")
	if keep := os.Getenv("PROMSPACE_CRASH_KEEP"); keep != "" {
		dataDir = keep
	}
	c := &crash{t: t, bin: bin, dataDir: dataDir, logs: &logbuf.Buffer{}}
	// PROMSPACE_CRASH_SAMPLES_ONLY=1 leaves out the control-plane load, so
	// that the writers send samples faster.
	c.samplesOnly = os.Getenv("PROMSPACE_CRASH_SAMPLES_ONLY") != ""
	c.writers = [2]*sampleWriter{{parity: 0}, {parity: 1}}
	c.writers[0].other, c.writers[1].other = c.writers[1], c.writers[0]
	base := time.Now().Add(-time.Hour).UnixMilli()
	for _, w := range c.writers {
		w.base = base
	}

	for round := range rounds {
		c.start()
		if round == 0 {
			c.setUp()
		} else {
			c.verify()
			c.verifySamples(fmt.Sprintf("after kill %d", round))
		}
		c.work(time.Duration(150+rand.IntN(650)) * time.Millisecond)
	}
	c.start()
	c.verify()
	listed := c.settle()
	c.verifySamples("at the end")
	c.stop()
	// No workspace's data is orphaned: every directory is a listed
	// workspace's.
	entries, err := os.ReadDir(filepath.Join(c.dataDir, "workspaces"))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if !listed[e.Name()] {
			t.Errorf("directory %s belongs to no workspace", e.Name())
		}
	}
	if strings.Contains(c.logs.String(), "cannot be decoded") {
		t.Errorf("a record could not be decoded:\n%s", grepLines(c.logs.String(), "cannot be decoded"))
	}
	if c.acked.Load() != c.found.Load() {
		t.Errorf("%d operations acknowledged, %d found", c.acked.Load(), c.found.Load())
	}
	fmt.Printf("crash test: %d kills; operations: %d acknowledged, %d found, %d cut short by a kill; samples: %d acknowledged, %d found, %d read back, %d duplicated, %d never sent\n",
		rounds, c.acked.Load(), c.found.Load(), c.uncertain.Load(), c.samples.acked, c.samples.found, c.samples.read, c.samples.duplicated, c.samples.neverSent)
}

type crash struct {
	t       *testing.T
	bin     string
	dataDir string
	logs    *logbuf.Buffer
	cmd     *exec.Cmd
	base    string
	client  http.Client
	// args are more flags of the server.
	args []string

	// The default workspace takes the samples; tagged takes four
	// concurrent taggers; configured takes alias and configuration
	// changes.
	defaultID  string
	tagged     wsState
	configured wsState
	// created are workspaces acknowledged as created and not asked to be
	// deleted; deleted those whose deletion was acknowledged, maybeDeleted
	// those whose deletion was cut short.
	mu           sync.Mutex
	created      map[string]string // id → alias
	deleted      map[string]bool
	maybeDeleted map[string]bool
	nextCreate   int

	writers     [2]*sampleWriter
	samplesOnly bool

	acked, found, uncertain atomic.Int64
	// pending counts, by what they changed, the operations acknowledged
	// since the last restart.
	pendMu  sync.Mutex
	pending map[string]int
	// samples is what the latest verifySamples counted.
	samples sampleCounts
}

// wsState is what was acknowledged of a workspace's changing attributes,
// and what was in flight when the server died.
type wsState struct {
	id, arn string
	// tags[i] is the value of key k<i> last acknowledged, inflight[i] the
	// one in flight at the kill.
	tags, inflight [4]int
	alias          string
	aliasInflight  string
	retention      int
	retentionMaybe int
}

func (c *crash) start() {
	c.t.Helper()
	c.cmd = exec.Command(c.bin, append([]string{"-listen", "127.0.0.1:0", "-data-dir", c.dataDir, "-log.format", "json"}, c.args...)...)
	stderr, err := c.cmd.StderrPipe()
	if err != nil {
		c.t.Fatal(err)
	}
	if err := c.cmd.Start(); err != nil {
		c.t.Fatal(err)
	}
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		sent := false
		for sc.Scan() {
			line := sc.Text()
			c.logs.Write([]byte(line + "\n"))
			if !sent && strings.Contains(line, `"msg":"Serving a local AMP"`) {
				var m struct{ Listen string }
				json.Unmarshal([]byte(line), &m)
				addr <- m.Listen
				sent = true
			}
		}
		if !sent {
			close(addr)
		}
	}()
	select {
	case a, ok := <-addr:
		if !ok {
			c.t.Fatalf("server exited before serving:\n%s", tail(c.logs.String()))
		}
		c.base = "http://" + a
	case <-time.After(60 * time.Second):
		c.t.Fatalf("server did not start:\n%s", tail(c.logs.String()))
	}
}

func (c *crash) kill() {
	c.cmd.Process.Signal(syscall.SIGKILL)
	c.cmd.Wait()
}

func (c *crash) stop() {
	c.cmd.Process.Signal(syscall.SIGTERM)
	if err := c.cmd.Wait(); err != nil {
		c.t.Fatalf("server did not stop cleanly: %v\n%s", err, tail(c.logs.String()))
	}
}

func (c *crash) setUp() {
	c.created, c.deleted, c.maybeDeleted = map[string]string{}, map[string]bool{}, map[string]bool{}
	c.pending = map[string]int{}
	c.defaultID = defaultWorkspaces(c.t, c.base)[0]
	for _, st := range []*wsState{&c.tagged, &c.configured} {
		code, body := c.do("POST", "/workspaces", `{"alias":"fixed"}`)
		if code != http.StatusAccepted {
			c.t.Fatalf("create: %d %s", code, body)
		}
		var out struct{ WorkspaceID, Arn string }
		json.Unmarshal(body, &out)
		st.id, st.arn, st.alias, st.retention = out.WorkspaceID, out.Arn, "fixed", 150
	}
}

// do sends one request; code is 0 when the server did not answer.
func (c *crash) do(method, path, body string) (int, []byte) {
	req, _ := http.NewRequest(method, c.base+path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.client.Do(req)
	if err != nil {
		return 0, nil
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, nil
	}
	return resp.StatusCode, b
}

// work runs every client against the server for d, then kills it.
func (c *crash) work(d time.Duration) {
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	if !c.samplesOnly {
		for i := range 4 {
			wg.Go(func() { c.tag(ctx, i) })
		}
		wg.Go(func() { c.reconfigure(ctx) })
		wg.Go(func() { c.createAndDelete(ctx) })
	}
	for _, w := range c.writers {
		wg.Go(func() { w.run(ctx, c) })
	}
	time.Sleep(d)
	c.kill()
	cancel()
	wg.Wait()
}

func (c *crash) pend(subject string) {
	c.pendMu.Lock()
	defer c.pendMu.Unlock()
	if c.pending == nil {
		c.pending = map[string]int{}
	}
	c.pending[subject]++
}

// ack counts an operation answered with a 2xx; a request the kill cut
// short counts as uncertain.
func (c *crash) ack(code int, want int) bool {
	switch {
	case code == want:
		c.acked.Add(1)
		return true
	case code == 0:
		c.uncertain.Add(1)
	default:
		c.t.Errorf("unexpected status %d, want %d", code, want)
	}
	return false
}

func (c *crash) tag(ctx context.Context, i int) {
	st := &c.tagged
	for ctx.Err() == nil {
		v := st.tags[i] + 1
		st.inflight[i] = v
		code, _ := c.do("POST", "/tags/"+url.PathEscape(st.arn), fmt.Sprintf(`{"tags":{"k%d":"%d"}}`, i, v))
		if !c.ack(code, http.StatusOK) {
			return
		}
		c.pend(fmt.Sprintf("tag/%d", i))
		st.tags[i] = v
	}
}

func (c *crash) reconfigure(ctx context.Context) {
	st := &c.configured
	for n := 0; ctx.Err() == nil; n++ {
		if n%2 == 0 {
			alias := fmt.Sprintf("alias-%d", rand.Int())
			st.aliasInflight = alias
			code, _ := c.do("POST", "/workspaces/"+st.id+"/alias", `{"alias":"`+alias+`"}`)
			if !c.ack(code, http.StatusNoContent) {
				return
			}
			c.pend("alias")
			st.alias = alias
			continue
		}
		days := 1 + rand.IntN(1000)
		st.retentionMaybe = days
		code, _ := c.do("PATCH", "/workspaces/"+st.id+"/configuration", fmt.Sprintf(`{"retentionPeriodInDays":%d}`, days))
		if !c.ack(code, http.StatusAccepted) {
			return
		}
		c.pend("retention")
		st.retention = days
	}
}

func (c *crash) createAndDelete(ctx context.Context) {
	for ctx.Err() == nil {
		c.mu.Lock()
		var victim string
		if len(c.created) >= 8 {
			for id := range c.created {
				victim = id
				break
			}
		}
		c.nextCreate++
		n := c.nextCreate
		c.mu.Unlock()

		if victim != "" {
			code, _ := c.do("DELETE", "/workspaces/"+victim, "")
			// The creation is checked with the deletion from now on.
			c.pendMu.Lock()
			if code == 0 {
				c.pending["maybe/"+victim] += c.pending["create/"+victim]
			} else {
				c.pending["delete/"+victim] += c.pending["create/"+victim]
			}
			delete(c.pending, "create/"+victim)
			c.pendMu.Unlock()
			c.mu.Lock()
			delete(c.created, victim)
			if code == 0 {
				c.maybeDeleted[victim] = true
			} else {
				c.deleted[victim] = true
			}
			c.mu.Unlock()
			if !c.ack(code, http.StatusAccepted) {
				return
			}
			c.pend("delete/" + victim)
			continue
		}
		alias := fmt.Sprintf("made-%d", n)
		code, body := c.do("POST", "/workspaces", `{"alias":"`+alias+`"}`)
		if !c.ack(code, http.StatusAccepted) {
			return
		}
		var out struct{ WorkspaceID string }
		json.Unmarshal(body, &out)
		c.pend("create/" + out.WorkspaceID)
		c.mu.Lock()
		c.created[out.WorkspaceID] = alias
		c.mu.Unlock()
	}
}

type describeOut struct {
	Workspace struct {
		Alias  string
		Status struct{ StatusCode string }
		Tags   map[string]string
	}
}

// describe returns the workspace once it is no longer CREATING, and its
// status code (404 for none).
func (c *crash) describe(id string) (describeOut, int) {
	for range 200 {
		var out describeOut
		code, body := c.do("GET", "/workspaces/"+id, "")
		if code != http.StatusOK {
			return out, code
		}
		json.Unmarshal(body, &out)
		if out.Workspace.Status.StatusCode != "CREATING" {
			return out, code
		}
		time.Sleep(10 * time.Millisecond)
	}
	c.t.Fatalf("workspace %s stays CREATING", id)
	return describeOut{}, 0
}

// verify checks, after a restart, that every acknowledged operation took
// effect, and takes what it finds of the uncertain ones as the new truth.
func (c *crash) verify() {
	t := c.t
	t.Helper()
	// check counts the acknowledged operations on subject as found when
	// ok holds.
	check := func(subject string, ok bool, format string, args ...any) {
		t.Helper()
		c.pendMu.Lock()
		n := c.pending[subject]
		delete(c.pending, subject)
		c.pendMu.Unlock()
		if ok {
			c.found.Add(int64(n))
			return
		}
		t.Errorf(format, args...)
	}

	st := &c.tagged
	out, code := c.describe(st.id)
	if code != http.StatusOK {
		t.Fatalf("tagged workspace: %d", code)
	}
	for i := range 4 {
		got, _ := strconv.Atoi(out.Workspace.Tags[fmt.Sprintf("k%d", i)])
		check(fmt.Sprintf("tag/%d", i), got == st.tags[i] || got == st.inflight[i], "tag k%d = %d, acknowledged %d (in flight %d)", i, got, st.tags[i], st.inflight[i])
		st.tags[i], st.inflight[i] = got, got
	}

	cf := &c.configured
	out, code = c.describe(cf.id)
	if code != http.StatusOK {
		t.Fatalf("configured workspace: %d", code)
	}
	check("alias", out.Workspace.Alias == cf.alias || out.Workspace.Alias == cf.aliasInflight,
		"alias %q, acknowledged %q (in flight %q)", out.Workspace.Alias, cf.alias, cf.aliasInflight)
	cf.alias = out.Workspace.Alias
	var conf struct {
		WorkspaceConfiguration struct{ RetentionPeriodInDays int }
	}
	_, body := c.do("GET", "/workspaces/"+cf.id+"/configuration", "")
	json.Unmarshal(body, &conf)
	got := conf.WorkspaceConfiguration.RetentionPeriodInDays
	check("retention", got == cf.retention || got == cf.retentionMaybe, "retention %d days, acknowledged %d (in flight %d)", got, cf.retention, cf.retentionMaybe)
	cf.retention = got

	c.mu.Lock()
	defer c.mu.Unlock()
	for id, alias := range c.created {
		out, code := c.describe(id)
		check("create/"+id, code == http.StatusOK && out.Workspace.Alias == alias && out.Workspace.Status.StatusCode == "ACTIVE",
			"created workspace %s: %d %+v", id, code, out.Workspace)
	}
	for id := range c.deleted {
		out, code := c.describe(id)
		check("delete/"+id, code == http.StatusNotFound || out.Workspace.Status.StatusCode == "DELETING",
			"deleted workspace %s: %d %+v", id, code, out.Workspace)
		if code == http.StatusNotFound {
			delete(c.deleted, id)
		}
	}
	for id := range c.maybeDeleted {
		out, code := c.describe(id)
		active := code == http.StatusOK && out.Workspace.Status.StatusCode == "ACTIVE"
		if active {
			c.created[id] = out.Workspace.Alias
		}
		check("maybe/"+id, active || code == http.StatusNotFound || out.Workspace.Status.StatusCode == "DELETING",
			"workspace %s whose deletion was cut short: %d %+v", id, code, out.Workspace)
		delete(c.maybeDeleted, id)
	}
	// Nothing half-done: every workspace listed is ACTIVE or DELETING.
	_, body = c.do("GET", "/workspaces?maxResults=1000", "")
	var list struct {
		Workspaces []struct {
			WorkspaceID string
			Status      struct{ StatusCode string }
		}
	}
	json.Unmarshal(body, &list)
	for _, w := range list.Workspaces {
		if s := w.Status.StatusCode; s != "ACTIVE" && s != "DELETING" && s != "CREATING" {
			t.Errorf("workspace %s is %s after a restart", w.WorkspaceID, s)
		}
	}
}

// settle waits until no deletion is in progress and returns the ids of the
// workspaces listed then.
func (c *crash) settle() map[string]bool {
	for range 500 {
		_, body := c.do("GET", "/workspaces?maxResults=1000", "")
		var list struct {
			Workspaces []struct {
				WorkspaceID string
				Status      struct{ StatusCode string }
			}
		}
		json.Unmarshal(body, &list)
		ids, busy := map[string]bool{}, false
		for _, w := range list.Workspaces {
			ids[w.WorkspaceID] = true
			busy = busy || w.Status.StatusCode != "ACTIVE"
		}
		if !busy {
			return ids
		}
		time.Sleep(10 * time.Millisecond)
	}
	c.t.Fatal("workspaces do not settle")
	return nil
}

func tail(s string) string {
	lines := strings.Split(s, "\n")
	return strings.Join(lines[max(0, len(lines)-30):], "\n")
}

func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
