package alertmanager

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/alertmanager/notify/webhook"
	"github.com/prometheus/prometheus/model/labels"
	promrules "github.com/prometheus/prometheus/rules"

	"github.com/promspace/promspace/quota"
	"github.com/promspace/promspace/workspace"
)

// openWorkspace opens a registry under dir with the quota and alertmanager
// components and returns its workspace aliased "w", created if need be.
func openWorkspace(t *testing.T, dir string, opts Options, limits quota.Limits) (*workspace.Registry, *workspace.Workspace, *Instance) {
	t.Helper()
	ctx := context.Background()
	r, err := workspace.Open(ctx, workspace.Options{DataDir: dir, Components: []workspace.Component{
		quota.New(quota.Options{Limits: &limits}).Component(),
		New(opts).Component(),
	}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	out, err := r.List(ctx, workspace.ListInput{Alias: "w"})
	if err != nil {
		t.Fatal(err)
	}
	var w *workspace.Workspace
	if len(out.Workspaces) > 0 {
		w = out.Workspaces[0]
	} else if w, err = r.Create(ctx, workspace.CreateInput{Alias: "w"}); err != nil {
		t.Fatal(err)
	}
	if w, err = r.Get(ctx, w.ID()); err != nil {
		t.Fatal(err)
	}
	in, ok := workspace.InstanceOf[*Instance](w, ComponentName)
	if !ok {
		t.Fatal("no alert manager instance")
	}
	return r, w, in
}

// definition returns an AMP definition whose alertmanager_config is conf,
// indented under it, with the given template files.
func definition(conf string, templates map[string]string) []byte {
	var b strings.Builder
	if len(templates) > 0 {
		b.WriteString("template_files:\n")
		for name, src := range templates {
			fmt.Fprintf(&b, "  %s: |\n%s", name, indent(src, "    "))
		}
	}
	b.WriteString("alertmanager_config: |\n")
	b.WriteString(indent(conf, "  "))
	return []byte(b.String())
}

func indent(s, prefix string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	for i, l := range lines {
		lines[i] = prefix + l
	}
	return strings.Join(lines, "\n") + "\n"
}

// webhookConfig routes every alert to the webhook at url, grouped by
// alertname, with tiny group timers.
func webhookConfig(url string) string {
	return `route:
  receiver: hook
  group_by: [alertname]
  group_wait: 10ms
  group_interval: 50ms
  repeat_interval: 100ms
receivers:
- name: hook
  webhook_configs:
  - url: ` + url + `
    send_resolved: true
`
}

// hook is a loopback webhook receiver recording Alertmanager's webhook
// messages.
type hook struct {
	URL string
	mtx sync.Mutex
	msg []webhook.Message
}

func newHook(t *testing.T) *hook {
	h := &hook{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var m webhook.Message
		if err := json.NewDecoder(r.Body).Decode(&m); err != nil {
			t.Errorf("webhook body: %v", err)
		}
		h.mtx.Lock()
		h.msg = append(h.msg, m)
		h.mtx.Unlock()
	}))
	t.Cleanup(srv.Close)
	h.URL = srv.URL
	return h
}

func (h *hook) messages() []webhook.Message {
	h.mtx.Lock()
	defer h.mtx.Unlock()
	return append([]webhook.Message(nil), h.msg...)
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// firing returns a firing alert of a rule, as Prometheus' rules manager
// hands it to the notifier.
func firing(name string, lbls ...string) *promrules.Alert {
	now := time.Now()
	return &promrules.Alert{
		State:      promrules.StateFiring,
		Labels:     labels.FromStrings(append([]string{"alertname", name}, lbls...)...),
		FiredAt:    now.Add(-time.Minute),
		ActiveAt:   now.Add(-2 * time.Minute),
		ValidUntil: now.Add(time.Hour),
	}
}

type webhookMsg = webhook.Message
