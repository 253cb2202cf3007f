package logging

import (
	"context"
	"fmt"
	"log/slog"
	"strings"

	"github.com/promspace/promspace/query"
)

// Handler returns a slog.Handler that vends the warning and error records
// it is given as records of component (ComponentRuler,
// ComponentAlertManager) while the workspace's logging configuration is
// active, and drops everything else. A component tees its logger into it
// (slog.NewMultiHandler), so that its failures reach the log group as AMP
// vends them: with the record's message and attributes in "log", and the
// rule's name, group and namespace (a group's file) as fields of their
// own.
func (in *Instance) Handler(component string) slog.Handler {
	return &vendHandler{in: in, component: component}
}

type vendHandler struct {
	in        *Instance
	component string
	prefix    string // of the open groups, "g." each
	attrs     []slog.Attr
}

func (h *vendHandler) Enabled(_ context.Context, level slog.Level) bool {
	if level < slog.LevelWarn {
		return false
	}
	h.in.mtx.RLock()
	defer h.in.mtx.RUnlock()
	return h.in.sink != nil
}

func (h *vendHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	c := *h
	c.attrs = append(h.attrs[:len(h.attrs):len(h.attrs)], prefixed(h.prefix, attrs)...)
	return &c
}

func (h *vendHandler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	c := *h
	c.prefix += name + "."
	return &c
}

func prefixed(prefix string, attrs []slog.Attr) []slog.Attr {
	if prefix == "" {
		return attrs
	}
	out := make([]slog.Attr, len(attrs))
	for i, a := range attrs {
		out[i] = slog.Attr{Key: prefix + a.Key, Value: a.Value}
	}
	return out
}

// Attributes that name where a failure is, fields of AMP's message; and
// those the log line leaves out: the workspace is a field of the record,
// a rule's whole definition is too long for a line, as in AMP's.
var (
	fieldAttrs   = []string{"name", "group", "namespace"}
	droppedAttrs = map[string]bool{"workspace": true, "rule": true, "index": true, "component": true, "trace_id": true}
)

func (h *vendHandler) Handle(_ context.Context, r slog.Record) error {
	h.in.mtx.RLock()
	sink, c := h.in.sink, h.in.config
	var arn string
	if c != nil {
		arn = c.LogGroupARN
	}
	h.in.mtx.RUnlock()
	if sink == nil {
		return nil
	}
	attrs := map[string]string{}
	var order []string
	add := func(a slog.Attr) {
		a.Value = a.Value.Resolve()
		if a.Value.Kind() == slog.KindGroup {
			return
		}
		k := a.Key
		if k == "file" { // a rule group's file is its namespace
			k = "namespace"
		}
		if droppedAttrs[k] {
			return
		}
		if _, seen := attrs[k]; !seen {
			order = append(order, k)
		}
		attrs[k] = a.Value.String()
	}
	for _, a := range h.attrs {
		add(a)
	}
	r.Attrs(func(a slog.Attr) bool {
		add(slog.Attr{Key: h.prefix + a.Key, Value: a.Value})
		return true
	})
	msg := map[string]any{"level": levelName(r.Level)}
	var line strings.Builder
	line.WriteString(r.Message)
	write := func(k string) {
		fmt.Fprintf(&line, ", %s=%s", k, attrs[k])
	}
	for _, k := range fieldAttrs {
		if v, ok := attrs[k]; ok {
			msg[k] = v
			write(k)
		}
	}
	for _, k := range order {
		if k != "err" && !contains(fieldAttrs, k) {
			write(k)
		}
	}
	if _, ok := attrs["err"]; ok {
		write("err")
	}
	msg["log"] = line.String()
	h.in.vend(sink, h.component, r.Level, msg, arn)
	return nil
}

func contains(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}

// levelName is the level of a vended record: AMP vends failures, which it
// writes ERROR whether the evaluator warned or erred.
func levelName(l slog.Level) string {
	if l >= slog.LevelWarn {
		return "ERROR"
	}
	return l.String()
}

// ObserveQuery logs a query whose samples processed are over the query
// logging configuration's threshold, with its expression, samples
// processed and duration; it is query.Source.OnQueryRecord.
func (in *Instance) ObserveQuery(r query.Record) {
	in.mtx.RLock()
	sink, q := in.querySnk, in.query
	var arn string
	var threshold int64
	if q != nil {
		arn, threshold = q.LogGroupARN, q.QSPThreshold
	}
	in.mtx.RUnlock()
	if sink == nil || r.SamplesProcessed <= threshold {
		return
	}
	msg := map[string]any{
		"query":            r.Expr,
		"samplesProcessed": r.SamplesProcessed,
		"qspThreshold":     threshold,
		"durationMs":       float64(r.Duration.Microseconds()) / 1e3,
		"start":            r.Start.UTC(),
		"end":              r.End.UTC(),
	}
	if r.Step > 0 {
		msg["queryType"], msg["stepSeconds"] = "range", r.Step.Seconds()
	} else {
		msg["queryType"] = "instant"
	}
	if r.Err != nil {
		msg["error"] = r.Err.Error()
	}
	in.vend(sink, ComponentQuery, slog.LevelInfo, msg, arn)
}
