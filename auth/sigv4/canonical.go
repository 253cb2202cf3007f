package sigv4

import (
	"hash"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
)

func writeCanonicalRequest(h hash.Hash, method, uri, query, headers, signedHeaders, payloadHash string) {
	for _, s := range []string{method, "\n", uri, "\n", query, "\n", headers, "\n", signedHeaders, "\n", payloadHash} {
		io.WriteString(h, s)
	}
}

// canonicalURI is the request path as it travelled on the wire, URI-encoded
// once more as aws-sdk-go-v2 does for every service but S3: each byte other
// than the unreserved characters and '/' becomes %XX, so "%3A" becomes
// "%253A".
func canonicalURI(r *http.Request) string {
	p := wirePath(r)
	if p == "" {
		p = "/"
	}
	return escapePath(p)
}

// wirePath returns the escaped path the client sent.
func wirePath(r *http.Request) string {
	if ru := r.RequestURI; ru != "" && ru != "*" {
		if ru[0] == '/' {
			p, _, _ := strings.Cut(ru, "?")
			return p
		}
		if u, err := url.ParseRequestURI(ru); err == nil {
			return u.EscapedPath()
		}
	}
	return r.URL.EscapedPath()
}

func escapePath(p string) string {
	n := 0
	for i := 0; i < len(p); i++ {
		if !unreserved(p[i]) && p[i] != '/' {
			n++
		}
	}
	if n == 0 {
		return p
	}
	const hexUpper = "0123456789ABCDEF"
	b := make([]byte, 0, len(p)+2*n)
	for i := 0; i < len(p); i++ {
		c := p[i]
		if unreserved(c) || c == '/' {
			b = append(b, c)
			continue
		}
		b = append(b, '%', hexUpper[c>>4], hexUpper[c&15])
	}
	return string(b)
}

func unreserved(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' ||
		c == '-' || c == '.' || c == '_' || c == '~'
}

// canonicalQuery encodes every name and value (RFC 3986, space as %20) and
// sorts the pairs after encoding, by name then value; a presigned URL's
// X-Amz-Signature is left out.
func canonicalQuery(q url.Values, presigned bool) string {
	type pair struct{ k, v string }
	pairs := make([]pair, 0, len(q))
	for k, vs := range q {
		if presigned && k == querySignature {
			continue
		}
		ek := queryEscape(k)
		for _, v := range vs {
			pairs = append(pairs, pair{ek, queryEscape(v)})
		}
	}
	sort.Slice(pairs, func(i, j int) bool {
		if pairs[i].k != pairs[j].k {
			return pairs[i].k < pairs[j].k
		}
		return pairs[i].v < pairs[j].v
	})
	var b strings.Builder
	for i, p := range pairs {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(p.k)
		b.WriteByte('=')
		b.WriteString(p.v)
	}
	return b.String()
}

func queryEscape(s string) string {
	return strings.ReplaceAll(url.QueryEscape(s), "+", "%20")
}

// canonicalHeaders returns "name:value\n" for each signed header, values
// trimmed, runs of spaces collapsed and repeated values joined with ','.
func canonicalHeaders(r *http.Request, names []string) string {
	var b strings.Builder
	for _, name := range names {
		b.WriteString(name)
		b.WriteByte(':')
		switch name {
		case "host":
			host := r.Host
			if host == "" {
				host = r.URL.Host
			}
			b.WriteString(stripExcessSpaces(host))
		case "content-length":
			if vs := headerValues(r.Header, name); len(vs) > 0 {
				writeHeaderValues(&b, vs)
			} else if r.ContentLength > 0 {
				b.WriteString(strconv.FormatInt(r.ContentLength, 10))
			}
		case "transfer-encoding":
			writeHeaderValues(&b, r.TransferEncoding)
		default:
			writeHeaderValues(&b, headerValues(r.Header, name))
		}
		b.WriteByte('\n')
	}
	return b.String()
}

func writeHeaderValues(b *strings.Builder, vs []string) {
	for i, v := range vs {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strings.TrimSpace(stripExcessSpaces(v)))
	}
}

// headerValues looks a lower-case header name up in h, whose keys are
// canonicalised by net/http except for names it cannot canonicalise.
func headerValues(h http.Header, lower string) []string {
	if vs, ok := h[http.CanonicalHeaderKey(lower)]; ok {
		return vs
	}
	for k, vs := range h {
		if strings.EqualFold(k, lower) {
			return vs
		}
	}
	return nil
}

// stripExcessSpaces trims leading and trailing spaces and collapses inner
// runs of spaces into one, as the SigV4 specification asks.
func stripExcessSpaces(s string) string {
	s = strings.Trim(s, " ")
	if !strings.Contains(s, "  ") {
		return s
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == ' ' && i > 0 && s[i-1] == ' ' {
			continue
		}
		b = append(b, s[i])
	}
	return string(b)
}
