package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
)

// Request body limits: one resource, and a whole imported document.
const (
	resourceLimit = 1 << 20  // 1 MiB
	importLimit   = 16 << 20 // 16 MiB
)

// The media types each kind of body accepts. A request without a
// Content-Type is taken to be of the first.
var (
	jsonMedia = []string{mediaJSON}
	textMedia = []string{mediaText, "text/x-lua", "application/x-lua"}
	yamlMedia = []string{mediaYAML, "application/x-yaml", "text/yaml", "text/x-yaml", mediaJSON} // JSON is YAML
)

// readBody reads the request's body: 415 when its Content-Type is not one of
// accepted, 413 when it is over limit bytes, and false once answered.
func readBody(w http.ResponseWriter, r *http.Request, limit int64, accepted []string) ([]byte, bool) {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || !contains(accepted, mt) {
			writeError(w, http.StatusUnsupportedMediaType, fmt.Sprintf("Content-Type %q: want %s", ct, strings.Join(accepted, " or ")))
			return nil, false
		}
	}
	if r.ContentLength > limit {
		writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("the body is %d bytes, over the limit of %d", r.ContentLength, limit))
		return nil, false
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("the body is over the limit of %d bytes", limit))
		return nil, false
	case err != nil:
		writeError(w, http.StatusBadRequest, "cannot read the body: "+err.Error())
		return nil, false
	}
	return body, true
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}

// decodeJSON decodes body, one JSON object, into v strictly: unknown fields,
// wrong types and trailing data are refused with 400 naming the field. It
// returns false once it has answered.
func decodeJSON(w http.ResponseWriter, body []byte, v any) bool {
	if trimmed := bytes.TrimLeft(body, " \t\r\n"); len(trimmed) == 0 || trimmed[0] != '{' {
		writeError(w, http.StatusBadRequest, "the body is not a JSON object")
		return false
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		writeError(w, http.StatusBadRequest, jsonProblem(err))
		return false
	}
	if _, err := dec.Token(); err != io.EOF {
		writeError(w, http.StatusBadRequest, "the body holds more than one JSON value")
		return false
	}
	return true
}

// jsonProblem says what is wrong with a JSON body, naming the field where
// the decoder knows it.
func jsonProblem(err error) string {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntax):
		return fmt.Sprintf("the body is not valid JSON: %v (at byte %d)", syntax, syntax.Offset)
	case errors.As(err, &typ) && typ.Field != "":
		return fmt.Sprintf("%s: got a JSON %s, want %s", typ.Field, typ.Value, jsonKind(typ.Type.Kind().String()))
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "the body is truncated JSON"
	}
	// "json: unknown field \"x\"" and the errors of UnmarshalJSON methods.
	return strings.TrimPrefix(err.Error(), "json: ")
}

// jsonKind names a Go kind the way a JSON author thinks of it.
func jsonKind(kind string) string {
	switch kind {
	case "string":
		return "a string"
	case "bool":
		return "true or false"
	case "slice", "array":
		return "a list"
	case "struct", "map", "ptr":
		return "an object"
	case "int", "int8", "int16", "int32", "int64", "uint", "uint8", "uint16", "uint32", "uint64":
		return "a whole number"
	case "float32", "float64":
		return "a number"
	}
	return kind
}
