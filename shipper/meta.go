package shipper

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/prometheus/prometheus/tsdb"
)

// Names in a block's directory, local and in the bucket.
const (
	metaFile  = "meta.json"
	indexFile = "index"
	chunksDir = "chunks"
)

// Source is the thanos.source of the blocks promspace ships.
const Source = "promspace"

// WorkspaceLabel is the external label naming a block's workspace.
const WorkspaceLabel = "workspace"

// blockMeta is a block's meta.json as Thanos reads it: the TSDB's meta with
// a thanos section.
type blockMeta struct {
	tsdb.BlockMeta
	Thanos thanosMeta `json:"thanos"`
}

// thanosMeta is the section of meta.json that Thanos' store gateway,
// compactor and bucket tools rely on (Thanos' pkg/block/metadata).
type thanosMeta struct {
	Version    int               `json:"version,omitempty"`
	Labels     map[string]string `json:"labels"`
	Downsample struct {
		Resolution int64 `json:"resolution"`
	} `json:"downsample"`
	Source       string      `json:"source"`
	SegmentFiles []string    `json:"segment_files,omitempty"`
	Files        []blockFile `json:"files,omitempty"`
}

// blockFile is a file of a block, relative to its directory.
type blockFile struct {
	RelPath   string `json:"rel_path"`
	SizeBytes int64  `json:"size_bytes,omitempty"`
}

// decodeMeta decodes and checks the meta.json of the block named id.
func decodeMeta(id string, b []byte) (blockMeta, error) {
	var m blockMeta
	if err := json.Unmarshal(b, &m); err != nil {
		return m, fmt.Errorf("decode: %w", err)
	}
	switch {
	case m.ULID.String() != id:
		return m, fmt.Errorf("ulid %s differs from the block's name", m.ULID)
	case m.Version != 1:
		return m, fmt.Errorf("unknown meta.json version %d", m.Version)
	case m.MinTime >= m.MaxTime:
		return m, fmt.Errorf("empty time range [%d, %d)", m.MinTime, m.MaxTime)
	}
	for _, f := range m.Thanos.Files {
		if !validRelPath(f.RelPath) {
			return m, fmt.Errorf("file %q outside the block", f.RelPath)
		}
	}
	return m, nil
}

// validRelPath tells whether p names a file a block may hold.
func validRelPath(p string) bool {
	if p == indexFile || p == metaFile {
		return true
	}
	name, ok := strings.CutPrefix(p, chunksDir+"/")
	return ok && name != "" && !strings.ContainsAny(name, `/\`) && name != ".." && name != "."
}

// sources returns the ULIDs of the head blocks m was compacted from.
func sources(m tsdb.BlockMeta) []string {
	s := make([]string, 0, len(m.Compaction.Sources))
	for _, u := range m.Compaction.Sources {
		s = append(s, u.String())
	}
	if len(s) == 0 {
		s = append(s, m.ULID.String())
	}
	return s
}
