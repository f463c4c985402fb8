package routing

import (
	"regexp"
	"strings"

	"github.com/trunkline/trunkline/config"
)

// criterion is one compiled route criterion. Every field set must match.
type criterion struct {
	route    int32 // index of the route in Table.routes
	to       pattern
	from     pattern
	username pattern
	trunk    string // source trunk id; "" matches any
	headers  []headerPattern
}

// anything matches every value: an empty headerValue only asks for the header.
var anything = regexp.MustCompile(`(?s).*`)

type headerPattern struct {
	name  string
	value pattern
}

func compileCriterion(ps patterns, route int, c *config.Criterion) (*criterion, error) {
	cr := &criterion{route: int32(route)}
	var err error
	if cr.to, err = ps.compile(c.To); err != nil {
		return nil, err
	}
	if v := c.Value; v != nil {
		if cr.from, err = ps.compile(v.From); err != nil {
			return nil, err
		}
		if cr.username, err = ps.compile(v.Username); err != nil {
			return nil, err
		}
		cr.trunk = v.SIPTrunkID
		for _, h := range v.Headers {
			p, err := ps.compile(h.HeaderValue)
			if err != nil {
				return nil, err
			}
			if !p.set { // an empty headerValue asks for the header to be present
				p = pattern{set: true, rest: anything}
			}
			cr.headers = append(cr.headers, headerPattern{name: h.HeaderName, value: p})
		}
	}
	return cr, nil
}

func (c *criterion) match(req *Request) bool {
	if c.trunk != "" && c.trunk != req.SIPTrunkID {
		return false
	}
	if !c.to.match(req.To) || !c.from.match(req.From) || !c.username.match(req.Username) {
		return false
	}
	for i := range c.headers {
		if !c.headers[i].match(req.Headers) {
			return false
		}
	}
	return true
}

// match reports whether some header of this name (case-insensitive) has a
// matching value.
func (h *headerPattern) match(headers []Header) bool {
	for i := range headers {
		if strings.EqualFold(headers[i].Name, h.name) && h.value.match(headers[i].Value) {
			return true
		}
	}
	return false
}
