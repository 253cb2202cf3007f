package workspace

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestTagsByARN(t *testing.T) {
	r := openRegistry(t, testOptions(t, t.TempDir()))
	ctx := context.Background()
	w, err := r.Create(ctx, CreateInput{Tags: map[string]string{"a": "1"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.TagResource(ctx, w.ARN(), map[string]string{"b": "2", "a": "3"}); err != nil {
		t.Fatal(err)
	}
	if err := r.UntagResource(ctx, w.ARN(), []string{"b", "missing"}); err != nil {
		t.Fatal(err)
	}
	tags, err := r.ListTags(ctx, w.ARN())
	if err != nil {
		t.Fatal(err)
	}
	if len(tags) != 1 || tags["a"] != "3" {
		t.Errorf("tags = %v, want {a: 3}", tags)
	}

	for arn, want := range map[string]error{
		"arn:aws:aps:us-east-1:000000000000:workspace/ws-nope":                   ErrNotFound,
		"arn:aws:aps:eu-west-1:000000000000:workspace/" + w.ID():                 ErrNotFound,
		"arn:aws:aps:us-east-1:000000000000:rulegroupsnamespace/" + w.ID() + "/": ErrNotFound,
		"not-an-arn": ErrInvalid,
	} {
		if _, err := r.ListTags(ctx, arn); !errors.Is(err, want) {
			t.Errorf("ListTags(%s) = %v, want %v", arn, err, want)
		}
	}

	many := map[string]string{}
	for i := range 50 {
		many[string(rune('A'+i%26))+string(rune('a'+i/26))] = "v"
	}
	if err := r.TagResource(ctx, w.ARN(), many); !errors.Is(err, ErrInvalid) {
		t.Errorf("51 tags: %v, want ErrInvalid", err)
	}
	if err := r.TagResource(ctx, w.ARN(), map[string]string{"aws:x": "y"}); !errors.Is(err, ErrInvalid) {
		t.Errorf("aws: prefix: %v, want ErrInvalid", err)
	}
}

func TestList(t *testing.T) {
	opts := testOptions(t, t.TempDir())
	now := testNow
	opts.Now = func() time.Time { now = now.Add(time.Second); return now }
	r := openRegistry(t, opts)
	ctx := context.Background()
	var want []string
	for _, alias := range []string{"prod-a", "dev", "prod-b", "prod-c", "staging"} {
		w, err := r.Create(ctx, CreateInput{Alias: alias})
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasPrefix(alias, "prod") {
			want = append(want, w.ID())
		}
	}
	if _, err := r.Create(ctx, CreateInput{Alias: "prod-other-account", Account: "333333333333"}); err != nil {
		t.Fatal(err)
	}

	var got []string
	token := ""
	for pages := 0; ; pages++ {
		out, err := r.List(ctx, ListInput{Alias: "prod", MaxResults: 2, NextToken: token})
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range out.Workspaces {
			got = append(got, w.ID())
		}
		if token = out.NextToken; token == "" {
			break
		}
		if pages > 5 {
			t.Fatal("pagination does not end")
		}
	}
	if len(got) != len(want) {
		t.Fatalf("listed %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("listed %v, want %v (oldest first)", got, want)
			break
		}
	}
	if _, err := r.List(ctx, ListInput{NextToken: "!!"}); !errors.Is(err, ErrInvalid) {
		t.Errorf("bad token: %v", err)
	}
	if _, err := r.List(ctx, ListInput{MaxResults: 1001}); !errors.Is(err, ErrInvalid) {
		t.Errorf("maxResults 1001: %v", err)
	}
}
