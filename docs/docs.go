// Package docs holds Turno's API contract: the OpenAPI 3.1 document of the JSON API (openapi.yaml, kept by
// hand and embedded in the binary), which the server offers as JSON at /api/v1/openapi.json and renders for
// people at /api/docs (page.go). The tests validate real responses against it (ticketing/ticketingtest).
//
// The document is read once, on first use; a malformed document is a programming error that any test
// using this package reports, so the functions here panic on it rather than return an error.
package docs

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"sync"

	"go.yaml.in/yaml/v3"
)

//go:embed openapi.yaml
var source []byte

// YAML returns the document as kept, in YAML.
func YAML() []byte { return bytes.Clone(source) }

// parsed is the document as an ordered JSON tree, read once.
var parsed = sync.OnceValues(func() (*object, error) { return parseYAML(source) })

// tree returns the parsed document; it panics on a malformed one.
func tree() *object {
	t, err := parsed()
	if err != nil {
		panic(fmt.Sprintf("docs: openapi.yaml: %v", err))
	}
	return t
}

var openAPIJSON = sync.OnceValue(func() []byte { return mustJSON(tree()) })

// OpenAPI returns the document as JSON, its keys in the order of openapi.yaml. The caller may keep the
// slice but must not change it.
func OpenAPI() []byte { return openAPIJSON() }

// OpenAPIWith returns the document as JSON with fields added to its operations: ext is called for each
// operation with its method (upper case) and path (OpenAPI form, /api/v1/offices/{office}/desks) and
// returns the fields to add, which should be extensions ("x-principals"); nil adds nothing. A field the
// operation has already is replaced.
func OpenAPIWith(ext func(method, path string) map[string]any) []byte {
	doc := tree().clone()
	paths, _ := doc.get("paths").(*object)
	for _, p := range paths.keys {
		item, _ := paths.get(p).(*object)
		for _, m := range item.keys {
			op, ok := item.get(m).(*object)
			if !ok || !isMethod(m) {
				continue
			}
			fields := ext(strings.ToUpper(m), p)
			// In key order, so that the output does not depend on map order.
			for _, k := range slices.Sorted(maps.Keys(fields)) {
				op.set(k, fields[k])
			}
		}
	}
	return mustJSON(doc)
}

// Operation is one operation of the document.
type Operation struct {
	Method string // upper case: GET, POST, PUT, PATCH, DELETE
	Path   string // OpenAPI form: /api/v1/desks/{desk}/next, /t/{code}.pdf
	// ID is the operationId.
	ID string
	// Route is the pattern of the router's route that serves it, in OpenAPI form (PathFromChi of the
	// chi pattern): Path itself, but where one route serves several documented paths (x-chi-route):
	// /t/{code} serves /t/{code}.pdf and /t/{code}.png, /ical/staff/{token} serves /ical/staff/{token}.ics.
	Route string
	Tags  []string
}

// Operations lists every operation of the document, in its order.
func Operations() []Operation {
	var out []Operation
	paths, _ := tree().get("paths").(*object)
	for _, p := range paths.keys {
		item, _ := paths.get(p).(*object)
		for _, m := range item.keys {
			op, ok := item.get(m).(*object)
			if !ok || !isMethod(m) {
				continue
			}
			o := Operation{Method: strings.ToUpper(m), Path: p, Route: p}
			o.ID, _ = op.get("operationId").(string)
			if r, ok := op.get("x-chi-route").(string); ok {
				o.Route = PathFromChi(r)
			}
			tags, _ := op.get("tags").([]any)
			for _, t := range tags {
				if s, ok := t.(string); ok {
					o.Tags = append(o.Tags, s)
				}
			}
			out = append(out, o)
		}
	}
	return out
}

// chiParam is a chi path parameter with a regular expression, {id:[0-9]+}.
var chiParam = regexp.MustCompile(`\{([A-Za-z_][A-Za-z0-9_]*):[^{}]*(?:\{[^{}]*\}[^{}]*)*\}`)

// PathFromChi turns a chi route pattern into an OpenAPI path: parameters lose their regular
// expressions ({id:[0-9]+} → {id}) and a trailing /* wildcard becomes {*}; anything else is kept.
func PathFromChi(pattern string) string {
	p := chiParam.ReplaceAllString(pattern, "{$1}")
	if strings.HasSuffix(p, "/*") {
		p = strings.TrimSuffix(p, "*") + "{*}"
	}
	return p
}

