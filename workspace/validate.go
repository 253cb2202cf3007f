package workspace

import (
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"
)

// AMP's limits on request fields.
const (
	maxAliasLength       = 100
	maxClientTokenLength = 64
	maxTags              = 50
	maxTagKeyLength      = 128
	maxTagValueLength    = 256
	maxKmsKeyArnLength   = 2048
	// DefaultMaxResults and MaxMaxResults bound a page of ListWorkspaces.
	DefaultMaxResults = 100
	MaxMaxResults     = 1000
)

var (
	clientTokenRE = regexp.MustCompile(`^[!-~]+$`)
	tagRE         = regexp.MustCompile(`^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$`)
	kmsKeyArnRE   = regexp.MustCompile(`^arn:aws[-a-z]*:kms:[-a-z0-9]+:[0-9]{12}:key/.+$`)
	workspaceARN  = regexp.MustCompile(`^arn:aws[-a-z]*:aps:[-a-z0-9]+:([0-9]{12}):workspace/(.+)$`)
	apsARN        = regexp.MustCompile(`^arn:aws[-a-z]*:aps:[-a-z0-9]+:[0-9]{12}:.+$`)
)

func validateAlias(fe *fieldErrors, alias string) {
	if n := utf8.RuneCountInString(alias); n > maxAliasLength {
		fe.add("alias", "must be at most %d characters long", maxAliasLength)
	}
}

func validateClientToken(fe *fieldErrors, token string) {
	if token == "" {
		return
	}
	if len(token) > maxClientTokenLength || !clientTokenRE.MatchString(token) {
		fe.add("clientToken", "must be 1 to %d printable ASCII characters without spaces", maxClientTokenLength)
	}
}

func validateKmsKeyArn(fe *fieldErrors, arn string) {
	if arn == "" {
		return
	}
	if len(arn) > maxKmsKeyArnLength || !kmsKeyArnRE.MatchString(arn) {
		fe.add("kmsKeyArn", "must be the ARN of a KMS key, arn:aws:kms:<region>:<account>:key/<id>")
	}
}

func validateTagKey(fe *fieldErrors, field, k string) {
	switch n := utf8.RuneCountInString(k); {
	case n == 0 || n > maxTagKeyLength:
		fe.add(field, "tag key %q must be 1 to %d characters long", k, maxTagKeyLength)
	case !tagRE.MatchString(k):
		fe.add(field, "tag key %q must match %s", k, tagRE.String())
	case strings.HasPrefix(strings.ToLower(k), "aws:"):
		fe.add(field, "tag key %q must not start with aws:", k)
	}
}

func validateTags(fe *fieldErrors, tags map[string]string) {
	if len(tags) > maxTags {
		fe.add("tags", "must hold at most %d tags", maxTags)
	}
	for k, v := range tags {
		validateTagKey(fe, "tags", k)
		if utf8.RuneCountInString(v) > maxTagValueLength || !tagRE.MatchString(v) {
			fe.add("tags", "value of tag %q must be at most %d characters matching %s", k, maxTagValueLength, tagRE.String())
		}
	}
}

// parseWorkspaceARN returns the account and id of a workspace ARN.
func parseWorkspaceARN(arn string) (account, id string, err error) {
	m := workspaceARN.FindStringSubmatch(arn)
	if m == nil {
		return "", "", &ValidationError{Reason: ReasonFieldValidationFailed, Fields: []FieldError{{
			Name:    "resourceArn",
			Message: fmt.Sprintf("%q is not the ARN of a workspace", arn),
		}}}
	}
	return m[1], m[2], nil
}

// workspaceIDRE matches the ids the registry gives, ws- and a UUID, and
// any other name that is safe as one directory.
var workspaceIDRE = regexp.MustCompile(`^ws-[0-9A-Za-z_-]{1,64}$`)

func validWorkspaceID(id string) bool { return workspaceIDRE.MatchString(id) }
