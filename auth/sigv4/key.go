package sigv4

import (
	"crypto/hmac"
	"crypto/sha256"
)

// signingKey is a derived key and the secret it was derived from, so that
// a rotated secret is noticed.
type signingKey struct {
	secret string
	key    []byte
}

// maxCachedKeys bounds the cache; it is emptied when full. A key is valid
// for one day, region and service, so the cache turns over daily anyway.
const maxCachedKeys = 4096

// signingKey returns the key derived from secret for in's scope, from the
// cache when it can: deriving costs four HMACs per request.
func (v *Verifier) signingKey(secret string, in signatureInput) []byte {
	id := in.accessKeyID + "\x00" + in.date + "\x00" + in.region + "\x00" + in.service
	v.mu.Lock()
	k, ok := v.keys[id]
	v.mu.Unlock()
	if ok && k.secret == secret {
		return k.key
	}
	key := deriveKey(secret, in.date, in.region, in.service)
	v.mu.Lock()
	if len(v.keys) >= maxCachedKeys {
		clear(v.keys)
	}
	v.keys[id] = signingKey{secret: secret, key: key}
	v.mu.Unlock()
	return key
}

func deriveKey(secret, date, region, service string) []byte {
	k := hmacSHA256([]byte("AWS4"+secret), date)
	k = hmacSHA256(k, region)
	k = hmacSHA256(k, service)
	return hmacSHA256(k, terminator)
}

func hmacSHA256(key []byte, data string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(data))
	return m.Sum(nil)
}
