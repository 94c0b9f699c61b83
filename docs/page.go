package docs

import (
	"embed"
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"sort"
	"strings"
	"sync"

	"turno/internal/web"
)

//go:embed templates/*.html
var templates embed.FS

// apiPage is parsed on first use, so that the packages that only need the document (the tests' validator)
// do not parse the page.
var apiPage = sync.OnceValue(func() *web.Page { return web.NewPage(templates, "templates/apidocs.html") })

// JSONPath is where the server offers the document as JSON; the page links to it.
const JSONPath = "/api/v1/openapi.json"

var defaultPage = sync.OnceValues(func() (*APIDocsPage, error) { return NewAPIDocsPage(OpenAPI()) })

// APIDocs serves /api/docs: the document (OpenAPI) rendered for people, in the site's layout, in Italian or
// English. To render the served document with fields added by OpenAPIWith (x-principals), mount
// NewAPIDocsPage(thatDocument) instead.
func APIDocs(w http.ResponseWriter, r *http.Request) {
	p, err := defaultPage()
	if err != nil {
		web.WriteError(w, r, err)
		return
	}
	p.ServeHTTP(w, r)
}

// ServeJSON returns a handler that serves doc (OpenAPI, or OpenAPIWith's) as application/json.
func ServeJSON(doc []byte) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.Header().Set("Cache-Control", "no-cache")
		_, _ = w.Write(doc)
	})
}

// APIDocsPage is an OpenAPI document prepared for the page.
type APIDocsPage struct{ data *pageData }

// NewAPIDocsPage prepares the page of an OpenAPI document in JSON (or YAML), as OpenAPI or OpenAPIWith
// return it.
func NewAPIDocsPage(doc []byte) (*APIDocsPage, error) {
	root, err := parseYAML(doc)
	if err != nil {
		return nil, fmt.Errorf("docs: read the document: %w", err)
	}
	return &APIDocsPage{data: buildPage(root)}, nil
}

// ServeHTTP renders the page.
func (p *APIDocsPage) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	lang := web.RequestLang(r, web.StaffLangs)
	apiPage().Render(w, r, &web.View{Lang: lang, Title: web.Translate(lang, "apidocs.title"), Body: "apidocs", Data: p.data})
}

// pageData is what the template shows.
type pageData struct {
	Title, Version string
	Description    template.HTML
	JSONPath       string
	Common         []errorGroup
	Tags           []tagView
	Schemas        []namedSchema
}

type errorGroup struct {
	Group string // all, body, write
	Codes []statusCodes
}

type statusCodes struct {
	Status string
	Codes  []string
}

type tagView struct {
	Name, Anchor string
	Description  template.HTML
	Ops          []opView
}

type opView struct {
	Anchor, Method, Path, ID, Summary string
	Description                       template.HTML
	Deprecated                        bool
	Security                          []string // keys of the schemes that may be used; "public" for none
	Principals                        string   // x-principals, when the served document has them
	Params                            []paramView
	Body                              *bodyView
	Responses                         []responseView
	Errors                            []statusCodes
	Messages                          []string // WebSocket message schemas
}

type paramView struct {
	Name, In    string
	Required    bool
	Schema      *schemaView
	Description template.HTML
}

type bodyView struct {
	Required    bool
	Description template.HTML
	Content     []contentView
}

type contentView struct {
	Type   string
	Schema *schemaView
}

type responseView struct {
	Status      string
	Description template.HTML
	Headers     []paramView
	Content     []contentView
}

type namedSchema struct {
	Name   string
	Schema *schemaView
}

// schemaView is a schema as the page shows it: a link to a named schema, or its type, notes and parts.
type schemaView struct {
	Ref         string // a component schema's name: the page links to it instead of repeating it
	Type        string
	Notes       []string
	Description template.HTML
	Props       []propView
	Closed      bool          // additionalProperties: false
	Keys        []keyedSchema // patternProperties and additionalProperties: maps
	Items       *schemaView
	VariantKind string // oneOf, anyOf, allOf
	Variants    []*schemaView
}

type propView struct {
	Name     string
	Required bool
	Schema   *schemaView
}

type keyedSchema struct {
	Pattern string // "" for additionalProperties
	Schema  *schemaView
}

