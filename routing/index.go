package routing

// trie indexes criteria by the literal prefix of one of their patterns. A walk
// along a value yields, for every prefix of it that some criterion needs, the
// criteria needing it, each list in route order.
type trie struct {
	nodes []trieNode // nodes[0] is the root (the empty prefix)
}

type trieNode struct {
	edges []trieEdge
	crits []*criterion
}

type trieEdge struct {
	b     byte
	child int32
}

func (t *trie) insert(prefix string, c *criterion) {
	if len(t.nodes) == 0 {
		t.nodes = append(t.nodes, trieNode{})
	}
	n := int32(0)
	for i := 0; i < len(prefix); i++ {
		n = t.child(n, prefix[i], true)
	}
	t.nodes[n].crits = append(t.nodes[n].crits, c)
}

// child returns the child of n along b, creating it when asked; -1 if absent.
func (t *trie) child(n int32, b byte, create bool) int32 {
	for _, e := range t.nodes[n].edges {
		if e.b == b {
			return e.child
		}
	}
	if !create {
		return -1
	}
	c := int32(len(t.nodes))
	t.nodes = append(t.nodes, trieNode{})
	t.nodes[n].edges = append(t.nodes[n].edges, trieEdge{b: b, child: c})
	return c
}

// walk appends to lists the criteria lists of every node along s, the root's
// included.
func (t *trie) walk(s string, lists [][]*criterion) [][]*criterion {
	if len(t.nodes) == 0 {
		return lists
	}
	n := int32(0)
	for i := 0; ; i++ {
		if crits := t.nodes[n].crits; len(crits) > 0 {
			lists = append(lists, crits)
		}
		if i == len(s) {
			return lists
		}
		if n = t.child(n, s[i], false); n < 0 {
			return lists
		}
	}
}

// firstMatch merges lists (each in route order) and returns the route index of
// the first criterion, in route order, that matches req; -1 when none does.
func firstMatch(lists [][]*criterion, req *Request) int {
	for {
		best := -1
		for i, l := range lists {
			if len(l) > 0 && (best < 0 || l[0].route < lists[best][0].route) {
				best = i
			}
		}
		if best < 0 {
			return -1
		}
		c := lists[best][0]
		lists[best] = lists[best][1:]
		if c.match(req) {
			return int(c.route)
		}
	}
}
