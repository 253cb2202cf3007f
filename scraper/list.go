package scraper

import (
	"cmp"
	"context"
	"encoding/base64"
	"slices"
	"strconv"
	"strings"
)

// ListInput is a ListScrapers request.
type ListInput struct {
	Account string
	// Filters keep the scrapers that match a value of every key: status,
	// sourceArn, destinationArn and alias (exact values).
	Filters map[string][]string
	// MaxResults is the page size, 1 to 1000; zero means 100.
	MaxResults int
	NextToken  string
}

// ListOutput is a page of scrapers, oldest first.
type ListOutput struct {
	Scrapers  []*Scraper
	NextToken string
}

// filterKeys maps ListScrapers' filter keys to what they match.
var filterKeys = map[string]func(*Scraper) string{
	"status":         func(s *Scraper) string { return string(s.Status) },
	"sourceArn":      (*Scraper).SourceArn,
	"destinationArn": (*Scraper).WorkspaceArn,
	"alias":          func(s *Scraper) string { return s.Alias },
}

// List returns a page of an account's scrapers that match the filters,
// oldest first.
func (m *Manager) List(_ context.Context, in ListInput) (*ListOutput, error) {
	var fe fieldErrors
	maxResults := cmp.Or(in.MaxResults, DefaultMaxResults)
	if maxResults < 1 || maxResults > MaxMaxResults {
		fe.add("maxResults", "must be between 1 and %d", MaxMaxResults)
	}
	if len(in.Filters) > maxFilterKeys {
		fe.add("filters", "must hold at most %d keys", maxFilterKeys)
	}
	for k, vs := range in.Filters {
		if _, ok := filterKeys[k]; !ok {
			fe.add("filters", "unknown filter key %q: want status, sourceArn, destinationArn or alias", k)
		}
		if len(vs) < 1 || len(vs) > maxFilterValues {
			fe.add("filters", "filter %q must hold 1 to %d values", k, maxFilterValues)
		}
	}
	var after *cursor
	if in.NextToken != "" {
		c, ok := decodeCursor(in.NextToken)
		if !ok {
			fe.add("nextToken", "is not a token returned by ListScrapers")
		}
		after = &c
	}
	if err := fe.err(); err != nil {
		return nil, err
	}

	m.mtx.RLock()
	if m.closed {
		m.mtx.RUnlock()
		return nil, ErrClosed
	}
	var all []*Scraper
	for _, e := range m.scrapers {
		if e.s.Account == in.Account && matches(e.s, in.Filters) {
			all = append(all, e.s.clone())
		}
	}
	m.mtx.RUnlock()

	slices.SortFunc(all, func(a, b *Scraper) int { return cursorOf(a).compare(cursorOf(b)) })
	out := &ListOutput{Scrapers: []*Scraper{}}
	for _, s := range all {
		if after != nil && cursorOf(s).compare(*after) <= 0 {
			continue
		}
		if len(out.Scrapers) == maxResults {
			out.NextToken = cursorOf(out.Scrapers[len(out.Scrapers)-1]).encode()
			break
		}
		out.Scrapers = append(out.Scrapers, s)
	}
	return out, nil
}

// matches reports whether s matches a value of every filter key.
func matches(s *Scraper, filters map[string][]string) bool {
	for k, vs := range filters {
		if !slices.Contains(vs, filterKeys[k](s)) {
			return false
		}
	}
	return true
}

// cursor is a position in the order of List: creation time, then id.
type cursor struct {
	createdAt int64 // nanoseconds
	id        string
}

func cursorOf(s *Scraper) cursor { return cursor{s.CreatedAt.UnixNano(), s.ID} }

func (c cursor) compare(o cursor) int {
	return cmp.Or(cmp.Compare(c.createdAt, o.createdAt), strings.Compare(c.id, o.id))
}

func (c cursor) encode() string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(c.createdAt, 10) + "/" + c.id))
}

func decodeCursor(token string) (cursor, bool) {
	b, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil {
		return cursor{}, false
	}
	ts, id, ok := strings.Cut(string(b), "/")
	n, err := strconv.ParseInt(ts, 10, 64)
	if !ok || err != nil || !validScraperID(id) {
		return cursor{}, false
	}
	return cursor{n, id}, true
}
