package api

import (
	"encoding/json"
	"net/http"
	"reflect"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/trunkline/trunkline/config"
)

// serveOpenAPI answers GET /openapi.json.
func (h *handler) serveOpenAPI(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", mediaJSON)
	w.WriteHeader(http.StatusOK)
	w.Write(h.openapi) // a write error means the client is gone
}

// openAPIDocument describes the endpoints as an OpenAPI 3.0 document. The
// schemas of JSON bodies are derived from their Go types' json tags, so they
// follow the types.
func openAPIDocument(eps []endpoint) []byte {
	g := &schemaGen{names: map[reflect.Type]string{}, taken: map[string]bool{}, schemas: map[string]any{}}
	g.schemas["Error"] = g.schema(reflect.TypeFor[errorBody]())
	paths := map[string]map[string]any{}
	for _, e := range eps {
		op := map[string]any{
			"summary":     e.summary,
			"operationId": operationID(e.method, e.path),
		}
		var params []any
		for _, seg := range strings.Split(e.path, "/") {
			if name, ok := strings.CutPrefix(seg, "{"); ok {
				name = strings.TrimSuffix(name, "}")
				params = append(params, map[string]any{"name": name, "in": "path", "required": true, "schema": map[string]any{"type": "string"}})
			}
		}
		if e.list {
			params = append(params,
				map[string]any{"name": "page", "in": "query", "description": "page number, from 0", "schema": map[string]any{"type": "integer", "minimum": 0, "default": 0}},
				map[string]any{"name": "size", "in": "query", "description": "results per page", "schema": map[string]any{"type": "integer", "minimum": 1, "maximum": maxPageSize, "default": defaultPageSize}})
		}
		if params != nil {
			op["parameters"] = params
		}
		if e.request != nil {
			op["requestBody"] = map[string]any{"required": true, "content": g.content(e.request)}
		}
		responses := map[string]any{}
		ok := map[string]any{"description": http.StatusText(e.ok)}
		if e.response != nil {
			ok["content"] = g.content(e.response)
		}
		responses[itoa(e.ok)] = ok
		errs := e.errors
		if e.public {
			op["security"] = []any{}
		} else {
			errs = append([]int{http.StatusUnauthorized, http.StatusForbidden}, errs...)
		}
		for _, code := range errs {
			responses[itoa(code)] = map[string]any{
				"description": http.StatusText(code),
				"content":     map[string]any{mediaJSON: map[string]any{"schema": ref("Error")}},
			}
		}
		op["responses"] = responses
		if paths[e.path] == nil {
			paths[e.path] = map[string]any{}
		}
		paths[e.path][strings.ToLower(e.method)] = op
	}
	doc := map[string]any{
		"openapi": "3.0.3",
		"info": map[string]any{
			"title":       "Trunkline management API",
			"version":     "1",
			"description": "Trunkline's HTTP API (DESIGN §5). Writes sent to a follower are forwarded to the cluster's leader.",
		},
		"paths":    paths,
		"security": []any{map[string]any{"bearer": []any{}}},
		"components": map[string]any{
			"schemas": g.schemas,
			"securitySchemes": map[string]any{
				"bearer": map[string]any{"type": "http", "scheme": "bearer",
					"description": "one of api.tokens; with none configured, only loopback clients are served, without a token"},
			},
		},
	}
	b, _ := json.MarshalIndent(doc, "", "  ") // maps, slices, strings and numbers only: no error
	return b
}

// operationID names an operation: "get /calls/1/sip-trunks/{id}" becomes
// "getCalls1SipTrunksId".
func operationID(method, path string) string {
	var b strings.Builder
	b.WriteString(strings.ToLower(method))
	upper := true
	for _, r := range path {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) {
			upper = true
			continue
		}
		if upper {
			r = unicode.ToUpper(r)
			upper = false
		}
		b.WriteRune(r)
	}
	return b.String()
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}

func ref(name string) map[string]any {
	return map[string]any{"$ref": "#/components/schemas/" + name}
}

// listOf is the schema of a list response whose results have the item
// schema.
type listOf struct{ item any }

func listSchema(item any) any { return listOf{item} }

// schemaGen builds schemas, naming each struct type once under
// components/schemas.
type schemaGen struct {
	names   map[reflect.Type]string
	taken   map[string]bool
	schemas map[string]any
}

func (g *schemaGen) content(c *content) map[string]any {
	return map[string]any{c.mediaType: map[string]any{"schema": g.schema(c.schema)}}
}

var durationType = reflect.TypeFor[config.Duration]()

// schema returns the schema of s: a reflect.Type, a listOf or a literal.
func (g *schemaGen) schema(s any) any {
	switch s := s.(type) {
	case reflect.Type:
		return g.typeSchema(s)
	case listOf:
		return map[string]any{
			"type": "object",
			"properties": map[string]any{
				"results": map[string]any{"type": "array", "items": g.schema(s.item)},
				"paging":  g.typeSchema(reflect.TypeFor[Paging]()),
			},
		}
	}
	return s
}

func (g *schemaGen) typeSchema(t reflect.Type) any {
	if t == durationType {
		return map[string]any{"type": "string", "description": "a Go duration", "example": "60s"}
	}
	switch t.Kind() {
	case reflect.Pointer:
		return g.typeSchema(t.Elem())
	case reflect.String:
		return map[string]any{"type": "string"}
	case reflect.Bool:
		return map[string]any{"type": "boolean"}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return map[string]any{"type": "integer"}
	case reflect.Float32, reflect.Float64:
		return map[string]any{"type": "number"}
	case reflect.Slice, reflect.Array:
		return map[string]any{"type": "array", "items": g.typeSchema(t.Elem())}
	case reflect.Map:
		return map[string]any{"type": "object", "additionalProperties": g.typeSchema(t.Elem())}
	case reflect.Struct:
		return ref(g.structSchema(t))
	}
	return map[string]any{}
}

// structSchema describes a struct type under components/schemas and
// returns its name there.
func (g *schemaGen) structSchema(t reflect.Type) string {
	if name, ok := g.names[t]; ok {
		return name
	}
	name := upperFirst(t.Name())
	if g.taken[name] { // config.Peer and api.Peer
		name = upperFirst(t.PkgPath()[strings.LastIndex(t.PkgPath(), "/")+1:]) + name
	}
	g.names[t], g.taken[name] = name, true
	props := map[string]any{}
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if !f.IsExported() || tag == "-" {
			continue
		}
		field, _, _ := strings.Cut(tag, ",")
		if field == "" {
			field = f.Name
		}
		props[field] = g.typeSchema(f.Type)
	}
	g.schemas[name] = map[string]any{"type": "object", "properties": props, "additionalProperties": false}
	return name
}

func upperFirst(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	return string(unicode.ToUpper(r)) + s[n:]
}
