package snstest_test

import (
	"context"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sns/types"
	"github.com/aws/smithy-go"

	"github.com/promspace/promspace/alertmanager/snstest"
)

// TestPublish publishes with the AWS SDK's sns client: a request signed
// with the server's credential is recorded, one signed with another
// secret is refused as SNS refuses it.
func TestPublish(t *testing.T) {
	ctx := context.Background()
	srv := snstest.NewServer(t, "eu-west-1", "AKID", "secret")
	client := func(secret string) *sns.Client {
		return sns.New(sns.Options{Region: "eu-west-1", BaseEndpoint: aws.String(srv.URL),
			Credentials: credentials.NewStaticCredentialsProvider("AKID", secret, "")})
	}
	out, err := client("secret").Publish(ctx, &sns.PublishInput{
		TopicArn: aws.String("arn:aws:sns:eu-west-1:123456789012:t"), Subject: aws.String("s"), Message: aws.String("m"),
		MessageAttributes: map[string]types.MessageAttributeValue{"k": {DataType: aws.String("String"), StringValue: aws.String("v")}},
	})
	if err != nil {
		t.Fatal(err)
	}
	msgs := srv.Messages()
	if len(msgs) != 1 || msgs[0].MessageID != aws.ToString(out.MessageId) || msgs[0].TopicArn != "arn:aws:sns:eu-west-1:123456789012:t" ||
		msgs[0].Subject != "s" || msgs[0].Message != "m" || msgs[0].Attributes["k"] != "v" || msgs[0].AccessKeyID != "AKID" {
		t.Errorf("messages: %+v", msgs)
	}
	_, err = client("wrong").Publish(ctx, &sns.PublishInput{TopicArn: aws.String("arn:aws:sns:eu-west-1:123456789012:t"), Message: aws.String("m")})
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "SignatureDoesNotMatch" || len(srv.Rejected()) != 1 || len(srv.Messages()) != 1 {
		t.Errorf("publish with a wrong secret: %v", err)
	}
}
