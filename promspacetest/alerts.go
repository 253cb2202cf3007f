package promspacetest

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/alertmanager/notify/webhook"
	"go.yaml.in/yaml/v3"

	"github.com/promspace/promspace/alertmanager"
	"github.com/promspace/promspace/workspace"
)

// ReceiverName names the harness's own receiver in the configurations
// LoadAlertmanagerConfig loads: a webhook whose notifications
// Notifications returns.
const ReceiverName = "promspacetest"

// DefaultAlertmanagerConfig routes every alert, one group per alertname,
// to the harness's receiver at once.
const DefaultAlertmanagerConfig = `route:
  receiver: ` + ReceiverName + `
  group_by: [alertname]
  group_wait: 0s
  group_interval: 10ms
  repeat_interval: 1h
`

// Notification is one notification that reached the harness's receiver:
// a group of alerts, as Alertmanager's webhook sends it.
type Notification struct {
	// Status is "firing" or "resolved".
	Status      string
	GroupLabels map[string]string
	// Alerts are the group's alerts; their Annotations are the alerts'
	// annotations, and Status each alert's.
	Alerts []NotifiedAlert
}

// NotifiedAlert is an alert of a Notification.
type NotifiedAlert struct {
	Alert
	Status string
}

// receiver is the harness's webhook.
type receiver struct {
	url    string
	mtx    sync.Mutex
	got    []Notification
	notify chan struct{}
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	var m webhook.Message
	if err := json.NewDecoder(req.Body).Decode(&m); err != nil || m.Data == nil {
		http.Error(w, "not an Alertmanager webhook message", http.StatusBadRequest)
		return
	}
	n := Notification{Status: m.Status, GroupLabels: m.GroupLabels}
	for _, a := range m.Alerts {
		n.Alerts = append(n.Alerts, NotifiedAlert{Alert: Alert{Labels: a.Labels, Annotations: a.Annotations}, Status: a.Status})
	}
	r.mtx.Lock()
	defer r.mtx.Unlock()
	r.got = append(r.got, n)
	close(r.notify)
	r.notify = make(chan struct{})
}

// LoadAlertmanagerConfig loads conf, an Alertmanager configuration, as the
// workspace's alert manager definition, creating it or replacing it as
// AMP's CreateAlertManagerDefinition and PutAlertManagerDefinition do; an
// empty conf is DefaultAlertmanagerConfig. The receiver named ReceiverName
// is added to its receivers: route alerts to it to see them with
// Notifications. A configuration that does not validate fails the test
// with the alert manager's message.
//
// Alertmanager sends notifications on its own timers, in real time: the
// alerts of EvalRules reach the receiver once their route's group_wait
// has passed, whatever time EvalRules was given (an alert whose rule was
// evaluated long ago is notified as resolved).
func (s *Server) LoadAlertmanagerConfig(t testing.TB, conf string) {
	t.Helper()
	if conf == "" {
		conf = DefaultAlertmanagerConfig
	}
	r := s.receiver(t)
	var doc map[string]any
	if err := yaml.Unmarshal([]byte(conf), &doc); err != nil || doc == nil {
		t.Fatalf("promspacetest: alertmanager configuration: %v", err)
	}
	rcvs, _ := doc["receivers"].([]any)
	doc["receivers"] = append(rcvs, map[string]any{
		"name":            ReceiverName,
		"webhook_configs": []any{map[string]any{"url": r.url, "send_resolved": true}},
	})
	b, err := yaml.Marshal(doc)
	if err != nil {
		t.Fatalf("promspacetest: %v", err)
	}
	data, err := yaml.Marshal(map[string]string{"alertmanager_config": string(b)})
	if err != nil {
		t.Fatalf("promspacetest: %v", err)
	}
	am := s.Alertmanager(t)
	ctx := context.Background()
	_, err = am.Put(ctx, data, "")
	if errors.Is(err, alertmanager.ErrNotFound) {
		_, err = am.Create(ctx, data, "")
	}
	if err != nil {
		t.Fatalf("promspacetest: load alertmanager configuration: %v", err)
	}
}

// Alertmanager returns the workspace's alert manager, for what the helpers
// here do not offer.
func (s *Server) Alertmanager(t testing.TB) *alertmanager.Instance {
	t.Helper()
	w, err := s.Service.Registry().Get(context.Background(), s.WorkspaceID)
	if err != nil {
		t.Fatalf("promspacetest: workspace: %v", err)
	}
	am, ok := workspace.InstanceOf[*alertmanager.Instance](w, alertmanager.ComponentName)
	if !ok {
		t.Fatalf("promspacetest: workspace %s has no alert manager", s.WorkspaceID)
	}
	return am
}

// Notifications returns the notifications the harness's receiver got so
// far, in the order they arrived.
func (s *Server) Notifications(t testing.TB) []Notification {
	t.Helper()
	r := s.receiver(t)
	r.mtx.Lock()
	defer r.mtx.Unlock()
	return append([]Notification(nil), r.got...)
}

// WaitNotifications waits until the harness's receiver got at least n
// notifications and returns them; after 10 seconds it fails the test.
func (s *Server) WaitNotifications(t testing.TB, n int) []Notification {
	t.Helper()
	r := s.receiver(t)
	timeout := time.NewTimer(10 * time.Second)
	defer timeout.Stop()
	for {
		r.mtx.Lock()
		got, ch := append([]Notification(nil), r.got...), r.notify
		r.mtx.Unlock()
		if len(got) >= n {
			return got
		}
		select {
		case <-ch:
		case <-timeout.C:
			t.Fatalf("promspacetest: %d notifications after 10s, want %d: %+v", len(got), n, got)
		}
	}
}

// receiver returns the server's webhook, started at the first call.
func (s *Server) receiver(t testing.TB) *receiver {
	s.receiverMtx.Lock()
	defer s.receiverMtx.Unlock()
	if s.hook == nil {
		r := &receiver{notify: make(chan struct{})}
		hs := httptest.NewServer(r)
		t.Cleanup(hs.Close)
		r.url = hs.URL
		s.hook = r
	}
	return s.hook
}
