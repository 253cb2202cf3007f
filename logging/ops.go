package logging

import (
	"context"
	"fmt"
)

// CreateInput is a CreateLoggingConfiguration or UpdateLoggingConfiguration
// request.
type CreateInput struct {
	LogGroupARN string
	ClientToken string
}

// Create stores the workspace's logging configuration and starts vending
// to its log group; it answers CREATING. A retry with the same client
// token and log group answers again; any other create while one exists is
// ErrConflict.
func (in *Instance) Create(ctx context.Context, req CreateInput) (*Configuration, error) {
	if err := validateLogGroupARN("logGroupArn", req.LogGroupARN); err != nil {
		return nil, err
	}
	in.mtx.Lock()
	defer in.mtx.Unlock()
	if in.config != nil {
		if req.ClientToken != "" && req.ClientToken == in.config.ClientToken && req.LogGroupARN == in.config.LogGroupARN {
			return answer(in.config, StatusCreating), nil
		}
		return nil, fmt.Errorf("%w: workspace %s already has a logging configuration", ErrConflict, in.w.ID())
	}
	now := in.ls.opts.Now().UTC()
	c := &Configuration{LogGroupARN: req.LogGroupARN, Status: StatusActive, CreatedAt: now, ModifiedAt: now, ClientToken: req.ClientToken}
	if err := in.store.put(ctx, configObject, c); err != nil {
		return nil, fmt.Errorf("store logging configuration: %w", err)
	}
	in.config = c
	in.activate()
	in.storeStatus(ctx)
	return answer(c, StatusCreating), nil
}

// Update points the workspace's logging configuration at another log
// group; it answers UPDATING.
func (in *Instance) Update(ctx context.Context, req CreateInput) (*Configuration, error) {
	if err := validateLogGroupARN("logGroupArn", req.LogGroupARN); err != nil {
		return nil, err
	}
	in.mtx.Lock()
	defer in.mtx.Unlock()
	if in.config == nil {
		return nil, fmt.Errorf("%w: workspace %s", ErrNotFound, in.w.ID())
	}
	c := *in.config
	c.LogGroupARN, c.ClientToken, c.ModifiedAt = req.LogGroupARN, req.ClientToken, in.ls.opts.Now().UTC()
	c.Status, c.StatusReason = StatusActive, ""
	if err := in.store.put(ctx, configObject, &c); err != nil {
		return nil, fmt.Errorf("store logging configuration: %w", err)
	}
	in.config = &c
	in.activate()
	in.storeStatus(ctx)
	return answer(&c, StatusUpdating), nil
}

// Describe returns the workspace's logging configuration.
func (in *Instance) Describe() (*Configuration, error) {
	in.mtx.RLock()
	defer in.mtx.RUnlock()
	if in.config == nil {
		return nil, fmt.Errorf("%w: workspace %s", ErrNotFound, in.w.ID())
	}
	c := *in.config
	return &c, nil
}

// Delete deletes the workspace's logging configuration: nothing more is
// vended.
func (in *Instance) Delete(ctx context.Context) error {
	in.mtx.Lock()
	defer in.mtx.Unlock()
	if in.config == nil {
		return fmt.Errorf("%w: workspace %s", ErrNotFound, in.w.ID())
	}
	if err := in.store.delete(ctx, configObject); err != nil {
		return fmt.Errorf("delete logging configuration: %w", err)
	}
	err := in.sink.release()
	in.config, in.sink = nil, nil
	if err != nil {
		in.logger.Warn("Closing a log group's file failed", "err", err)
	}
	return nil
}

// storeStatus stores a failed status, best effort, so that it outlives a
// restart. Called with mtx held.
func (in *Instance) storeStatus(ctx context.Context) {
	if in.config.Status == StatusActive {
		return
	}
	if err := in.store.put(ctx, configObject, in.config); err != nil {
		in.logger.Warn("Storing the status of the logging configuration failed", "err", err)
	}
}

// answer returns a copy of c as a change answers it: status while the
// change is ACTIVE, the failure otherwise.
func answer(c *Configuration, status Status) *Configuration {
	out := *c
	if out.Status == StatusActive {
		out.Status = status
	}
	return &out
}

// QueryInput is a CreateQueryLoggingConfiguration or
// UpdateQueryLoggingConfiguration request, its destination taken out of
// its list of one.
type QueryInput struct {
	LogGroupARN  string
	QSPThreshold int64
	ClientToken  string
}