var methods = []string{"get", "put", "post", "delete", "options", "head", "patch", "trace"}

func isMethod(k string) bool { return slices.Contains(methods, k) }

func mustJSON(v any) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		panic(fmt.Sprintf("docs: encode the document: %v", err))
	}
	return buf.Bytes()
}

// object is a JSON object that keeps the order of its keys.
type object struct {
	keys []string
	vals map[string]any
}

func newObject() *object { return &object{vals: map[string]any{}} }

func (o *object) get(k string) any {
	if o == nil {
		return nil
	}
	return o.vals[k]
}

func (o *object) set(k string, v any) {
	if _, ok := o.vals[k]; !ok {
		o.keys = append(o.keys, k)
	}
	o.vals[k] = v
}

// clone copies o deeply.
func (o *object) clone() *object {
	c := &object{keys: append([]string(nil), o.keys...), vals: make(map[string]any, len(o.vals))}
	for k, v := range o.vals {
		c.vals[k] = cloneValue(v)
	}
	return c
}

func cloneValue(v any) any {
	switch v := v.(type) {
	case *object:
		return v.clone()
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = cloneValue(e)
		}
		return out
	}
	return v
}

// MarshalJSON writes o with its keys in order.
func (o *object) MarshalJSON() ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteByte('{')
	for i, k := range o.keys {
		if i > 0 {
			buf.WriteByte(',')
		}
		kb, err := json.Marshal(k)
		if err != nil {
			return nil, err
		}
		buf.Write(kb)
		buf.WriteByte(':')
		var vb bytes.Buffer
		enc := json.NewEncoder(&vb)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(o.vals[k]); err != nil {
			return nil, err
		}
		buf.Write(bytes.TrimRight(vb.Bytes(), "\n"))
	}
	buf.WriteByte('}')
	return buf.Bytes(), nil
}

// parseYAML reads a YAML document into a JSON tree: *object for mappings, []any for sequences, and
// string, json.Number, bool or nil for scalars, by their YAML 1.2 core types; any other scalar (a date)
// stays a string, as its text. Mapping keys must be scalars.
func parseYAML(b []byte) (*object, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return nil, err
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 {
		return nil, fmt.Errorf("not one YAML document")
	}
	v, err := fromNode(doc.Content[0])
	if err != nil {
		return nil, err
	}
	o, ok := v.(*object)
	if !ok {
		return nil, fmt.Errorf("the document is not a mapping")
	}
	return o, nil
}

func fromNode(n *yaml.Node) (any, error) {
	switch n.Kind {
	case yaml.AliasNode:
		return fromNode(n.Alias)
	case yaml.MappingNode:
		o := newObject()
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if k.Kind != yaml.ScalarNode {
				return nil, fmt.Errorf("line %d: a mapping key that is not a scalar", k.Line)
			}
			if k.Tag == "!!merge" {
				return nil, fmt.Errorf("line %d: merge keys (<<) are not supported", k.Line)
			}
			if _, dup := o.vals[k.Value]; dup {
				return nil, fmt.Errorf("line %d: key %q repeated", k.Line, k.Value)
			}
			val, err := fromNode(v)
			if err != nil {
				return nil, err
			}
			o.set(k.Value, val)
		}
		return o, nil
	case yaml.SequenceNode:
		out := make([]any, 0, len(n.Content))
		for _, c := range n.Content {
			v, err := fromNode(c)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		return out, nil
	case yaml.ScalarNode:
		switch n.ShortTag() {
		case "!!null":
			return nil, nil
		case "!!bool":
			var b bool
			if err := n.Decode(&b); err != nil {
				return nil, fmt.Errorf("line %d: %w", n.Line, err)
			}
			return b, nil
		case "!!int", "!!float":
			var f float64
			if err := n.Decode(&f); err != nil {
				return nil, fmt.Errorf("line %d: %w", n.Line, err)
			}
			num := json.Number(strings.ReplaceAll(n.Value, "_", ""))
			if _, err := num.Float64(); err != nil {
				// YAML forms JSON lacks (0x1F, .inf): write the decoded value.
				b, err := json.Marshal(f)
				if err != nil {
					return nil, fmt.Errorf("line %d: %w", n.Line, err)
				}
				num = json.Number(b)
			}
			return num, nil
		}
		return n.Value, nil
	}
	return nil, fmt.Errorf("line %d: unexpected YAML node", n.Line)
}
