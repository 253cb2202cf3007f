package workspace

import (
	"cmp"
	"context"
	"encoding/base64"
	"errors"
	"slices"
	"strconv"
	"strings"
)

// ListInput is the input of List.
type ListInput struct {
	// Account restricts the list to one account; empty means
	// Options.AccountID.
	Account string
	// Alias keeps only workspaces whose alias starts with it.
	Alias string
	// MaxResults is the page size, 1 to 1000; zero means 100.
	MaxResults int
	// NextToken continues a previous List.
	NextToken string
	// Filter, if set, keeps only the workspaces it returns true for.
	Filter func(*Workspace) bool
}

// ListOutput is a page of workspaces, oldest first.
type ListOutput struct {
	Workspaces []*Workspace
	// NextToken is set when there are more workspaces.
	NextToken string
}

// List returns a page of an account's workspaces, oldest first.
func (r *Registry) List(_ context.Context, in ListInput) (*ListOutput, error) {
	var fe fieldErrors
	maxResults := cmp.Or(in.MaxResults, DefaultMaxResults)
	if maxResults < 1 || maxResults > MaxMaxResults {
		fe.add("maxResults", "must be between 1 and %d", MaxMaxResults)
	}
	var after *pageCursor
	if in.NextToken != "" {
		c, err := decodePageCursor(in.NextToken)
		if err != nil {
			fe.add("nextToken", "is not a token returned by ListWorkspaces")
		}
		after = &c
	}
	if err := fe.err(); err != nil {
		return nil, err
	}
	account := cmp.Or(in.Account, r.opts.AccountID)
	alias := strings.TrimSpace(in.Alias)

	r.mtx.RLock()
	if r.closed {
		r.mtx.RUnlock()
		return nil, ErrClosed
	}
	ws := make([]*Workspace, 0, len(r.workspaces))
	for _, w := range r.workspaces {
		if w.account == account && strings.HasPrefix(w.Alias(), alias) {
			ws = append(ws, w)
		}
	}
	r.mtx.RUnlock()

	slices.SortFunc(ws, func(a, b *Workspace) int { return cursorOf(a).compare(cursorOf(b)) })
	out := &ListOutput{}
	for _, w := range ws {
		if after != nil && cursorOf(w).compare(*after) <= 0 {
			continue
		}
		if in.Filter != nil && !in.Filter(w) {
			continue
		}
		if len(out.Workspaces) == maxResults {
			out.NextToken = cursorOf(out.Workspaces[len(out.Workspaces)-1]).encode()
			break
		}
		out.Workspaces = append(out.Workspaces, w)
	}
	return out, nil
}

// pageCursor is the position of a workspace in List's order.
type pageCursor struct {
	createdAt int64
	id        string
}

func cursorOf(w *Workspace) pageCursor {
	return pageCursor{createdAt: w.createdAt.UnixNano(), id: w.id}
}

func (c pageCursor) compare(o pageCursor) int {
	return cmp.Or(cmp.Compare(c.createdAt, o.createdAt), strings.Compare(c.id, o.id))
}

func (c pageCursor) encode() string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(c.createdAt, 10) + "/" + c.id))
}

func decodePageCursor(s string) (pageCursor, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return pageCursor{}, err
	}
	ts, id, ok := strings.Cut(string(b), "/")
	if !ok {
		return pageCursor{}, errors.New("malformed token")
	}
	n, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return pageCursor{}, err
	}
	return pageCursor{createdAt: n, id: id}, nil
}
