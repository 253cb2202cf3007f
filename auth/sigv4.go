package auth

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/promspace/promspace/auth/sigv4"
)

// DefaultService is the SigV4 signing name of AMP.
const DefaultService = "aps"

// SigV4Options configures a SigV4 authenticator. Zero values mean the
// defaults.
type SigV4Options struct {
	// Region requests must be scoped to. DefaultRegion when empty.
	Region string
	// Service requests must be scoped to. DefaultService ("aps") when empty.
	Service string
	// Credentials finds the secret of an access key. Required.
	Credentials CredentialStore
	// MaxBodySize bounds the body read to compute its hash.
	// sigv4.DefaultMaxBodySize when 0.
	MaxBodySize int64
	// MaxClockSkew is the tolerated distance between the signing time and
	// Now. sigv4.DefaultMaxClockSkew when 0.
	MaxClockSkew time.Duration
	// Now is the clock. time.Now when nil.
	Now func() time.Time
}

// SigV4 authenticates AWS Signature Version 4 requests, in the
// Authorization header or presigned URLs, as the principal of the
// credential that signed them. Package sigv4 verifies the signature; SigV4
// adds the identity behind the access key and this package's error kinds.
type SigV4 struct {
	verifier    *sigv4.Verifier
	credentials CredentialStore
}

// NewSigV4 returns a SigV4 authenticator.
func NewSigV4(opts SigV4Options) (*SigV4, error) {
	if opts.Credentials == nil {
		return nil, errors.New("sigv4: a credential store is required")
	}
	if opts.Region == "" {
		opts.Region = DefaultRegion
	}
	if opts.Service == "" {
		opts.Service = DefaultService
	}
	a := &SigV4{credentials: opts.Credentials}
	v, err := sigv4.NewVerifier(sigv4.Options{
		Region:       opts.Region,
		Service:      opts.Service,
		Credentials:  sigv4.CredentialStoreFunc(a.lookup),
		MaxBodySize:  opts.MaxBodySize,
		MaxClockSkew: opts.MaxClockSkew,
		Now:          opts.Now,
	})
	if err != nil {
		return nil, err
	}
	a.verifier = v
	return a, nil
}

// lookedUp is where lookup leaves the credential it found, so that the
// principal comes from the same lookup that verified the signature.
type lookedUp struct{ cred *Credential }

type lookedUpKey struct{}

func (a *SigV4) lookup(ctx context.Context, accessKeyID string) (sigv4.Credentials, error) {
	c, err := a.credentials.Lookup(ctx, accessKeyID)
	if err != nil {
		if errors.Is(err, ErrUnrecognizedClient) {
			return sigv4.Credentials{}, sigv4.ErrUnrecognizedClient
		}
		return sigv4.Credentials{}, err
	}
	if slot, ok := ctx.Value(lookedUpKey{}).(*lookedUp); ok {
		slot.cred = &c
	}
	return sigv4.Credentials{SecretAccessKey: c.SecretAccessKey, SessionToken: c.SessionToken}, nil
}

// Authenticate implements Authenticator.
func (a *SigV4) Authenticate(r *http.Request) (*Principal, error) {
	slot := &lookedUp{}
	if _, err := a.verifier.Verify(context.WithValue(r.Context(), lookedUpKey{}, slot), r); err != nil {
		return nil, fromSigV4(err)
	}
	if slot.cred == nil {
		return nil, errors.New("sigv4: signature verified without a credential lookup")
	}
	return slot.cred.Principal(), nil
}

// fromSigV4 turns a verification failure into this package's error,
// keeping AWS's message: the kinds are sigv4's, except that a request
// without a signature has no token at all for AMP. Errors of the
// credential store pass through.
func fromSigV4(err error) error {
	var e *sigv4.Error
	if !errors.As(err, &e) {
		return err
	}
	kind := e.Kind
	if errors.Is(kind, sigv4.ErrMissingSignature) {
		kind = ErrMissingToken
	}
	return &Error{Kind: kind, Message: e.Message}
}
