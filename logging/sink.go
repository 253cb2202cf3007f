package logging

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// LogsDirName is the directory, under the data directory, of the log
// groups' files.
const LogsDirName = "logs"

// FileName returns the name of the JSON-lines file of a log group, under
// Options.Dir: the group's name without its leading slash, each "/" as
// "_" and each "_" as "%5F" (no log group name holds "%"), so that every
// group has a file of its own that a user can find by its name:
// /aws/vendedlogs/prometheus/ws-1 is aws_vendedlogs_prometheus_ws-1.jsonl.
func FileName(logGroupARN string) string {
	name := strings.TrimPrefix(LogGroupName(logGroupARN), "/")
	name = strings.NewReplacer("_", "%5F", "/", "_").Replace(name)
	return name + ".jsonl"
}

// Record is one vended log record, one line of a log group's file: AMP's
// vended record (workspaceId, message, component) with the time and the
// log group CloudWatch Logs would have stored it under.
type Record struct {
	Timestamp   time.Time      `json:"timestamp"`
	LogGroupARN string         `json:"logGroupArn"`
	WorkspaceID string         `json:"workspaceId"`
	Message     map[string]any `json:"message"`
	Component   string         `json:"component"`
}

// files are the open files of the log groups, shared by every workspace
// that logs to a group and closed when none does.
type files struct {
	dir  string
	mtx  sync.Mutex
	open map[string]*logFile
}

type logFile struct {
	parent *files
	name   string
	refs   int // guarded by parent.mtx
	mtx    sync.Mutex
	f      *os.File
}

// acquire opens the file of the log group, creating it (and the
// directory) when needed, for one more user.
func (fs *files) acquire(logGroupARN string) (*logFile, error) {
	name := FileName(logGroupARN)
	fs.mtx.Lock()
	defer fs.mtx.Unlock()
	if lf, ok := fs.open[name]; ok {
		lf.refs++
		return lf, nil
	}
	if err := os.MkdirAll(fs.dir, 0o755); err != nil {
		return nil, fmt.Errorf("create the log groups' directory: %w", err)
	}
	f, err := os.OpenFile(filepath.Join(fs.dir, name), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open the file of log group %s: %w", LogGroupName(logGroupARN), err)
	}
	lf := &logFile{parent: fs, name: name, refs: 1, f: f}
	fs.open[name] = lf
	return lf, nil
}

// release gives up one use of lf, closing it after the last.
func (lf *logFile) release() error {
	if lf == nil {
		return nil
	}
	fs := lf.parent
	fs.mtx.Lock()
	lf.refs--
	last := lf.refs == 0
	if last {
		delete(fs.open, lf.name)
	}
	fs.mtx.Unlock()
	if !last {
		return nil
	}
	lf.mtx.Lock()
	defer lf.mtx.Unlock()
	return lf.f.Close()
}

// write appends rec as one line. Each line is one write to a file opened
// for appending, so that concurrent writers never interleave lines.
func (lf *logFile) write(rec Record) error {
	b, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	b = append(b, '\n')
	lf.mtx.Lock()
	defer lf.mtx.Unlock()
	_, err = lf.f.Write(b)
	return err
}
