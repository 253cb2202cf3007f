package promspace_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/amp"
	"github.com/aws/aws-sdk-go-v2/service/amp/types"

	"github.com/promspace/promspace"
)

// TestAnomalyDetectorsUnknown checks that every anomaly detector operation
// answers the SDK with AMP's ValidationException for an unknown operation.
func TestAnomalyDetectorsUnknown(t *testing.T) {
	ctx := context.Background()
	svc, err := promspace.New(ctx, promspace.Options{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer svc.Close()
	srv := httptest.NewServer(svc)
	defer srv.Close()
	c := amp.New(amp.Options{
		Region: "us-east-1", BaseEndpoint: aws.String(srv.URL), RetryMaxAttempts: 1,
		Credentials: credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", ""),
	})
	ws, err := c.CreateWorkspace(ctx, &amp.CreateWorkspaceInput{})
	if err != nil {
		t.Fatal(err)
	}
	id, ad := ws.WorkspaceId, aws.String("ad-1")
	calls := map[string]func() error{
		"CreateAnomalyDetector": func() error {
			_, err := c.CreateAnomalyDetector(ctx, &amp.CreateAnomalyDetectorInput{WorkspaceId: id, Alias: aws.String("a"),
				Configuration: &types.AnomalyDetectorConfigurationMemberRandomCutForest{Value: types.RandomCutForestConfiguration{Query: aws.String("up")}}})
			return err
		},
		"ListAnomalyDetectors": func() error {
			_, err := c.ListAnomalyDetectors(ctx, &amp.ListAnomalyDetectorsInput{WorkspaceId: id})
			return err
		},
		"DescribeAnomalyDetector": func() error {
			_, err := c.DescribeAnomalyDetector(ctx, &amp.DescribeAnomalyDetectorInput{WorkspaceId: id, AnomalyDetectorId: ad})
			return err
		},
		"PutAnomalyDetector": func() error {
			_, err := c.PutAnomalyDetector(ctx, &amp.PutAnomalyDetectorInput{WorkspaceId: id, AnomalyDetectorId: ad,
				Configuration: &types.AnomalyDetectorConfigurationMemberRandomCutForest{Value: types.RandomCutForestConfiguration{Query: aws.String("up")}}})
			return err
		},
		"DeleteAnomalyDetector": func() error {
			_, err := c.DeleteAnomalyDetector(ctx, &amp.DeleteAnomalyDetectorInput{WorkspaceId: id, AnomalyDetectorId: ad})
			return err
		},
	}
	for name, call := range calls {
		var ve *types.ValidationException
		if err := call(); !errors.As(err, &ve) || ve.Reason != types.ValidationExceptionReasonUnknownOperation {
			t.Errorf("%s: %v, want ValidationException with reason UNKNOWN_OPERATION", name, err)
		}
	}
}