func (req QueryInput) validate() error {
	if err := validateLogGroupARN("destinations.member.1.member.cloudWatchLogs.member.logGroupArn", req.LogGroupARN); err != nil {
		return err
	}
	if req.QSPThreshold < 0 {
		return &ValidationError{Field: "destinations.member.1.member.filters.member.qspThreshold",
			Message: "qspThreshold must not be negative"}
	}
	return nil
}

// CreateQuery stores the workspace's query logging configuration; it
// answers CREATING.
func (in *Instance) CreateQuery(ctx context.Context, req QueryInput) (*QueryConfiguration, error) {
	if err := req.validate(); err != nil {
		return nil, err
	}
	in.mtx.Lock()
	defer in.mtx.Unlock()
	if q := in.query; q != nil {
		if req.ClientToken != "" && req.ClientToken == q.ClientToken && req.LogGroupARN == q.LogGroupARN && req.QSPThreshold == q.QSPThreshold {
			return answerQuery(q, StatusCreating), nil
		}
		return nil, fmt.Errorf("%w: workspace %s already has a query logging configuration", ErrConflict, in.w.ID())
	}
	now := in.ls.opts.Now().UTC()
	q := &QueryConfiguration{LogGroupARN: req.LogGroupARN, QSPThreshold: req.QSPThreshold, Status: StatusActive,
		CreatedAt: now, ModifiedAt: now, ClientToken: req.ClientToken}
	if err := in.store.put(ctx, queryConfigObject, q); err != nil {
		return nil, fmt.Errorf("store query logging configuration: %w", err)
	}
	in.query = q
	in.activateQuery()
	in.storeQueryStatus(ctx)
	return answerQuery(q, StatusCreating), nil
}

// UpdateQuery replaces the workspace's query logging configuration; it
// answers UPDATING.
func (in *Instance) UpdateQuery(ctx context.Context, req QueryInput) (*QueryConfiguration, error) {
	if err := req.validate(); err != nil {
		return nil, err
	}
	in.mtx.Lock()
	defer in.mtx.Unlock()
	if in.query == nil {
		return nil, fmt.Errorf("%w: workspace %s", ErrNotFound, in.w.ID())
	}
	q := *in.query
	q.LogGroupARN, q.QSPThreshold, q.ClientToken = req.LogGroupARN, req.QSPThreshold, req.ClientToken
	q.ModifiedAt, q.Status, q.StatusReason = in.ls.opts.Now().UTC(), StatusActive, ""
	if err := in.store.put(ctx, queryConfigObject, &q); err != nil {
		return nil, fmt.Errorf("store query logging configuration: %w", err)
	}
	in.query = &q
	in.activateQuery()
	in.storeQueryStatus(ctx)
	return answerQuery(&q, StatusUpdating), nil
}

// DescribeQuery returns the workspace's query logging configuration.
func (in *Instance) DescribeQuery() (*QueryConfiguration, error) {
	in.mtx.RLock()
	defer in.mtx.RUnlock()
	if in.query == nil {
		return nil, fmt.Errorf("%w: workspace %s", ErrNotFound, in.w.ID())
	}
	q := *in.query
	return &q, nil
}

// DeleteQuery deletes the workspace's query logging configuration.
func (in *Instance) DeleteQuery(ctx context.Context) error {
	in.mtx.Lock()
	defer in.mtx.Unlock()
	if in.query == nil {
		return fmt.Errorf("%w: workspace %s", ErrNotFound, in.w.ID())
	}
	if err := in.store.delete(ctx, queryConfigObject); err != nil {
		return fmt.Errorf("delete query logging configuration: %w", err)
	}
	err := in.querySnk.release()
	in.query, in.querySnk = nil, nil
	if err != nil {
		in.logger.Warn("Closing a log group's file failed", "err", err)
	}
	return nil
}

func (in *Instance) storeQueryStatus(ctx context.Context) {
	if in.query.Status == StatusActive {
		return
	}
	if err := in.store.put(ctx, queryConfigObject, in.query); err != nil {
		in.logger.Warn("Storing the status of the query logging configuration failed", "err", err)
	}
}

func answerQuery(q *QueryConfiguration, status Status) *QueryConfiguration {
	out := *q
	if out.Status == StatusActive {
		out.Status = status
	}
	return &out
}