func buildPage(root *object) *pageData {
	d := &pageData{JSONPath: JSONPath}
	info, _ := root.get("info").(*object)
	d.Title, _ = info.get("title").(string)
	d.Version, _ = info.get("version").(string)
	d.Description = rich(str(info.get("description")))
	if common, ok := root.get("x-common-error-codes").(*object); ok {
		for _, g := range common.keys {
			d.Common = append(d.Common, errorGroup{Group: g, Codes: statusList(common.get(g))})
		}
	}
	tagIndex := map[string]int{}
	tags, _ := root.get("tags").([]any)
	for _, t := range tags {
		to, _ := t.(*object)
		name := str(to.get("name"))
		tagIndex[name] = len(d.Tags)
		d.Tags = append(d.Tags, tagView{Name: name, Anchor: "tag-" + anchor(name), Description: rich(str(to.get("description")))})
	}
	r := &resolver{root: root}
	defaultSecurity := securityNames(root.get("security"))
	paths, _ := root.get("paths").(*object)
	for _, p := range paths.keys {
		item, _ := paths.get(p).(*object)
		pathParams, _ := item.get("parameters").([]any)
		for _, m := range item.keys {
			op, ok := item.get(m).(*object)
			if !ok || !isMethod(m) {
				continue
			}
			v := r.operation(strings.ToUpper(m), p, op, pathParams)
			v.Security = defaultSecurity
			if s := op.get("security"); s != nil {
				v.Security = securityNames(s)
			}
			tag := "other"
			if ts, ok := op.get("tags").([]any); ok && len(ts) > 0 {
				tag = str(ts[0])
			}
			i, ok := tagIndex[tag]
			if !ok {
				i = len(d.Tags)
				tagIndex[tag] = i
				d.Tags = append(d.Tags, tagView{Name: tag, Anchor: "tag-" + anchor(tag)})
			}
			d.Tags[i].Ops = append(d.Tags[i].Ops, v)
		}
	}
	components, _ := root.get("components").(*object)
	schemas, _ := components.get("schemas").(*object)
	for _, name := range schemas.keys {
		s, _ := schemas.get(name).(*object)
		d.Schemas = append(d.Schemas, namedSchema{Name: name, Schema: r.schema(s, 0)})
	}
	return d
}

// resolver turns the document's objects into views, following $refs to parameters, responses and
// headers (schemas are linked, not followed).
type resolver struct{ root *object }

// deref follows a local $ref ("#/components/…") to its object.
func (r *resolver) deref(o *object) *object {
	for range 10 {
		ref, ok := o.get("$ref").(string)
		if !ok {
			return o
		}
		var cur any = r.root
		for _, part := range strings.Split(strings.TrimPrefix(ref, "#/"), "/") {
			part = strings.NewReplacer("~1", "/", "~0", "~").Replace(part)
			co, ok := cur.(*object)
			if !ok {
				return o
			}
			cur = co.get(part)
		}
		next, ok := cur.(*object)
		if !ok {
			return o
		}
		o = next
	}
	return o
}

