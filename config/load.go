package config

import (
	"bytes"
	"cmp"
	"errors"
	"io"
	"os"
	"reflect"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"
)

// Load reads the file at path and parses it (see Parse), naming it path in
// problems. A file that cannot be read is reported as the *fs.PathError of
// os.ReadFile, so errors.Is(err, fs.ErrNotExist) works.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Parse(path, data)
}

// Parse decodes one YAML document strictly (unknown fields, wrong types, bad
// durations and several documents are refused), validates it and applies the
// defaults. An empty document is the all-defaults configuration. On failure it
// returns a nil Config and an *Error naming name and listing every problem in
// document order.
func Parse(name string, data []byte) (*Config, error) {
	c, x, problems := decode(data)
	if len(problems) == 0 {
		problems = c.check()
	}
	if len(problems) > 0 {
		slices.SortStableFunc(problems, func(a, b Problem) int {
			return cmp.Compare(x.order(fieldPath(a.Path)), x.order(fieldPath(b.Path)))
		})
		return nil, &Error{File: name, Problems: problems}
	}
	c.ApplyDefaults()
	return c, nil
}

// decode reads data into a Config. It returns the document's index (nil for
// an empty document) and the problems found while decoding.
func decode(data []byte) (*Config, *docIndex, []Problem) {
	c := &Config{}
	root, err := parseNode(data)
	if err != nil {
		return nil, nil, []Problem{{Reason: yamlReason(err)}}
	}
	if root == nil {
		return c, nil, nil
	}
	x := indexDocument(root)
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	err = dec.Decode(c)
	var problems []Problem
	var terr *yaml.TypeError
	switch {
	case errors.As(err, &terr):
		l := newLocator(x)
		for _, msg := range terr.Errors {
			problems = append(problems, l.problem(msg))
		}
	case err != nil:
		problems = append(problems, Problem{Reason: yamlReason(err)})
	}
	// What indexing found is reported unless decoding already said something
	// about the same value.
	said := make(map[string]bool, len(problems))
	for _, p := range problems {
		said[p.Path] = true
	}
	for _, p := range x.problems {
		if !said[p.Path] {
			problems = append(problems, p)
		}
	}
	dropEmpty(reflect.ValueOf(c).Elem())
	return c, x, problems
}

// parseNode returns the root node of the only document in data, or nil when
// data holds no document or a null one. Empty documents after the first (a
// trailing "---") are ignored; a second document with content is refused.
func parseNode(data []byte) (*yaml.Node, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var root *yaml.Node
	for i := 0; ; i++ {
		var doc yaml.Node
		err := dec.Decode(&doc)
		if err == io.EOF {
			return root, nil
		}
		if err != nil {
			return nil, err
		}
		if len(doc.Content) == 0 || isNull(doc.Content[0]) {
			continue
		}
		if i > 0 {
			return nil, errors.New("more than one YAML document; want one")
		}
		root = doc.Content[0]
	}
}

// yamlReason is a yaml.v3 error without its "yaml: " prefix.
func yamlReason(err error) string {
	return strings.TrimPrefix(err.Error(), "yaml: ")
}
