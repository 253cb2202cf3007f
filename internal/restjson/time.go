package restjson

import (
	"fmt"
	"net/http"
	"strconv"
	"time"
)

// Time is a timestamp as REST-JSON bodies carry them: seconds since the
// epoch, with milliseconds as the fraction.
type Time time.Time

// MarshalJSON writes t as seconds with a fraction.
func (t Time) MarshalJSON() ([]byte, error) {
	return strconv.AppendFloat(nil, float64(time.Time(t).UnixMilli())/1e3, 'f', -1, 64), nil
}

// UnknownOperation answers a request that matches no operation of a
// handler, as AMP does: 404 UnknownOperationException.
func UnknownOperation(w http.ResponseWriter, r *http.Request) {
	WriteError(w, http.StatusNotFound, "UnknownOperationException",
		fmt.Sprintf("no operation matches %s %s", r.Method, r.URL.Path), nil)
}
