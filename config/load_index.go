package config

import (
	"reflect"
	"strings"

	"gopkg.in/yaml.v3"
)

// site is one value of a document: the path naming it, its nodes, and the Go
// type it decodes into.
type site struct {
	path  fieldPath
	key   *yaml.Node   // the mapping key naming the value; nil for list items and the root
	value *yaml.Node   // the value itself
	typ   reflect.Type // the type the value decodes into, pointers removed; nil when unknown
	owner reflect.Type // the type of the mapping or list holding it; nil for the root
}

// docIndex lists the values of a document in document order. It turns
// yaml.v3's "line N: …" messages into field paths and sorts problems into the
// order their fields appear. Indexing also reports what yaml.v3 lets through
// silently: a null list item (dropped, which would shift every later index)
// and a number with a fraction where an integer is wanted (truncated).
type docIndex struct {
	report
	sites []site
	first map[fieldPath]int // the first site of each path
}

func indexDocument(root *yaml.Node) *docIndex {
	x := &docIndex{first: make(map[fieldPath]int)}
	x.walk(site{path: "", value: root, typ: reflect.TypeFor[Config]()})
	return x
}

// walk records s and the values under it. Aliases are not followed: their
// values are indexed where their anchor is.
func (x *docIndex) walk(s site) {
	s.typ = deref(s.typ)
	if _, seen := x.first[s.path]; !seen {
		x.first[s.path] = len(x.sites)
	}
	x.sites = append(x.sites, s)
	n := s.value
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			x.walk(site{path: s.path.key(k.Value), key: k, value: v, typ: fieldType(s.typ, k.Value), owner: s.typ})
		}
	case yaml.SequenceNode:
		elem := elemType(s.typ)
		for i, v := range n.Content {
			if elem != nil && isNull(v) {
				x.add(s.path.index(i), "empty list item")
			}
			x.walk(site{path: s.path.index(i), value: v, typ: elem, owner: s.typ})
		}
	case yaml.ScalarNode:
		if isInteger(s.typ) && n.ShortTag() == "!!float" {
			x.add(s.path, "%s is not an integer", n.Value)
		}
	}
}

// order returns the position in the document of p, or of its nearest
// ancestor present there (a missing field sorts with its parent).
func (x *docIndex) order(p fieldPath) int {
	if x == nil {
		return 0
	}
	for {
		if i, ok := x.first[p]; ok {
			return i
		}
		if p == "" {
			return -1
		}
		p = p.parent()
	}
}

// isNull reports whether n is null, directly or through an alias.
func isNull(n *yaml.Node) bool {
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

func deref(t reflect.Type) reflect.Type {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t
}

// fieldType returns the type a mapping entry named name decodes into.
func fieldType(t reflect.Type, name string) reflect.Type {
	if t == nil {
		return nil
	}
	switch t.Kind() {
	case reflect.Map:
		return t.Elem()
	case reflect.Struct:
		for i := range t.NumField() {
			if yamlName(t.Field(i)) == name {
				return t.Field(i).Type
			}
		}
	}
	return nil
}

func elemType(t reflect.Type) reflect.Type {
	if t == nil || t.Kind() != reflect.Slice {
		return nil
	}
	return t.Elem()
}

// yamlFields returns the field names of a struct type as YAML spells them.
func yamlFields(t reflect.Type) []string {
	if t == nil || t.Kind() != reflect.Struct {
		return nil
	}
	names := make([]string, 0, t.NumField())
	for i := range t.NumField() {
		names = append(names, yamlName(t.Field(i)))
	}
	return names
}

func yamlName(f reflect.StructField) string {
	name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
	if name == "" {
		return strings.ToLower(f.Name)
	}
	return name
}

// isInteger reports whether t is a plain integer (Duration, which decodes
// itself, is not).
func isInteger(t reflect.Type) bool {
	if t == nil || reflect.PointerTo(t).Implements(reflect.TypeFor[yaml.Unmarshaler]()) {
		return false
	}
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return true
	}
	return false
}