func (r *resolver) operation(method, path string, op *object, pathParams []any) opView {
	v := opView{Method: method, Path: path, ID: str(op.get("operationId")), Summary: str(op.get("summary")),
		Description: rich(str(op.get("description")))}
	v.Anchor = "op-" + anchor(v.ID)
	if v.ID == "" {
		v.Anchor = "op-" + anchor(method+" "+path)
	}
	v.Deprecated, _ = op.get("deprecated").(bool)
	if p := op.get("x-principals"); p != nil {
		v.Principals = plain(p)
	}
	params, _ := op.get("parameters").([]any)
	seen := map[string]bool{}
	for _, list := range [][]any{params, pathParams} { // the operation's own parameters win
		for _, p := range list {
			po, ok := p.(*object)
			if !ok {
				continue
			}
			po = r.deref(po)
			key := str(po.get("in")) + " " + str(po.get("name"))
			if seen[key] {
				continue
			}
			seen[key] = true
			req, _ := po.get("required").(bool)
			sch, _ := po.get("schema").(*object)
			v.Params = append(v.Params, paramView{Name: str(po.get("name")), In: str(po.get("in")), Required: req,
				Schema: r.schema(sch, 1), Description: rich(str(po.get("description")))})
		}
	}
	sort.SliceStable(v.Params, func(i, j int) bool { return paramOrder(v.Params[i].In) < paramOrder(v.Params[j].In) })
	if b, ok := op.get("requestBody").(*object); ok {
		b = r.deref(b)
		req, _ := b.get("required").(bool)
		v.Body = &bodyView{Required: req, Description: rich(str(b.get("description"))), Content: r.content(b.get("content"))}
	}
	if resps, ok := op.get("responses").(*object); ok {
		for _, status := range resps.keys {
			ro, ok := resps.get(status).(*object)
			if !ok {
				continue
			}
			ro = r.deref(ro)
			rv := responseView{Status: status, Description: rich(str(ro.get("description"))), Content: r.content(ro.get("content"))}
			if hs, ok := ro.get("headers").(*object); ok {
				for _, name := range hs.keys {
					h, _ := hs.get(name).(*object)
					h = r.deref(h)
					req, _ := h.get("required").(bool)
					sch, _ := h.get("schema").(*object)
					rv.Headers = append(rv.Headers, paramView{Name: name, In: "header", Required: req, Schema: r.schema(sch, 1),
						Description: rich(str(h.get("description")))})
				}
			}
			v.Responses = append(v.Responses, rv)
		}
	}
	v.Errors = statusList(op.get("x-error-codes"))
	if msgs, ok := op.get("x-websocket-messages").([]any); ok {
		for _, m := range msgs {
			v.Messages = append(v.Messages, str(m))
		}
	}
	return v
}

func paramOrder(in string) int {
	switch in {
	case "path":
		return 0
	case "query":
		return 1
	case "header":
		return 2
	}
	return 3
}

func (r *resolver) content(c any) []contentView {
	co, ok := c.(*object)
	if !ok {
		return nil
	}
	var out []contentView
	for _, ct := range co.keys {
		mt, _ := co.get(ct).(*object)
		sch, _ := mt.get("schema").(*object)
		out = append(out, contentView{Type: ct, Schema: r.schema(sch, 1)})
	}
	return out
}

// maxDepth bounds how deep inline schemas are shown; named schemas are links, so this only stops
// pathological nesting.
const maxDepth = 8

// schema makes the view of a schema; depth 0 is a named schema's own definition, which is expanded even
// though it is named.
func (r *resolver) schema(s *object, depth int) *schemaView {
	if s == nil {
		return nil
	}
	v := &schemaView{Description: rich(str(s.get("description")))}
	if ref, ok := s.get("$ref").(string); ok {
		v.Ref = strings.TrimPrefix(ref, "#/components/schemas/")
		return v
	}
	if depth > maxDepth {
		v.Type = "…"
		return v
	}
	v.Type = typeName(s.get("type"))
	for _, kind := range []string{"oneOf", "anyOf", "allOf"} {
		list, ok := s.get(kind).([]any)
		if !ok {
			continue
		}
		v.VariantKind = kind
		for _, x := range list {
			xo, _ := x.(*object)
			v.Variants = append(v.Variants, r.schema(xo, depth+1))
		}
	}
	v.Notes = notes(s)
	required := map[string]bool{}
	if req, ok := s.get("required").([]any); ok {
		for _, x := range req {
			required[str(x)] = true
		}
	}
	if props, ok := s.get("properties").(*object); ok {
		for _, name := range props.keys {
			ps, _ := props.get(name).(*object)
			v.Props = append(v.Props, propView{Name: name, Required: required[name], Schema: r.schema(ps, depth+1)})
		}
	} else if len(required) > 0 {
		names := make([]string, 0, len(required))
		for n := range required {
			names = append(names, n)
		}
		sort.Strings(names)
		v.Notes = append(v.Notes, "required: "+strings.Join(names, ", "))
	}
	if pp, ok := s.get("patternProperties").(*object); ok {
		for _, pat := range pp.keys {
			ps, _ := pp.get(pat).(*object)
			v.Keys = append(v.Keys, keyedSchema{Pattern: pat, Schema: r.schema(ps, depth+1)})
		}
	}
	switch ap := s.get("additionalProperties").(type) {
	case bool:
		v.Closed = !ap
	case *object:
		v.Keys = append(v.Keys, keyedSchema{Schema: r.schema(ap, depth+1)})
	}
	if items, ok := s.get("items").(*object); ok {
		v.Items = r.schema(items, depth+1)
	}
	return v
}

