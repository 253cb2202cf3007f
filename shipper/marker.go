package shipper

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"

	"github.com/promspace/promspace/internal/atomicfile"
)

// markerFile, in the workspace directory, lists the blocks already in the
// bucket, as Thanos' thanos.shipper.json does. The TSDB ignores files that
// are not block directories.
const markerFile = "promspace-shipper.json"

type marker struct {
	Version  int      `json:"version"`
	Uploaded []string `json:"uploaded"`
}

// readMarker returns the blocks dir's marker lists; none if there is no
// marker, or an unreadable one (the blocks are then uploaded again, which
// overwrites them with the same content).
func readMarker(dir string) (map[string]bool, error) {
	b, err := os.ReadFile(filepath.Join(dir, markerFile))
	if errors.Is(err, fs.ErrNotExist) {
		return map[string]bool{}, nil
	}
	if err != nil {
		return map[string]bool{}, err
	}
	var m marker
	if err := json.Unmarshal(b, &m); err != nil {
		return map[string]bool{}, fmt.Errorf("decode %s: %w", markerFile, err)
	}
	set := make(map[string]bool, len(m.Uploaded))
	for _, id := range m.Uploaded {
		set[id] = true
	}
	return set, nil
}

// writeMarker replaces dir's marker, atomically.
func writeMarker(dir string, uploaded map[string]bool) error {
	m := marker{Version: 1, Uploaded: make([]string, 0, len(uploaded))}
	for id := range uploaded {
		m.Uploaded = append(m.Uploaded, id)
	}
	slices.Sort(m.Uploaded)
	b, err := json.Marshal(m)
	if err != nil {
		return err
	}
	return atomicfile.Write(filepath.Join(dir, markerFile), bytes.NewReader(b))
}
