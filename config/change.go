package config

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
)

// A Change is one edit of the replicated resources: what the management API
// asks for and what the cluster's command log carries. Applying a change to
// a configuration is pure and deterministic (Config.Apply), so every node
// of a cluster applying the same log reaches the same configuration; a
// change that would leave the configuration invalid is refused whole.

// Change operations.
const (
	OpPut    = "PUT"    // create or replace one resource (Create: only create)
	OpDelete = "DELETE" // remove one resource
	OpImport = "IMPORT" // replace every resource with Config's
)

// Change kinds: the resource a PUT or DELETE is about.
const (
	KindSIPTrunk           = "sipTrunk"
	KindRoute              = "route"
	KindNumber             = "number"
	KindCallsConfiguration = "callsConfiguration"
	KindScript             = "script"
)

// Change is one edit. Exactly the field of its Kind is set for a PUT; ID
// names the resource for a DELETE (for a number, the number); Config holds
// the whole document for an IMPORT (its node settings are not the
// resources': an import keeps the running node settings).
type Change struct {
	Op   string `json:"op"`
	Kind string `json:"kind,omitempty"`
	ID   string `json:"id,omitempty"`
	// Create makes a PUT fail with ErrExists when the id is taken (POST);
	// Replace makes it fail with ErrNotFound when it is not (PUT).
	Create  bool `json:"create,omitempty"`
	Replace bool `json:"replace,omitempty"`

	SIPTrunk           *SIPTrunk           `json:"sipTrunk,omitempty"`
	Route              *Route              `json:"route,omitempty"`
	Number             *Number             `json:"number,omitempty"`
	CallsConfiguration *CallsConfiguration `json:"callsConfiguration,omitempty"`
	Script             *Script             `json:"script,omitempty"`
	Config             *Config             `json:"config,omitempty"`
}

// Sentinel errors of Apply: errors.Is(err, ErrExists) and so on.
var (
	// ErrExists: a PUT with Create names an id that is taken.
	ErrExists = errors.New("config: id already exists")
	// ErrNotFound: a PUT with Replace, or a DELETE, names an unknown id.
	ErrNotFound = errors.New("config: no such resource")
	// ErrInUse: a DELETE names a resource other resources still refer to;
	// the error is an *InUseError naming them.
	ErrInUse = errors.New("config: resource in use")
)

// InUseError refuses the deletion of a resource that other resources still
// refer to. Paths name every referencing field, in document order, e.g.
// "routes[2].destinations[0].value.sipTrunkId". It wraps ErrInUse.
type InUseError struct {
	Kind  string   // the Kind of the resource that was to be deleted
	ID    string   // its id (for a number, the number)
	Paths []string // at least one
}

func (e *InUseError) Error() string {
	return fmt.Sprintf("%s %q is in use: %s refers to it", e.Kind, e.ID, strings.Join(e.Paths, ", "))
}

// Unwrap returns ErrInUse.
func (e *InUseError) Unwrap() error { return ErrInUse }

// Apply returns the configuration c with ch applied, or an error; c itself
// is never modified (the result shares nothing with it). It is pure and
// deterministic, so every node applying the same changes in the same order
// reaches the same configuration.
//
// A PUT stores its resource, with defaults applied, in place of the one with
// the same id, or after the last of its kind when the id is new (an upsert;
// Create refuses a taken id with ErrExists, Replace an unknown one with
// ErrNotFound). A DELETE removes the resource named by ID (ErrNotFound when
// there is none; an *InUseError wrapping ErrInUse when something refers to
// it). An IMPORT replaces every resource with those of ch.Config and keeps
// c's node settings (node, sip, dns, media, api, cluster).
//
// The result is validated whole: a change that would leave the document
// invalid is refused with an *Error whose problems name fields relative to
// the document ("sipTrunks[3].destinationHosts[0]: …"). A malformed change
// (unknown op or kind, no resource, a resource without an id — the caller
// generates ids) is refused with an *Error whose paths name the fields of
// the change ("op", "kind", "id", "sipTrunk").
func (c *Config) Apply(ch Change) (*Config, error) {
	if c == nil {
		c = &Config{}
	}
	switch ch.Op {
	case OpPut:
		return c.put(ch)
	case OpDelete:
		return c.delete(ch)
	case OpImport:
		return c.importAll(ch)
	case "":
		return nil, changeError("op", "required: one of %s, %s, %s", OpPut, OpDelete, OpImport)
	default:
		return nil, changeError("op", "%q is not one of %s, %s, %s", ch.Op, OpPut, OpDelete, OpImport)
	}
}

