package resolve

import (
	"net/netip"
	"sync"
	"time"

	"github.com/miekg/dns"
)

// answer is what a server said to one question, reduced to what Resolve
// uses. It is immutable once cached.
type answer struct {
	nxdomain bool          // the name does not exist
	addrs    []netip.Addr  // A or AAAA
	srvs     []SRV         // SRV
	naptrs   []*dns.NAPTR  // NAPTR
	ttl      time.Duration // how long it may be cached
}

// empty reports whether the answer holds no record of the question's type.
func (a *answer) empty() bool {
	return len(a.addrs) == 0 && len(a.srvs) == 0 && len(a.naptrs) == 0
}

type cacheKey struct {
	name  string // lower case, no trailing dot
	qtype uint16
}

type cacheEntry struct {
	ans     *answer
	expires time.Time
}

// cache holds answers until they expire. It never holds more than max
// entries: when full it drops the expired ones, then arbitrary ones.
type cache struct {
	max int

	mu sync.Mutex
	m  map[cacheKey]cacheEntry
}

func newCache(max int) *cache {
	return &cache{max: max, m: make(map[cacheKey]cacheEntry)}
}

func (c *cache) get(k cacheKey, now time.Time) (*answer, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[k]
	if !ok {
		return nil, false
	}
	if !now.Before(e.expires) {
		delete(c.m, k)
		return nil, false
	}
	return e.ans, true
}

func (c *cache) put(k cacheKey, a *answer, now time.Time) {
	if a.ttl <= 0 || c.max <= 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.m[k]; !ok && len(c.m) >= c.max {
		for k2, e := range c.m {
			if !now.Before(e.expires) {
				delete(c.m, k2)
			}
		}
		for k2 := range c.m {
			if len(c.m) < c.max {
				break
			}
			delete(c.m, k2)
		}
	}
	c.m[k] = cacheEntry{ans: a, expires: now.Add(a.ttl)}
}

// len returns the number of entries, expired ones included.
func (c *cache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.m)
}
