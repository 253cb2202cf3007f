package scraper

import (
	"context"
	"maps"
	"slices"

	"github.com/promspace/promspace/workspace"
)

// The scraper components AMP logs.
var componentTypes = []string{"SERVICE_DISCOVERY", "COLLECTOR", "EXPORTER"}

// UpdateLogging sets a scraper's logging configuration: the CloudWatch log
// group and the components whose logs go there. It is recorded and
// described as AMP has it, ACTIVE at once; promspace writes the scrapers'
// logs to its own logger, not to CloudWatch.
func (m *Manager) UpdateLogging(ctx context.Context, account, id, logGroupArn string, components []Component) (Status, error) {
	var fe fieldErrors
	if !logGroupArnRE.MatchString(logGroupArn) {
		fe.add("loggingDestination.cloudWatchLogs.logGroupArn", "must be the ARN of a log group ending in :*")
	}
	for _, c := range components {
		if !slices.Contains(componentTypes, c.Type) {
			fe.add("scraperComponents", "unknown component type %q: want SERVICE_DISCOVERY, COLLECTOR or EXPORTER", c.Type)
		}
	}
	if err := fe.err(); err != nil {
		return "", err
	}
	e, err := m.lookup(account, id)
	if err != nil {
		return "", err
	}
	_, err = m.commit(ctx, e, func(s *Scraper) error {
		if s.Status == StatusDeleting {
			return errDeleting
		}
		cs := make([]Component, len(components))
		for i, c := range components {
			cs[i] = c
			if c.Config != nil {
				cs[i].Config = &ComponentConfig{Options: maps.Clone(c.Config.Options)}
			}
		}
		s.Logging = &LoggingConfiguration{
			LogGroupArn: logGroupArn,
			Components:  cs,
			Status:      StatusActive,
			ModifiedAt:  m.opts.Now().UTC(),
		}
		return nil
	})
	if err != nil {
		return "", err
	}
	return StatusActive, nil
}

// DescribeLogging returns a scraper's logging configuration; a scraper
// without one has none to describe (ResourceNotFound).
func (m *Manager) DescribeLogging(ctx context.Context, account, id string) (*LoggingConfiguration, error) {
	s, err := m.Describe(ctx, account, id)
	if err != nil {
		return nil, err
	}
	if s.Logging == nil {
		return nil, loggingNotFound(id)
	}
	return s.Logging, nil
}

// DeleteLogging removes a scraper's logging configuration.
func (m *Manager) DeleteLogging(ctx context.Context, account, id string) error {
	e, err := m.lookup(account, id)
	if err != nil {
		return err
	}
	_, err = m.commit(ctx, e, func(s *Scraper) error {
		if s.Logging == nil {
			return loggingNotFound(id)
		}
		s.Logging = nil
		return nil
	})
	return err
}

// notFoundError is AMP's ResourceNotFoundException for a resource of type
// typ. It matches workspace.ErrNotFound.
type notFoundError struct{ typ, id string }

func (e *notFoundError) Error() string        { return e.typ + " not found: " + e.id }
func (e *notFoundError) Is(target error) bool { return target == workspace.ErrNotFound }
func notFound(id string) error                { return &notFoundError{"Scraper", id} }
func loggingNotFound(id string) error         { return &notFoundError{"ScraperLoggingConfiguration", id} }
