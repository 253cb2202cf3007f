package rules

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/rulefmt"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/promspace/promspace/workspace"
)

// ruleFilesDirName is where, under the workspace's directory, each
// namespace is written as a rules file for Prometheus' manager to load.
// The TSDB ignores it: it is no block.
const ruleFilesDirName = "rules"

func ruleFilesDir(w *workspace.Workspace) string { return filepath.Join(w.Dir(), ruleFilesDirName) }

// fileLoader loads the rules file of the namespace an identifier names.
// Identifiers are namespace names, not paths, so that a group's File, in
// /api/v1/rules as in Cortex's ruler, is its namespace.
type fileLoader struct{ dir string }

func (l fileLoader) Load(name string, ignoreUnknownFields bool, scheme model.ValidationScheme) (*rulefmt.RuleGroups, []error) {
	b, err := os.ReadFile(filepath.Join(l.dir, name+".yaml"))
	if err != nil {
		return nil, []error{fmt.Errorf("%s: %w", name, err)}
	}
	rgs, errs := rulefmt.Parse(b, ignoreUnknownFields, scheme, ruleParser, slog.New(slog.DiscardHandler))
	for i := range errs {
		errs[i] = fmt.Errorf("%s: %w", name, errs[i])
	}
	return rgs, errs
}

func (fileLoader) Parse(query string) (parser.Expr, error) { return ruleParser.ParseExpr(query) }

// load writes every namespace's rules file, removes those of deleted
// namespaces, and has Prometheus' manager load them: unchanged groups keep
// their state, removed ones stop and mark their series stale. A stored
// namespace that no longer validates is left out, UPDATE_FAILED. On error
// the manager keeps its previous rules, and every namespace is marked
// UPDATE_FAILED with the error. Called with mtx held.
func (m *RuleManager) load() error {
	err := m.writeFiles()
	if err == nil {
		names := slices.Sorted(func(yield func(string) bool) {
			for n, ns := range m.namespaces {
				if ns.invalid == "" && !yield(n) {
					return
				}
			}
		})
		if m.opts.ManualEvaluation {
			err = m.releaseReplaced(names)
		}
		if err == nil {
			err = m.manager.Update(m.opts.EvaluationInterval, names, labels.EmptyLabels(), "", m.iterationFunc())
		}
	}
	groups := m.manager.RuleGroups()
	m.groups.Store(&groups)
	for _, ns := range m.namespaces {
		switch {
		case ns.invalid != "":
			ns.Status, ns.StatusReason = StatusUpdateFailed, ns.invalid
		case err != nil:
			ns.Status, ns.StatusReason = StatusUpdateFailed, err.Error()
		case ns.Status == StatusUpdateFailed:
			ns.Status, ns.StatusReason = StatusActive, ""
		}
	}
	return err
}

func (m *RuleManager) writeFiles() error {
	if err := os.MkdirAll(m.dir, 0o777); err != nil {
		return err
	}
	entries, err := os.ReadDir(m.dir)
	if err != nil {
		return err
	}
	var errs []error
	for _, e := range entries {
		name, ok := strings.CutSuffix(e.Name(), ".yaml")
		if _, keep := m.namespaces[name]; ok && keep {
			continue
		}
		errs = append(errs, os.RemoveAll(filepath.Join(m.dir, e.Name())))
	}
	for name, ns := range m.namespaces {
		errs = append(errs, writeFileAtomic(filepath.Join(m.dir, name+".yaml"), ns.Data))
	}
	return errors.Join(errs...)
}

// writeFileAtomic writes path through a temporary file renamed over it, so
// that the manager never loads half a file.
func writeFileAtomic(path string, data []byte) error {
	if old, err := os.ReadFile(path); err == nil && string(old) == string(data) {
		return nil
	}
	f, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		os.Remove(f.Name())
	}
	return err
}
