package api

import (
	"crypto/rand"
	"encoding/base32"
	"fmt"
	"net/http"
	"strings"

	"github.com/trunkline/trunkline/config"
)

// resourceAPI serves one kind of replicated resource as a collection:
// list, get, create, replace and delete, every write one config.Change.
type resourceAPI[T any] struct {
	h          *handler
	kind       string // config.Kind…
	noun       string // for messages: "SIP trunk"
	idField    string // the JSON field holding the id: "id", "number"
	generateID bool   // POST without an id gets a generated one
	all        func(*config.Config) []T
	id         func(*T) *string
	into       func(*config.Change, *T) // sets the change's field of the kind
}

// endpoints returns the collection's endpoints: GET and POST on base, GET,
// PUT and DELETE on base/{param}.
func (a *resourceAPI[T]) endpoints(base, param string) []endpoint {
	item := base + "/" + param
	body := jsonOf[T]()
	return []endpoint{
		{method: "GET", path: base, summary: "List " + a.noun + "s", serve: a.list, list: true,
			ok: http.StatusOK, response: &content{mediaType: mediaJSON, schema: listSchema(body.schema)},
			errors: []int{http.StatusBadRequest}},
		{method: "POST", path: base, summary: "Create a " + a.noun + a.idNote(), serve: a.create,
			request: body, ok: http.StatusCreated, response: body, errors: createErrors},
		{method: "GET", path: item, summary: "A " + a.noun, serve: a.get,
			ok: http.StatusOK, response: body, errors: readErrors},
		{method: "PUT", path: item, summary: "Replace a " + a.noun + " (the path's " + a.idField + " wins)", serve: a.replace,
			request: body, ok: http.StatusOK, response: body, errors: updateErrors},
		{method: "DELETE", path: item, summary: "Delete a " + a.noun, serve: a.delete,
			ok: http.StatusNoContent, errors: deleteErrors},
	}
}

func (a *resourceAPI[T]) idNote() string {
	if a.generateID {
		return " (an id is generated when absent)"
	}
	return ""
}

// pathID is the resource's id in the request's path.
func (a *resourceAPI[T]) pathID(r *http.Request) string {
	return r.PathValue(a.idField)
}

// find returns the resource with the given id in cfg, or nil.
func (a *resourceAPI[T]) find(cfg *config.Config, id string) *T {
	if cfg == nil {
		return nil
	}
	all := a.all(cfg)
	for i := range all {
		if *a.id(&all[i]) == id {
			return &all[i]
		}
	}
	return nil
}

func (a *resourceAPI[T]) notFound(w http.ResponseWriter, id string) {
	writeError(w, http.StatusNotFound, fmt.Sprintf("no %s %q", a.noun, id))
}

func (a *resourceAPI[T]) list(w http.ResponseWriter, r *http.Request) {
	writeList(w, r, a.all(a.h.resources()))
}

func (a *resourceAPI[T]) get(w http.ResponseWriter, r *http.Request) {
	id := a.pathID(r)
	v := a.find(a.h.resources(), id)
	if v == nil {
		a.notFound(w, id)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

// create answers POST: 201 and the stored resource; 409 when the id is
// taken.
func (a *resourceAPI[T]) create(w http.ResponseWriter, r *http.Request) {
	body, ok := readBody(w, r, resourceLimit, jsonMedia)
	if !ok {
		return
	}
	var v T
	if !decodeJSON(w, body, &v) {
		return
	}
	id := a.id(&v)
	if *id == "" {
		if !a.generateID {
			writeError(w, http.StatusBadRequest, a.idField+": required")
			return
		}
		*id = newID()
	}
	ch := config.Change{Op: config.OpPut, Kind: a.kind, ID: *id, Create: true}
	a.into(&ch, &v)
	cfg, ok := a.h.apply(w, r, body, ch)
	if !ok {
		return
	}
	writeJSON(w, http.StatusCreated, a.stored(cfg, &v))
}

// replace answers PUT: 200 and the stored resource; 404 when there is none
// to replace. The path's id wins: a body naming another is refused.
func (a *resourceAPI[T]) replace(w http.ResponseWriter, r *http.Request) {
	pathID := a.pathID(r)
	body, ok := readBody(w, r, resourceLimit, jsonMedia)
	if !ok {
		return
	}
	var v T
	if !decodeJSON(w, body, &v) {
		return
	}
	switch id := a.id(&v); *id {
	case "":
		*id = pathID
	case pathID:
	default:
		writeError(w, http.StatusBadRequest, fmt.Sprintf("%s: %q differs from the path's %q", a.idField, *id, pathID))
		return
	}
	ch := config.Change{Op: config.OpPut, Kind: a.kind, ID: pathID, Replace: true}
	a.into(&ch, &v)
	cfg, ok := a.h.apply(w, r, body, ch)
	if !ok {
		return
	}
	writeJSON(w, http.StatusOK, a.stored(cfg, &v))
}

// delete answers DELETE: 204; 404 when there is nothing to delete, 409 when
// something still uses the resource.
func (a *resourceAPI[T]) delete(w http.ResponseWriter, r *http.Request) {
	ch := config.Change{Op: config.OpDelete, Kind: a.kind, ID: a.pathID(r)}
	if _, ok := a.h.apply(w, r, nil, ch); ok {
		w.WriteHeader(http.StatusNoContent)
	}
}

// stored is the resource as the store keeps it (defaults applied), or as
// sent when the configuration the store returned does not show it.
func (a *resourceAPI[T]) stored(cfg *config.Config, sent *T) *T {
	if v := a.find(cfg, *a.id(sent)); v != nil {
		return v
	}
	return sent
}

// resources returns the configuration management reads are served from:
// the store's when there is one, else the configuration in force.
func (h *handler) resources() *config.Config {
	if h.deps.Store != nil {
		if cfg := h.deps.Store.Config(); cfg != nil {
			return cfg
		}
	}
	return h.deps.Config.Config()
}

// idEncoding writes generated ids: lower-case base32, no padding.
var idEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// newID returns a short random id: 10 base32 characters holding 48 random
// bits, enough that two of a few thousand resources collide with a chance
// under one in ten million (and a collision is a 409, never an overwrite).
func newID() string {
	var b [6]byte
	rand.Read(b[:]) // never fails (crypto/rand)
	return strings.ToLower(idEncoding.EncodeToString(b[:]))
}
