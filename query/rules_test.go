package query

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/prometheus/prometheus/rules"
)

// fakeRules is a workspace's rules retriever with one recording rule.
type fakeRules struct{ groups []*rules.Group }

func (f fakeRules) RuleGroups() []*rules.Group         { return f.groups }
func (fakeRules) AlertingRules() []*rules.AlertingRule { return nil }

func TestSourceRules(t *testing.T) {
	expr, err := parser.NewParser(parser.Options{}).ParseExpr(`sum(up)`)
	if err != nil {
		t.Fatal(err)
	}
	g := rules.NewGroup(rules.GroupOptions{
		Name: "g", File: "ns", Interval: time.Minute,
		Rules: []rules.Rule{rules.NewRecordingRule("job:up:sum", expr, labels.EmptyLabels())},
		Opts:  &rules.ManagerOptions{},
	})
	db := openDB(t)
	srv := httptest.NewServer(New(Options{}).Handler(Source{ID: "ws-1", Queryable: db, Rules: fakeRules{[]*rules.Group{g}}}))
	t.Cleanup(srv.Close)
	for path, want := range map[string]string{
		"/api/v1/rules":                    `"name":"job:up:sum"`,
		"/api/v1/rules?type=alert":         `{"status":"success","data":{"groups":[]}}`,
		"/api/v1/rules?rule_group[]=other": `{"status":"success","data":{"groups":[]}}`,
		"/api/v1/alerts":                   `{"status":"success","data":{"alerts":[]}}`,
	} {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(b), want) {
			t.Errorf("GET %s: %d %s, want %s", path, resp.StatusCode, b, want)
		}
	}
}
