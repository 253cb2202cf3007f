package scraper

import (
	"context"
	"fmt"
	"maps"

	"github.com/promspace/promspace/workspace"
)

// scraperByARN returns the entry an ARN names in account.
func (m *Manager) scraperByARN(account, arn string) (*entry, error) {
	mm := scraperArnRE.FindStringSubmatch(arn)
	if mm == nil {
		return nil, &workspace.ValidationError{Reason: workspace.ReasonFieldValidationFailed, Fields: []workspace.FieldError{{
			Name: "resourceArn", Message: fmt.Sprintf("%q is not the ARN of a scraper", arn),
		}}}
	}
	e, err := m.lookup(account, mm[3])
	if err != nil {
		return nil, err
	}
	if m.snapshot(e).ARN != arn {
		return nil, notFound(arn)
	}
	return e, nil
}

// TagResource adds tags to the scraper arn names, replacing the values of
// keys it already has.
func (m *Manager) TagResource(ctx context.Context, account, arn string, tags map[string]string) error {
	var fe fieldErrors
	validateTags(&fe, tags)
	if err := fe.err(); err != nil {
		return err
	}
	e, err := m.scraperByARN(account, arn)
	if err != nil {
		return err
	}
	_, err = m.commit(ctx, e, func(s *Scraper) error {
		merged := maps.Clone(s.Tags)
		if merged == nil {
			merged = map[string]string{}
		}
		maps.Copy(merged, tags)
		if len(merged) > maxTags {
			fe.add("tags", "a scraper has at most %d tags", maxTags)
			return fe.err()
		}
		s.Tags = merged
		return nil
	})
	return err
}

// UntagResource removes tags from the scraper arn names.
func (m *Manager) UntagResource(ctx context.Context, account, arn string, keys []string) error {
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
	e, err := m.scraperByARN(account, arn)
	if err != nil {
		return err
	}
	_, err = m.commit(ctx, e, func(s *Scraper) error {
		for _, k := range keys {
			delete(s.Tags, k)
		}
		return nil
	})
	return err
}

// ListTags returns the tags of the scraper arn names.
func (m *Manager) ListTags(_ context.Context, account, arn string) (map[string]string, error) {
	e, err := m.scraperByARN(account, arn)
	if err != nil {
		return nil, err
	}
	return m.snapshot(e).Tags, nil
}