// changeError is a malformed change: its path names a field of the Change.
func changeError(path, format string, args ...any) *Error {
	return &Error{Problems: []Problem{{Path: path, Reason: fmt.Sprintf(format, args...)}}}
}

// resourceKind describes one list of resources for put and delete.
type resourceKind struct {
	list  string                        // the document's key: "sipTrunks"
	field string                        // the Change's field: "sipTrunk"
	ids   func(c *Config) []string      // the ids of the list, in order
	set   func(c *Config, i int, v any) // store v at i (i == len: append)
	del   func(c *Config, i int)        // remove item i
}

var resourceKinds = map[string]resourceKind{
	KindSIPTrunk: {
		list: "sipTrunks", field: "sipTrunk",
		ids: func(c *Config) []string { return idsOf(c.SIPTrunks, func(t SIPTrunk) string { return t.ID }) },
		set: func(c *Config, i int, v any) { c.SIPTrunks = setAt(c.SIPTrunks, i, *v.(*SIPTrunk)) },
		del: func(c *Config, i int) { c.SIPTrunks = slices.Delete(c.SIPTrunks, i, i+1) },
	},
	KindRoute: {
		list: "routes", field: "route",
		ids: func(c *Config) []string { return idsOf(c.Routes, func(r Route) string { return r.ID }) },
		set: func(c *Config, i int, v any) { c.Routes = setAt(c.Routes, i, *v.(*Route)) },
		del: func(c *Config, i int) { c.Routes = slices.Delete(c.Routes, i, i+1) },
	},
	KindNumber: {
		list: "numbers", field: "number",
		ids: func(c *Config) []string { return idsOf(c.Numbers, func(n Number) string { return n.Number }) },
		set: func(c *Config, i int, v any) { c.Numbers = setAt(c.Numbers, i, *v.(*Number)) },
		del: func(c *Config, i int) { c.Numbers = slices.Delete(c.Numbers, i, i+1) },
	},
	KindCallsConfiguration: {
		list: "callsConfigurations", field: "callsConfiguration",
		ids: func(c *Config) []string {
			return idsOf(c.CallsConfigurations, func(a CallsConfiguration) string { return a.ID })
		},
		set: func(c *Config, i int, v any) {
			c.CallsConfigurations = setAt(c.CallsConfigurations, i, *v.(*CallsConfiguration))
		},
		del: func(c *Config, i int) { c.CallsConfigurations = slices.Delete(c.CallsConfigurations, i, i+1) },
	},
	KindScript: {
		list: "scripts", field: "script",
		ids: func(c *Config) []string { return idsOf(c.Scripts, func(s Script) string { return s.ID }) },
		set: func(c *Config, i int, v any) { c.Scripts = setAt(c.Scripts, i, *v.(*Script)) },
		del: func(c *Config, i int) { c.Scripts = slices.Delete(c.Scripts, i, i+1) },
	},
}

func idsOf[T any](items []T, id func(T) string) []string {
	ids := make([]string, len(items))
	for i, it := range items {
		ids[i] = id(it)
	}
	return ids
}

func setAt[T any](items []T, i int, v T) []T {
	if i == len(items) {
		return append(items, v)
	}
	items[i] = v
	return items
}

