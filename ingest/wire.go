package ingest

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"unsafe"
)

// The protobuf wire format, read without allocating. The decoders in
// decode_v1.go and decode_v2.go, and the readers of the messages they share
// in decode_fields.go, accept what the gogo-generated Unmarshal methods of
// prompb accept (checked by FuzzDecodeV1 and FuzzDecodeV2), but point
// strings into the decoded body instead of copying each one.

var (
	errIntOverflow      = errors.New("proto: integer overflow")
	errInvalidLength    = errors.New("proto: negative length found during unmarshaling")
	errUnexpectedEndGrp = errors.New("proto: unexpected end of group")
)

const (
	wireVarint  = 0
	wireFixed64 = 1
	wireBytes   = 2
	wireFixed32 = 5
)

// uvarint reads a varint at b[i:] and returns it with the index after it.
func uvarint(b []byte, i int) (uint64, int, error) {
	if i < len(b) && b[i] < 0x80 {
		return uint64(b[i]), i + 1, nil
	}
	var v uint64
	for shift := uint(0); ; shift += 7 {
		if shift >= 64 {
			return 0, i, errIntOverflow
		}
		if i >= len(b) {
			return 0, i, io.ErrUnexpectedEOF
		}
		c := b[i]
		i++
		v |= uint64(c&0x7f) << shift
		if c < 0x80 {
			return v, i, nil
		}
	}
}

// readTag reads a field tag at b[i:].
func readTag(b []byte, i int, msg string) (field int32, wireType int, next int, err error) {
	v, next, err := uvarint(b, i)
	if err != nil {
		return 0, 0, next, err
	}
	field, wireType = int32(v>>3), int(v&7)
	if wireType == 4 {
		return 0, 0, next, fmt.Errorf("proto: %s: wiretype end group for non-group", msg)
	}
	if field <= 0 {
		return 0, 0, next, fmt.Errorf("proto: %s: illegal tag %d (wire type %d)", msg, field, wireType)
	}
	return field, wireType, next, nil
}

// readBytes reads a length-delimited field value at b[i:].
func readBytes(b []byte, i int) ([]byte, int, error) {
	v, i, err := uvarint(b, i)
	if err != nil {
		return nil, i, err
	}
	n := int(v)
	if n < 0 {
		return nil, i, errInvalidLength
	}
	end := i + n
	if end < 0 {
		return nil, i, errInvalidLength
	}
	if end > len(b) {
		return nil, i, io.ErrUnexpectedEOF
	}
	return b[i:end], end, nil
}

// readFixed64 reads a little-endian 64-bit value at b[i:].
func readFixed64(b []byte, i int) (uint64, int, error) {
	if i+8 > len(b) {
		return 0, i, io.ErrUnexpectedEOF
	}
	return binary.LittleEndian.Uint64(b[i:]), i + 8, nil
}

func readDouble(b []byte, i int) (float64, int, error) {
	v, i, err := readFixed64(b, i)
	return math.Float64frombits(v), i, err
}

// appendRefs reads a repeated uint32 field, packed or not.
func appendRefs(refs []uint32, b []byte, i, wt int, field string) ([]uint32, int, error) {
	switch wt {
	case wireVarint:
		v, next, err := uvarint(b, i)
		if err != nil {
			return refs, next, err
		}
		return append(refs, uint32(v)), next, nil
	case wireBytes:
		packed, next, err := readBytes(b, i)
		if err != nil {
			return refs, next, err
		}
		for j := 0; j < len(packed); {
			var v uint64
			if v, j, err = uvarint(packed, j); err != nil {
				return refs, next, err
			}
			refs = append(refs, uint32(v))
		}
		return refs, next, nil
	default:
		return refs, i, wrongWireType(field, wt)
	}
}

// skipField skips the field whose tag starts at b[start:], the way the
// gogo-generated code does, and returns the index after it.
func skipField(b []byte, start int) (int, error) {
	i := start
	depth := 0
	for i < len(b) {
		wire, next, err := uvarint(b, i)
		if err != nil {
			return 0, err
		}
		i = next
		switch wire & 7 {
		case wireVarint:
			if _, i, err = uvarint(b, i); err != nil {
				return 0, err
			}
		case wireFixed64:
			i += 8
		case wireBytes:
			var n uint64
			if n, i, err = uvarint(b, i); err != nil {
				return 0, err
			}
			if int(n) < 0 {
				return 0, errInvalidLength
			}
			i += int(n)
		case 3:
			depth++
		case 4:
			if depth == 0 {
				return 0, errUnexpectedEndGrp
			}
			depth--
		case wireFixed32:
			i += 4
		default:
			return 0, fmt.Errorf("proto: illegal wireType %d", wire&7)
		}
		if i < 0 {
			return 0, errInvalidLength
		}
		if depth == 0 {
			if i > len(b) {
				return 0, io.ErrUnexpectedEOF
			}
			return i, nil
		}
	}
	return 0, io.ErrUnexpectedEOF
}

// unsafeString returns a string that shares b's memory. b must not change
// while the string is in use.
func unsafeString(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}

func wrongWireType(field string, wireType int) error {
	return fmt.Errorf("proto: wrong wireType = %d for field %s", wireType, field)
}