// typeName renders "type": a name, or names joined with " | " (["string","null"] → "string | null").
func typeName(t any) string {
	switch t := t.(type) {
	case string:
		return t
	case []any:
		names := make([]string, len(t))
		for i, x := range t {
			names[i] = str(x)
		}
		return strings.Join(names, " | ")
	}
	return ""
}

// notes lists a schema's constraints as short texts.
func notes(s *object) []string {
	var out []string
	add := func(format string, key string) {
		if v := s.get(key); v != nil {
			out = append(out, fmt.Sprintf(format, plain(v)))
		}
	}
	add("format %s", "format")
	add("= %s", "const")
	if e, ok := s.get("enum").([]any); ok {
		vals := make([]string, len(e))
		for i, x := range e {
			vals[i] = plain(x)
		}
		out = append(out, "one of "+strings.Join(vals, ", "))
	}
	add("≥ %s", "minimum")
	add("> %s", "exclusiveMinimum")
	add("≤ %s", "maximum")
	add("< %s", "exclusiveMaximum")
	add("length ≥ %s", "minLength")
	add("length ≤ %s", "maxLength")
	add("pattern %s", "pattern")
	add("default %s", "default")
	add("%s", "contentMediaType")
	if ex, ok := s.get("examples").([]any); ok && len(ex) > 0 {
		out = append(out, "e.g. "+plain(ex[0]))
	}
	return out
}

// statusList reads a map of status → codes (x-error-codes).
func statusList(v any) []statusCodes {
	o, ok := v.(*object)
	if !ok {
		return nil
	}
	var out []statusCodes
	for _, status := range o.keys {
		sc := statusCodes{Status: status}
		list, _ := o.get(status).([]any)
		for _, c := range list {
			sc.Codes = append(sc.Codes, str(c))
		}
		out = append(out, sc)
	}
	return out
}

// securityNames lists the schemes of a security requirement list; an empty requirement is "public".
func securityNames(v any) []string {
	list, ok := v.([]any)
	if !ok {
		return nil
	}
	var out []string
	for _, req := range list {
		ro, ok := req.(*object)
		if !ok || len(ro.keys) == 0 {
			out = append(out, "public")
			continue
		}
		out = append(out, ro.keys...)
	}
	return out
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

// plain renders a value of the document as text: strings as they are, anything else as JSON.
func plain(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// anchor makes an id for an HTML anchor from a name.
func anchor(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(r)
		default:
			b.WriteByte('-')
		}
	}
	return b.String()
}

// rich renders a description: paragraphs (blank lines between), `code` and **strong**; everything else is
// text, escaped.
func rich(s string) template.HTML {
	s = strings.TrimSpace(s)
	if s == "" {
		return ""
	}
	var b strings.Builder
	for _, para := range strings.Split(s, "\n\n") {
		b.WriteString("<p>")
		inline(&b, strings.Join(strings.Fields(para), " "))
		b.WriteString("</p>")
	}
	return template.HTML(b.String()) // every piece of text went through HTMLEscapeString
}

// inline writes text with its `code` spans and **strong** parts, escaped.
func inline(b *strings.Builder, s string) {
	for s != "" {
		i := strings.IndexAny(s, "`*")
		if i < 0 {
			b.WriteString(template.HTMLEscapeString(s))
			return
		}
		b.WriteString(template.HTMLEscapeString(s[:i]))
		s = s[i:]
		switch {
		case s[0] == '`':
			if end := strings.IndexByte(s[1:], '`'); end >= 0 {
				b.WriteString("<code>" + template.HTMLEscapeString(s[1:1+end]) + "</code>")
				s = s[end+2:]
				continue
			}
		case strings.HasPrefix(s, "**"):
			if end := strings.Index(s[2:], "**"); end >= 0 {
				b.WriteString("<strong>")
				inline(b, s[2:2+end])
				b.WriteString("</strong>")
				s = s[end+4:]
				continue
			}
		}
		b.WriteString(template.HTMLEscapeString(s[:1]))
		s = s[1:]
	}
}
