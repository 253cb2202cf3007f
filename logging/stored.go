package logging

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// readConfigs reads the workspace's configurations from its bucket when it
// opens and activates them. A configuration whose object cannot be taken
// (it does not decode, or holds no valid configuration) is logged and
// left UPDATE_FAILED with the reason, vending nothing, until an update
// replaces it or a delete removes it; only a bucket that cannot be read
// is an error.
func (in *Instance) readConfigs(ctx context.Context) error {
	c, failed, err := readStored(ctx, in, configObject, "logging configuration",
		func(c *Configuration) error { return validateLogGroupARN("logGroupArn", c.LogGroupARN) },
		func(c *Configuration) storedState {
			return storedState{&c.Status, &c.StatusReason, &c.CreatedAt, &c.ModifiedAt}
		})
	if err != nil {
		return fmt.Errorf("read logging configuration: %w", err)
	}
	if c != nil {
		in.config = c
		if !failed {
			in.activate()
		}
	}

	q, failed, err := readStored(ctx, in, queryConfigObject, "query logging configuration",
		func(q *QueryConfiguration) error {
			return QueryInput{LogGroupARN: q.LogGroupARN, QSPThreshold: q.QSPThreshold}.validate()
		},
		func(q *QueryConfiguration) storedState {
			return storedState{&q.Status, &q.StatusReason, &q.CreatedAt, &q.ModifiedAt}
		})
	if err != nil {
		return fmt.Errorf("read query logging configuration: %w", err)
	}
	if q != nil {
		in.query = q
		if !failed {
			in.activateQuery()
		}
	}
	return nil
}

// storedState points at a configuration's status and times.
type storedState struct {
	status            *Status
	reason            *string
	created, modified *time.Time
}

// readStored reads the object name as a T checked by valid. It returns nil
// without such an object. When the object does not decode (a zero T is
// returned) or does not validate (the T decoded is), the T is made
// UPDATE_FAILED through state, its reason naming the object's full name in
// the registry's bucket, its unknown times the object's, failed is true,
// and the failure is logged at error. Only a bucket that cannot be read is
// an error.
func readStored[T any](ctx context.Context, in *Instance, name, what string, valid func(*T) error, state func(*T) storedState) (v *T, failed bool, err error) {
	v = new(T)
	ok, err := in.store.get(ctx, name, v)
	var corrupt *corruptError
	switch {
	case errors.As(err, &corrupt):
		v = new(T)
	case err != nil:
		return nil, false, err
	case !ok:
		return nil, false, nil
	default:
		if err = valid(v); err == nil {
			return v, false, nil
		}
	}
	full := in.w.ObjectName(name)
	in.logger.Error("The stored "+what+" cannot be read: it is UPDATE_FAILED until it is updated", "object", full, "err", err)
	st := state(v)
	at := in.store.modified(ctx, name, in.ls.opts.Now)
	for _, t := range []*time.Time{st.created, st.modified} {
		if t.IsZero() {
			*t = at
		}
	}
	*st.status = StatusUpdateFailed
	*st.reason = fmt.Sprintf("the stored %s %s cannot be read: %v", what, full, err)
	return v, true, nil
}
