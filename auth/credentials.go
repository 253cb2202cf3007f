package auth

import (
	"context"
	"fmt"
)

// Credential is an access key and the identity it belongs to.
type Credential struct {
	AccessKeyID     string
	SecretAccessKey string
	// SessionToken, when set, must be presented with every request signed
	// by this key (X-Amz-Security-Token), as for temporary AWS credentials.
	SessionToken string
	AccountID    string
	// Name is the IAM user name; the access key ID when empty.
	Name string
}

// Principal returns the principal requests signed with c authenticate as.
func (c Credential) Principal() *Principal {
	name := c.Name
	if name == "" {
		name = c.AccessKeyID
	}
	return &Principal{
		AccountID:   c.AccountID,
		AccessKeyID: c.AccessKeyID,
		Name:        name,
		ARN:         UserARN(c.AccountID, name),
		Method:      MethodSigV4,
	}
}

// CredentialStore finds the secret of an access key.
type CredentialStore interface {
	// Lookup returns the credential of accessKeyID, or an error wrapping
	// ErrUnrecognizedClient if there is none. Other errors mean the store
	// failed.
	Lookup(ctx context.Context, accessKeyID string) (Credential, error)
}

// StaticCredentials is an in-memory CredentialStore keyed by access key ID.
type StaticCredentials map[string]Credential

// NewStaticCredentials indexes creds by access key ID; duplicate or empty
// keys are an error.
func NewStaticCredentials(creds ...Credential) (StaticCredentials, error) {
	s := make(StaticCredentials, len(creds))
	for _, c := range creds {
		if c.AccessKeyID == "" || c.SecretAccessKey == "" {
			return nil, fmt.Errorf("credential %q: access key id and secret are required", c.AccessKeyID)
		}
		if _, dup := s[c.AccessKeyID]; dup {
			return nil, fmt.Errorf("duplicate access key id %q", c.AccessKeyID)
		}
		s[c.AccessKeyID] = c
	}
	return s, nil
}

// Lookup implements CredentialStore.
func (s StaticCredentials) Lookup(_ context.Context, accessKeyID string) (Credential, error) {
	c, ok := s[accessKeyID]
	if !ok {
		return Credential{}, newError(ErrUnrecognizedClient, msgUnrecognized)
	}
	return c, nil
}