// kindNames lists the kinds for messages, in a fixed order.
func kindNames() string {
	return strings.Join([]string{KindSIPTrunk, KindRoute, KindNumber, KindCallsConfiguration, KindScript}, ", ")
}

func lookupKind(kind string) (resourceKind, error) {
	k, ok := resourceKinds[kind]
	switch {
	case kind == "":
		return k, changeError("kind", "required: one of %s", kindNames())
	case !ok:
		return k, changeError("kind", "%q is not one of %s", kind, kindNames())
	}
	return k, nil
}

// resource returns a deep copy of the resource a PUT carries (so the
// result shares nothing with the caller's change), with its id, after
// checking that exactly the field of ch.Kind is set.
func (ch *Change) resource() (v any, id string, err error) {
	fields := []struct {
		kind string
		set  bool
	}{
		{KindSIPTrunk, ch.SIPTrunk != nil},
		{KindRoute, ch.Route != nil},
		{KindNumber, ch.Number != nil},
		{KindCallsConfiguration, ch.CallsConfiguration != nil},
		{KindScript, ch.Script != nil},
		{"config", ch.Config != nil},
	}
	for _, f := range fields {
		if f.set && f.kind != ch.Kind {
			name := f.kind
			if k, ok := resourceKinds[f.kind]; ok {
				name = k.field
			}
			return nil, "", changeError(name, "set in a PUT of a %s", ch.Kind)
		}
	}
	switch ch.Kind {
	case KindSIPTrunk:
		if ch.SIPTrunk != nil {
			r := deepCopy(reflect.ValueOf(ch.SIPTrunk)).Interface().(*SIPTrunk)
			v, id = r, r.ID
		}
	case KindRoute:
		if ch.Route != nil {
			r := deepCopy(reflect.ValueOf(ch.Route)).Interface().(*Route)
			v, id = r, r.ID
		}
	case KindNumber:
		if ch.Number != nil {
			r := deepCopy(reflect.ValueOf(ch.Number)).Interface().(*Number)
			v, id = r, r.Number
		}
	case KindCallsConfiguration:
		if ch.CallsConfiguration != nil {
			r := deepCopy(reflect.ValueOf(ch.CallsConfiguration)).Interface().(*CallsConfiguration)
			v, id = r, r.ID
		}
	case KindScript:
		if ch.Script != nil {
			r := deepCopy(reflect.ValueOf(ch.Script)).Interface().(*Script)
			v, id = r, r.ID
		}
	}
	if v == nil {
		return nil, "", changeError(resourceKinds[ch.Kind].field, "required: the %s to store", ch.Kind)
	}
	dropEmpty(reflect.ValueOf(v).Elem())
	return v, id, nil
}

func (c *Config) put(ch Change) (*Config, error) {
	k, err := lookupKind(ch.Kind)
	if err != nil {
		return nil, err
	}
	v, id, err := ch.resource()
	if err != nil {
		return nil, err
	}
	idField := "id"
	if ch.Kind == KindNumber {
		idField = "number"
	}
	switch {
	case id == "":
		return nil, changeError(k.field+"."+idField, "required: the caller assigns an id")
	case ch.ID != "" && ch.ID != id:
		return nil, changeError(k.field+"."+idField, "%q differs from the id %q the change names", id, ch.ID)
	}
	i := slices.Index(k.ids(c), id)
	switch {
	case i >= 0 && ch.Create:
		return nil, fmt.Errorf("%s %q: %w", ch.Kind, id, ErrExists)
	case i < 0 && ch.Replace:
		return nil, fmt.Errorf("%s %q: %w", ch.Kind, id, ErrNotFound)
	case i < 0:
		i = len(k.ids(c))
	}
	out := c.Clone()
	k.set(out, i, v)
	// Validated as given, before defaults, as Parse does.
	if ps := out.check(); len(ps) > 0 {
		return nil, &Error{Problems: ps}
	}
	switch v.(type) {
	case *SIPTrunk:
		out.SIPTrunks[i].applyDefaults()
	case *Route:
		out.Routes[i].applyDefaults()
	}
	return out, nil
}

