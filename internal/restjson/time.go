package restjson

import (
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
