package bucketconfig

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"

	"github.com/go-kit/log"
	"github.com/thanos-io/objstore"
	"github.com/thanos-io/objstore/client"
	"go.yaml.in/yaml/v3"

	"github.com/promspace/promspace/workspace"
)

// component names the bucket's client in objstore's metrics and user agent.
const component = "promspace"

// Open opens the bucket that the objstore client YAML conf describes.
// conf may hold secrets: errors never quote it.
func Open(conf []byte, logger *slog.Logger) (objstore.Bucket, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	var c struct {
		Type   string    `yaml:"type"`
		Config yaml.Node `yaml:"config"`
		Prefix string    `yaml:"prefix"`
	}
	dec := yaml.NewDecoder(bytes.NewReader(conf))
	if err := dec.Decode(&c); err != nil {
		return nil, fmt.Errorf("parse bucket configuration: %w", err)
	}
	if !strings.EqualFold(c.Type, string(objstore.FILESYSTEM)) {
		bkt, err := client.NewBucket(kitLogger{logger}, conf, component, nil)
		if err != nil {
			return nil, fmt.Errorf("open %s bucket: %w", c.Type, err)
		}
		return bkt, nil
	}
	var fc struct {
		Directory string `yaml:"directory"`
	}
	if err := c.Config.Decode(&fc); err != nil {
		return nil, fmt.Errorf("parse FILESYSTEM bucket configuration: %w", err)
	}
	if fc.Directory == "" {
		return nil, errors.New("FILESYSTEM bucket configuration: no directory")
	}
	fs, err := workspace.NewFilesystemBucket(fc.Directory)
	if err != nil {
		return nil, fmt.Errorf("open FILESYSTEM bucket: %w", err)
	}
	var bkt objstore.Bucket = fs
	if c.Prefix != "" {
		bkt = objstore.NewPrefixedBucket(bkt, c.Prefix)
	}
	return bkt, nil
}

// OpenFile opens the bucket that the objstore client YAML file at path
// describes.
func OpenFile(path string, logger *slog.Logger) (objstore.Bucket, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	bkt, err := Open(b, logger)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return bkt, nil
}

// kitLogger logs objstore's go-kit key-value pairs to a slog.Logger.
type kitLogger struct{ l *slog.Logger }

var _ log.Logger = kitLogger{}

func (k kitLogger) Log(kv ...any) error {
	msg, lvl := "", slog.LevelInfo
	attrs := make([]any, 0, len(kv))
	for i := 0; i+1 < len(kv); i += 2 {
		key := fmt.Sprint(kv[i])
		switch key {
		case "msg":
			msg = fmt.Sprint(kv[i+1])
		case "level":
			_ = lvl.UnmarshalText([]byte(fmt.Sprint(kv[i+1])))
		default:
			attrs = append(attrs, key, kv[i+1])
		}
	}
	k.l.Log(nil, lvl, msg, attrs...) //nolint:staticcheck // go-kit has no context
	return nil
}
