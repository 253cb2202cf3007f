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
	c, failure, err := readStored(ctx, in, configObject, "logging configuration", func(c *Configuration) error {
		return validateLogGroupARN("logGroupArn", c.LogGroupARN)
	})
	if err != nil {
		return fmt.Errorf("read logging configuration: %w", err)
	}
	switch {
	case failure != nil:
		fc := Configuration{}
		if c != nil {
			fc = *c
		}
		fc.CreatedAt, fc.ModifiedAt = failure.times(fc.CreatedAt, fc.ModifiedAt)
		fc.Status, fc.StatusReason = StatusUpdateFailed, failure.reason
		in.config = &fc
	case c != nil:
		in.config = c
		in.activate()
	}

	q, failure, err := readStored(ctx, in, queryConfigObject, "query logging configuration", func(q *QueryConfiguration) error {
		return QueryInput{LogGroupARN: q.LogGroupARN, QSPThreshold: q.QSPThreshold}.validate()
	})
	if err != nil {
		return fmt.Errorf("read query logging configuration: %w", err)
	}
	switch {
	case failure != nil:
		fq := QueryConfiguration{}
		if q != nil {
			fq = *q
		}
		fq.CreatedAt, fq.ModifiedAt = failure.times(fq.CreatedAt, fq.ModifiedAt)
		fq.Status, fq.StatusReason = StatusUpdateFailed, failure.reason
		in.query = &fq
	case q != nil:
		in.query = q
		in.activateQuery()
	}
	return nil
}

// storedFailure is why a stored configuration cannot be taken, and when
// its object was written.
type storedFailure struct {
	reason string
	at     time.Time
}

// times returns created and modified, or the object's time for those not
// known.
func (f *storedFailure) times(created, modified time.Time) (time.Time, time.Time) {
	if created.IsZero() {
		created = f.at
	}
	if modified.IsZero() {
		modified = f.at
	}
	return created, modified
}

// readStored reads the object name as a T checked by valid. It returns nil
// without such an object; a failure when the object does not decode (and
// a nil T) or does not validate (with the T decoded), logged at error with
// the object's full name in the registry's bucket; an error when the
// bucket cannot be read.
func readStored[T any](ctx context.Context, in *Instance, name, what string, valid func(*T) error) (*T, *storedFailure, error) {
	v := new(T)
	ok, err := in.store.get(ctx, name, v)
	var corrupt *corruptError
	switch {
	case errors.As(err, &corrupt):
		v = nil
	case err != nil:
		return nil, nil, err
	case !ok:
		return nil, nil, nil
	default:
		if err = valid(v); err == nil {
			return v, nil, nil
		}
	}
	full := objectPath(in, name)
	in.logger.Error("The stored "+what+" cannot be read: it is UPDATE_FAILED until it is updated", "object", full, "err", err)
	return v, &storedFailure{
		reason: fmt.Sprintf("the stored %s %s cannot be read: %v", what, full, err),
		at:     in.store.modified(ctx, name, in.ls.opts.Now),
	}, nil
}

// objectPath returns the full name of the workspace's object name in the
// registry's bucket, where the workspace's part is workspaces/<id>/.
func objectPath(in *Instance, name string) string {
	return "workspaces/" + in.w.ID() + "/" + name
}
