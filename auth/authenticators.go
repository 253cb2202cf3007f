package auth

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// Anonymous authenticates every request as the anonymous principal of
// AccountID (DefaultAccountID when empty). It is for local use when no
// credentials are configured; pair it with AllowAll.
type Anonymous struct {
	AccountID string
}

// Authenticate implements Authenticator.
func (a Anonymous) Authenticate(*http.Request) (*Principal, error) {
	acct := a.AccountID
	if acct == "" {
		acct = DefaultAccountID
	}
	return &Principal{AccountID: acct, Name: AnonymousName, ARN: AnonymousName, Method: MethodAnonymous}, nil
}

// AllowAll allows every non-nil principal everything.
type AllowAll struct{}

// Authorize implements Authorizer.
func (AllowAll) Authorize(_ context.Context, p *Principal, _, _ string) (bool, error) {
	return p != nil, nil
}

// BearerTokens authenticates `Authorization: Bearer <token>` requests.
// Tokens are kept as SHA-256 digests, so a lookup's timing says nothing
// about how close a guess was.
type BearerTokens struct {
	byDigest map[[sha256.Size]byte]Principal
}

// NewBearerTokens maps each token to the principal it authenticates as.
func NewBearerTokens(tokens map[string]Principal) (*BearerTokens, error) {
	b := &BearerTokens{byDigest: make(map[[sha256.Size]byte]Principal, len(tokens))}
	for tok, p := range tokens {
		if tok == "" || strings.ContainsAny(tok, " \t\r\n") {
			return nil, fmt.Errorf("bearer token for %q: must be non-empty and without whitespace", p.Name)
		}
		if p.Method == "" {
			p.Method = MethodBearer
		}
		if p.ARN == "" {
			p.ARN = UserARN(p.AccountID, p.Name)
		}
		b.byDigest[sha256.Sum256([]byte(tok))] = p
	}
	return b, nil
}

// Authenticate implements Authenticator.
func (b *BearerTokens) Authenticate(r *http.Request) (*Principal, error) {
	h := r.Header.Values("Authorization")
	if len(h) == 0 {
		return nil, newError(ErrMissingToken, msgMissingToken)
	}
	scheme, tok, ok := strings.Cut(strings.TrimSpace(h[0]), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return nil, newError(ErrMissingToken, msgMissingToken)
	}
	if len(h) > 1 {
		return nil, newError(ErrUnrecognizedClient, msgUnrecognized)
	}
	p, found := b.byDigest[sha256.Sum256([]byte(strings.TrimSpace(tok)))]
	if !found {
		return nil, newError(ErrUnrecognizedClient, msgUnrecognized)
	}
	return &p, nil
}

// Chain tries each authenticator in turn and returns the first answer that
// is not ErrMissingToken: a principal, or the error of the first
// authenticator that recognised the kind of credentials but rejected them.
func Chain(authenticators ...Authenticator) Authenticator {
	return chain(authenticators)
}

type chain []Authenticator

func (c chain) Authenticate(r *http.Request) (*Principal, error) {
	for _, a := range c {
		p, err := a.Authenticate(r)
		if err == nil && p != nil {
			return p, nil
		}
		if err != nil && !errors.Is(err, ErrMissingToken) {
			return nil, err
		}
	}
	return nil, newError(ErrMissingToken, msgMissingToken)
}
