package workspace

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"strings"

	"github.com/google/uuid"
)

// CreateInput is the input of Create.
type CreateInput struct {
	// Alias names the workspace; it need not be unique. Spaces around it are
	// trimmed.
	Alias string
	// ClientToken makes the call idempotent: a retry with the same token and
	// input returns the same workspace.
	ClientToken string
	Tags        map[string]string
	KmsKeyArn   string
	// Account owns the workspace; empty means Options.AccountID.
	Account string
}

// Create creates a workspace. It is returned in status CREATING; its TSDB
// opens in the background, after which the workspace is ACTIVE.
func (r *Registry) Create(ctx context.Context, in CreateInput) (*Workspace, error) {
	w, _, err := r.create(ctx, in)
	return w, err
}

// create also returns the status the workspace had when create returned.
func (r *Registry) create(ctx context.Context, in CreateInput) (*Workspace, Status, error) {
	account := cmp.Or(in.Account, r.opts.AccountID)
	req := createRequest{Alias: strings.TrimSpace(in.Alias), KmsKeyArn: in.KmsKeyArn, Tags: maps.Clone(in.Tags)}
	var fe fieldErrors
	if !accountIDRE.MatchString(account) {
		fe.add("account", "%q is not an account id: want 12 digits", account)
	}
	validateAlias(&fe, req.Alias)
	validateClientToken(&fe, in.ClientToken)
	validateTags(&fe, req.Tags)
	validateKmsKeyArn(&fe, req.KmsKeyArn)
	if err := fe.err(); err != nil {
		return nil, "", err
	}

	r.mtx.Lock()
	if r.closed {
		r.mtx.Unlock()
		return nil, "", ErrClosed
	}
	if in.ClientToken != "" {
		if id, ok := r.tokens[tokenKey(account, in.ClientToken)]; ok {
			w := r.workspaces[id]
			r.mtx.Unlock()
			if !w.createReq.equal(req) {
				return nil, "", fmt.Errorf("client token %q was used to create workspace %s with other parameters: %w", in.ClientToken, id, ErrConflict)
			}
			return w, w.Status(), nil
		}
	}
	n := 0
	for _, w := range r.workspaces {
		if w.account == account && w.Status() != StatusDeleting {
			n++
		}
	}
	if n >= r.opts.MaxWorkspaces {
		r.mtx.Unlock()
		return nil, "", fmt.Errorf("account %s has %d workspaces, the maximum: %w", account, n, ErrQuotaExceeded)
	}
	id := "ws-" + uuid.NewString()
	w := r.newWorkspace(record{
		ID:            id,
		ARN:           fmt.Sprintf("arn:aws:aps:%s:%s:workspace/%s", r.opts.Region, account, id),
		Account:       account,
		Alias:         req.Alias,
		KmsKeyArn:     req.KmsKeyArn,
		Tags:          req.Tags,
		Status:        StatusCreating,
		CreatedAt:     r.opts.Now(),
		ClientToken:   in.ClientToken,
		CreateRequest: req,
		Configuration: newConfigRecord(ConfigurationDescription{
			Configuration: Configuration{Retention: r.opts.Retention, OutOfOrderTimeWindow: r.opts.OutOfOrderTimeWindow},
			Status:        ConfigurationActive,
		}),
	})
	r.workspaces[id] = w
	if in.ClientToken != "" {
		r.tokens[tokenKey(account, in.ClientToken)] = id
	}
	r.bg.Add(1)
	r.mtx.Unlock()

	if err := r.save(ctx, w); err != nil {
		r.mtx.Lock()
		delete(r.workspaces, id)
		if in.ClientToken != "" {
			delete(r.tokens, tokenKey(account, in.ClientToken))
		}
		r.mtx.Unlock()
		w.openErr = err
		close(w.opened)
		close(w.ready)
		r.bg.Done()
		return nil, "", err
	}
	go r.activate(w)
	r.logger.Info("Workspace created", "workspace", id, "account", account)
	return w, StatusCreating, nil
}

func (req createRequest) equal(o createRequest) bool {
	return req.Alias == o.Alias && req.KmsKeyArn == o.KmsKeyArn && maps.Equal(req.Tags, o.Tags)
}

// activate opens a new workspace's TSDB and makes it ACTIVE.
func (r *Registry) activate(w *Workspace) {
	defer r.bg.Done()
	err := r.openTSDB(w)
	w.mtx.Lock()
	w.openErr = err
	// A deletion in progress keeps its status; should it fail, undoDelete
	// sets the one that opening leads to.
	if w.status == StatusCreating {
		w.status = StatusActive
		if err != nil {
			w.status = StatusCreationFailed
		}
	}
	close(w.opened)
	w.mtx.Unlock()
	if err != nil {
		r.logger.Error("Workspace creation failed", "workspace", w.id, "err", err)
	}
	// Saved before ready is closed: a deletion waits for ready, and must
	// not be followed by this write.
	if err := r.save(context.Background(), w); err != nil {
		r.logger.Error("Saving workspace failed", "workspace", w.id, "err", err)
	}
	close(w.ready)
}
