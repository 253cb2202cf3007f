package workspace

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/amp"
	"github.com/aws/aws-sdk-go-v2/service/amp/types"
)

func TestSDKValidation(t *testing.T) {
	s := newTestServer(t, testOptions(t, t.TempDir()), HandlerOptions{})
	c := s.client("")
	ctx := context.Background()
	created, err := c.CreateWorkspace(ctx, &amp.CreateWorkspaceInput{})
	if err != nil {
		t.Fatal(err)
	}
	id := created.WorkspaceId

	for name, tc := range map[string]struct {
		call  func() error
		field string
	}{
		"alias too long": {func() error {
			_, err := c.CreateWorkspace(ctx, &amp.CreateWorkspaceInput{Alias: aws.String(strings.Repeat("a", 101))})
			return err
		}, "alias"},
		"blank alias": {func() error {
			_, err := c.UpdateWorkspaceAlias(ctx, &amp.UpdateWorkspaceAliasInput{WorkspaceId: id, Alias: aws.String("  ")})
			return err
		}, "alias"},
		"reserved tag key": {func() error {
			_, err := c.CreateWorkspace(ctx, &amp.CreateWorkspaceInput{Tags: map[string]string{"aws:owner": "x"}})
			return err
		}, "tags"},
		"bad kms key": {func() error {
			_, err := c.CreateWorkspace(ctx, &amp.CreateWorkspaceInput{KmsKeyArn: aws.String("key")})
			return err
		}, "kmsKeyArn"},
		"maxResults 0": {func() error {
			_, err := c.ListWorkspaces(ctx, &amp.ListWorkspacesInput{MaxResults: aws.Int32(0)})
			return err
		}, "maxResults"},
		"bad nextToken": {func() error {
			_, err := c.ListWorkspaces(ctx, &amp.ListWorkspacesInput{NextToken: aws.String("%%%")})
			return err
		}, "nextToken"},
		"retention 1096": {func() error {
			_, err := c.UpdateWorkspaceConfiguration(ctx, &amp.UpdateWorkspaceConfigurationInput{WorkspaceId: id, RetentionPeriodInDays: aws.Int32(1096)})
			return err
		}, "retentionPeriodInDays"},
		"empty configuration": {func() error {
			_, err := c.UpdateWorkspaceConfiguration(ctx, &amp.UpdateWorkspaceConfigurationInput{WorkspaceId: id})
			return err
		}, "workspaceConfiguration"},
		"bad label name": {func() error {
			_, err := c.UpdateWorkspaceConfiguration(ctx, &amp.UpdateWorkspaceConfigurationInput{WorkspaceId: id, LimitsPerLabelSet: []types.LimitsPerLabelSet{{
				LabelSet: map[string]string{"bad-name": "x"}, Limits: &types.LimitsPerLabelSetEntry{MaxSeries: aws.Int64(1)},
			}}})
			return err
		}, "limitsPerLabelSet[0].labelSet"},
		"bad metric name": {func() error {
			_, err := c.UpdateWorkspaceConfiguration(ctx, &amp.UpdateWorkspaceConfigurationInput{WorkspaceId: id, LimitsPerLabelSet: []types.LimitsPerLabelSet{{
				LabelSet: map[string]string{"__name__": "1up"}, Limits: &types.LimitsPerLabelSetEntry{MaxSeries: aws.Int64(1)},
			}}})
			return err
		}, "limitsPerLabelSet[0].labelSet"},
		"not an arn": {func() error {
			_, err := c.ListTagsForResource(ctx, &amp.ListTagsForResourceInput{ResourceArn: aws.String("workspace")})
			return err
		}, "resourceArn"},
	} {
		t.Run(name, func(t *testing.T) {
			err := tc.call()
			var ve *types.ValidationException
			if !errors.As(err, &ve) {
				t.Fatalf("err = %v, want ValidationException", err)
			}
			if ve.Reason != types.ValidationExceptionReasonFieldValidationFailed || len(ve.FieldList) == 0 ||
				aws.ToString(ve.FieldList[0].Name) != tc.field || aws.ToString(ve.FieldList[0].Message) == "" {
				t.Errorf("reason %s, fields %+v; want %s", ve.Reason, ve.FieldList, tc.field)
			}
		})
	}
}

func TestMalformedJSON(t *testing.T) {
	s := newTestServer(t, testOptions(t, t.TempDir()), HandlerOptions{})
	for _, path := range []string{"/workspaces", "/workspaces/ws-x/alias"} {
		resp, err := http.Post(s.url+path, "application/json", strings.NewReader(`{"alias":`))
		if err != nil {
			t.Fatal(err)
		}
		var body struct{ Message, Reason string }
		err = json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("x-amzn-ErrorType") != "ValidationException" ||
			body.Reason != ReasonCannotParse || body.Message == "" {
			t.Errorf("POST %s: %d %s %+v", path, resp.StatusCode, resp.Header.Get("x-amzn-ErrorType"), body)
		}
	}

	resp, err := http.Get(s.url + "/scrapers")
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound || resp.Header.Get("x-amzn-ErrorType") != "UnknownOperationException" {
		t.Errorf("GET /scrapers: %d %s", resp.StatusCode, resp.Header.Get("x-amzn-ErrorType"))
	}
}
