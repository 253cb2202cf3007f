package query

import (
	"net/url"
	"strings"
	"testing"
	"time"

	v1 "github.com/prometheus/prometheus/web/api/v1"
)

func TestTimesThatAreNoPointInTime(t *testing.T) {
	f := newFixture(t, Options{})
	at := ts(10 * time.Minute)
	bad := func(param, value string) string {
		return errorJSON("bad_data", `invalid parameter "`+param+`": cannot parse "`+value+`" to a valid timestamp: not a finite number of seconds between -292273086-05-16T16:47:06Z and 292277025-08-18T07:12:54Z`)
	}
	for _, value := range []string{"NaN", "nan", "Inf", "+Inf", "-Inf", "infinity", "1e300", "-1e19"} {
		for _, tc := range []struct {
			path, param string
			form        url.Values
		}{
			{"/api/v1/query", "time", url.Values{"query": {"up"}}},
			{"/api/v1/query_range", "start", url.Values{"query": {"up"}, "end": {at}, "step": {"60"}}},
			{"/api/v1/query_range", "end", url.Values{"query": {"up"}, "start": {ts(0)}, "step": {"60"}}},
			{"/api/v1/series", "start", url.Values{"match[]": {"up"}}},
			{"/api/v1/series", "end", url.Values{"match[]": {"up"}}},
			{"/api/v1/labels", "start", nil},
			{"/api/v1/label/job/values", "end", nil},
			{"/api/v1/query_exemplars", "start", url.Values{"query": {"up"}}},
		} {
			for _, method := range []string{"GET", "POST"} {
				if method == "POST" && strings.HasPrefix(tc.path, "/api/v1/label/") {
					continue // GET only
				}
				form := url.Values{tc.param: {value}}
				for k, v := range tc.form {
					form[k] = v
				}
				code, body := f.do(t, method, tc.path, form)
				if want := bad(tc.param, value); code != 400 || body != want {
					t.Errorf("%s %s %s=%s: %d %s\nwant 400 %s", method, tc.path, tc.param, value, code, body, want)
				}
			}
		}
	}

	// Times that are points in time still are, at the ends of the range too.
	for _, tc := range []struct {
		path string
		form url.Values
	}{
		{"/api/v1/query", url.Values{"query": {"http_requests_total"}, "time": {at + ".5"}}},
		{"/api/v1/query", url.Values{"query": {"http_requests_total"}, "time": {t0.Add(10 * time.Minute).Format(time.RFC3339Nano)}}},
		{"/api/v1/query_range", url.Values{"query": {"http_requests_total"}, "start": {ts(0)}, "end": {"1.7000006e9"}, "step": {"60"}}},
		{"/api/v1/series", url.Values{"match[]": {"up"}, "start": {v1.MinTime.Format(time.RFC3339Nano)}, "end": {v1.MaxTime.Format(time.RFC3339Nano)}}},
		{"/api/v1/labels", url.Values{"start": {"-9223372036854"}, "end": {"9223372036854"}}},
	} {
		if code, body := f.do(t, "POST", tc.path, tc.form); code != 200 {
			t.Errorf("%s %v: %d %s", tc.path, tc.form, code, body)
		}
	}
	// Anything else that does not parse is Prometheus' to reject.
	code, body := f.do(t, "GET", "/api/v1/query", url.Values{"query": {"up"}, "time": {"noon"}})
	if want := errorJSON("bad_data", `invalid parameter "time": invalid time value for 'time': cannot parse "noon" to a valid timestamp`); code != 400 || body != want {
		t.Errorf("%d %s", code, body)
	}
}
