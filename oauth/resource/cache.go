package resource

import (
	"container/list"
	"sync"
	"sync/atomic"
	"time"
)

// lru is a bounded cache of introspection answers keyed by the SHA-256 of
// the token. Each entry carries its own expiry. Eviction is second-chance
// (CLOCK), an approximation of least-recently-used that lets hits run under
// a read lock: a hit only sets the entry's used bit, and when the cache is
// full the oldest entry not used since the last pass goes first. Every
// request of a resource server reads this cache, so hits must not
// serialise on one mutex.
type lru struct {
	mu    sync.RWMutex
	size  int
	order *list.List // front: newest or given a second chance; values are *entry
	items map[[32]byte]*list.Element
}

type entry struct {
	key  [32]byte
	tok  Token
	exp  time.Time
	used atomic.Bool
}

func newLRU(size int) *lru {
	return &lru{size: size, order: list.New(), items: make(map[[32]byte]*list.Element, min(size, 1024))}
}

// get returns a live entry. An expired one is a miss; put replaces it.
func (c *lru) get(key [32]byte, now time.Time) (Token, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	el, ok := c.items[key]
	if !ok {
		return Token{}, false
	}
	e := el.Value.(*entry)
	if !now.Before(e.exp) {
		return Token{}, false
	}
	if !e.used.Load() {
		e.used.Store(true)
	}
	return e.tok, true
}

func (c *lru) put(key [32]byte, tok Token, exp time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[key]; ok {
		e := el.Value.(*entry)
		e.tok, e.exp = tok, exp
		c.order.MoveToFront(el)
		return
	}
	c.items[key] = c.order.PushFront(&entry{key: key, tok: tok, exp: exp})
	for c.order.Len() > c.size {
		last := c.order.Back()
		e := last.Value.(*entry)
		// Second chance, once per pass: a used entry moves to the front
		// with its bit cleared. At most Len() moves before an unused one
		// is found, since every move clears a bit.
		if e.used.Load() && last != c.order.Front() {
			e.used.Store(false)
			c.order.MoveToFront(last)
			continue
		}
		c.order.Remove(last)
		delete(c.items, e.key)
	}
}

func (c *lru) len() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.order.Len()
}
