package workspace

import (
	"context"
	"maps"
)

// WorkspaceByARN returns the workspace an ARN names, in any status.
func (r *Registry) WorkspaceByARN(_ context.Context, arn string) (*Workspace, error) {
	_, id, err := parseWorkspaceARN(arn)
	if err != nil {
		if apsARN.MatchString(arn) {
			// Another kind of AMP resource: none exists here.
			return nil, notFound(arn)
		}
		return nil, err
	}
	w, err := r.lookup(id)
	if err != nil {
		return nil, err
	}
	if w.arn != arn {
		return nil, notFound(arn)
	}
	return w, nil
}

// TagResource adds tags to the workspace arn names, replacing the values of
// keys it already has.
func (r *Registry) TagResource(ctx context.Context, arn string, tags map[string]string) error {
	var fe fieldErrors
	validateTags(&fe, tags)
	if err := fe.err(); err != nil {
		return err
	}
	w, err := r.WorkspaceByARN(ctx, arn)
	if err != nil {
		return err
	}
	return r.commit(ctx, w, func(st state) (func(*state), error) {
		merged := st.tags
		if merged == nil {
			merged = map[string]string{}
		}
		maps.Copy(merged, tags)
		if len(merged) > maxTags {
			fe.add("tags", "a workspace has at most %d tags", maxTags)
			return nil, fe.err()
		}
		return func(s *state) { s.tags = merged }, nil
	})
}

// UntagResource removes tags from the workspace arn names.
func (r *Registry) UntagResource(ctx context.Context, arn string, keys []string) error {
	var fe fieldErrors
	if len(keys) == 0 {
		fe.add("tagKeys", "must hold at least one key")
	}
	for _, k := range keys {
		validateTagKey(&fe, "tagKeys", k)
	}
	if err := fe.err(); err != nil {
		return err
	}
	w, err := r.WorkspaceByARN(ctx, arn)
	if err != nil {
		return err
	}
	return r.commit(ctx, w, func(st state) (func(*state), error) {
		tags := st.tags
		for _, k := range keys {
			delete(tags, k)
		}
		return func(s *state) { s.tags = tags }, nil
	})
}

// ListTags returns the tags of the workspace arn names.
func (r *Registry) ListTags(ctx context.Context, arn string) (map[string]string, error) {
	w, err := r.WorkspaceByARN(ctx, arn)
	if err != nil {
		return nil, err
	}
	return w.Tags(), nil
}