func (c *Config) delete(ch Change) (*Config, error) {
	k, err := lookupKind(ch.Kind)
	if err != nil {
		return nil, err
	}
	if ch.ID == "" {
		return nil, changeError("id", "required: the id of the %s to delete", ch.Kind)
	}
	i := slices.Index(k.ids(c), ch.ID)
	if i < 0 {
		return nil, fmt.Errorf("%s %q: %w", ch.Kind, ch.ID, ErrNotFound)
	}
	if paths := c.references(ch.Kind, ch.ID); len(paths) > 0 {
		return nil, &InUseError{Kind: ch.Kind, ID: ch.ID, Paths: paths}
	}
	out := c.Clone()
	k.del(out, i)
	if ps := out.check(); len(ps) > 0 { // a rule references does not cover
		return nil, &Error{Problems: ps}
	}
	return out, nil
}

func (c *Config) importAll(ch Change) (*Config, error) {
	if ch.Config == nil {
		return nil, changeError("config", "required: the document to import")
	}
	in := ch.Config.Clone()
	dropEmpty(reflect.ValueOf(in).Elem())
	out := c.Clone()
	out.SIPTrunks = in.SIPTrunks
	out.Numbers = in.Numbers
	out.Routes = in.Routes
	out.CallsConfigurations = in.CallsConfigurations
	out.Scripts = in.Scripts
	if ps := out.check(); len(ps) > 0 {
		return nil, &Error{Problems: ps}
	}
	for i := range out.SIPTrunks {
		out.SIPTrunks[i].applyDefaults()
	}
	for i := range out.Routes {
		out.Routes[i].applyDefaults()
	}
	return out, nil
}

// references returns the paths of the fields of c that refer to the
// resource kind/id, in document order (the references Validate checks).
func (c *Config) references(kind, id string) []string {
	var paths []string
	ref := func(p fieldPath, v string) {
		if v == id {
			paths = append(paths, string(p))
		}
	}
	refs := func(p fieldPath, vs []string) {
		for i, v := range vs {
			ref(p.index(i), v)
		}
	}
	for i := range c.Numbers {
		a := &c.Numbers[i].Action
		p := fieldPath("numbers").index(i).key("action")
		switch kind {
		case KindSIPTrunk:
			refs(p.key("viaSipTrunkIds"), a.ViaSIPTrunkIDs)
		case KindRoute:
			ref(p.key("routeId"), a.RouteID)
		case KindCallsConfiguration:
			ref(p.key("callsConfigurationId"), a.CallsConfigurationID)
		}
	}
	for i := range c.Routes {
		r := &c.Routes[i]
		p := fieldPath("routes").index(i)
		for j, cr := range r.Criteria {
			if kind == KindSIPTrunk && cr.Value != nil {
				ref(p.key("criteria").index(j).key("value").key("sipTrunkId"), cr.Value.SIPTrunkID)
			}
		}
		if kind == KindScript {
			ref(p.key("scriptId"), r.ScriptID)
		}
		for j, d := range r.Destinations {
			if d.Value == nil {
				continue
			}
			vp := p.key("destinations").index(j).key("value")
			switch kind {
			case KindSIPTrunk:
				ref(vp.key("sipTrunkId"), d.Value.SIPTrunkID)
				refs(vp.key("viaSipTrunkIds"), d.Value.ViaSIPTrunkIDs)
			case KindCallsConfiguration:
				ref(vp.key("applicationId"), d.Value.ApplicationID)
			}
		}
	}
	return paths
}

// HasResources reports whether c holds any replicated resource (trunk,
// number, route, application, script); nil holds none.
func (c *Config) HasResources() bool {
	return c != nil && len(c.SIPTrunks)+len(c.Numbers)+len(c.Routes)+len(c.CallsConfigurations)+len(c.Scripts) > 0
}
