package workspace

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/amp"
	"github.com/aws/aws-sdk-go-v2/service/amp/types"
)

func TestSDKTags(t *testing.T) {
	s := newTestServer(t, testOptions(t, t.TempDir()), HandlerOptions{})
	c := s.client("")
	ctx := context.Background()
	created, err := c.CreateWorkspace(ctx, &amp.CreateWorkspaceInput{Tags: map[string]string{"a": "1"}})
	if err != nil {
		t.Fatal(err)
	}
	arn := created.Arn
	if _, err := c.TagResource(ctx, &amp.TagResourceInput{ResourceArn: arn, Tags: map[string]string{"b": "2", "c": "3"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.UntagResource(ctx, &amp.UntagResourceInput{ResourceArn: arn, TagKeys: []string{"a", "c"}}); err != nil {
		t.Fatal(err)
	}
	tags, err := c.ListTagsForResource(ctx, &amp.ListTagsForResourceInput{ResourceArn: arn})
	if err != nil {
		t.Fatal(err)
	}
	if len(tags.Tags) != 1 || tags.Tags["b"] != "2" {
		t.Errorf("tags = %v, want {b: 2}", tags.Tags)
	}
	desc, err := c.DescribeWorkspace(ctx, &amp.DescribeWorkspaceInput{WorkspaceId: created.WorkspaceId})
	if err != nil {
		t.Fatal(err)
	}
	if len(desc.Workspace.Tags) != 1 || desc.Workspace.Tags["b"] != "2" {
		t.Errorf("described tags = %v", desc.Workspace.Tags)
	}

	var nf *types.ResourceNotFoundException
	_, err = c.ListTagsForResource(ctx, &amp.ListTagsForResourceInput{ResourceArn: aws.String("arn:aws:aps:us-east-1:000000000000:workspace/ws-missing")})
	if !errors.As(err, &nf) {
		t.Errorf("unknown workspace: %v, want ResourceNotFoundException", err)
	}
	_, err = c.TagResource(ctx, &amp.TagResourceInput{ResourceArn: aws.String("arn:aws:aps:us-east-1:000000000000:rulegroupsnamespace/" + aws.ToString(created.WorkspaceId) + "/rules"), Tags: map[string]string{"x": "y"}})
	if !errors.As(err, &nf) {
		t.Errorf("rule groups namespace: %v, want ResourceNotFoundException", err)
	}
	// Another account does not see the workspace.
	_, err = s.client("555555555555").ListTagsForResource(ctx, &amp.ListTagsForResourceInput{ResourceArn: arn})
	if !errors.As(err, &nf) {
		t.Errorf("other account: %v, want ResourceNotFoundException", err)
	}

	// The ARN may also come unescaped.
	resp, err := http.Get(s.url + "/tags/" + aws.ToString(arn))
	if err != nil {
		t.Fatal(err)
	}
	var body struct{ Tags map[string]string }
	err = json.NewDecoder(resp.Body).Decode(&body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK || body.Tags["b"] != "2" {
		t.Errorf("unescaped ARN: %d %v %v", resp.StatusCode, body, err)
	}
}
