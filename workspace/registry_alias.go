package workspace

import (
	"context"
	"strings"
)

// UpdateAliasInput is the input of UpdateAlias.
type UpdateAliasInput struct {
	ID string
	// Alias is the new alias; empty removes it.
	Alias       string
	ClientToken string
}

// UpdateAlias changes a workspace's alias.
func (r *Registry) UpdateAlias(ctx context.Context, in UpdateAliasInput) error {
	alias := strings.TrimSpace(in.Alias)
	var fe fieldErrors
	validateAlias(&fe, alias)
	validateClientToken(&fe, in.ClientToken)
	if err := fe.err(); err != nil {
		return err
	}
	w, err := r.lookup(in.ID)
	if err != nil {
		return err
	}
	return r.commit(ctx, w, func(state) (func(*state), error) {
		return func(s *state) { s.alias = alias }, nil
	})
}
