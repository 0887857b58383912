package resource

import (
	"container/list"
	"sync"
	"time"
)

// lru is a bounded cache of introspection answers keyed by the SHA-256 of
// the token. Each entry carries its own expiry; the least recently used
// entry goes first when the cache is full.
type lru struct {
	mu    sync.Mutex
	size  int
	order *list.List // front: most recently used; values are *entry
	items map[[32]byte]*list.Element
}

type entry struct {
	key [32]byte
	tok Token
	exp time.Time
}

func newLRU(size int) *lru {
	return &lru{size: size, order: list.New(), items: make(map[[32]byte]*list.Element, min(size, 1024))}
}

func (c *lru) get(key [32]byte, now time.Time) (Token, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.items[key]
	if !ok {
		return Token{}, false
	}
	e := el.Value.(*entry)
	if !now.Before(e.exp) {
		c.order.Remove(el)
		delete(c.items, key)
		return Token{}, false
	}
	c.order.MoveToFront(el)
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
		c.order.Remove(last)
		delete(c.items, last.Value.(*entry).key)
	}
}

func (c *lru) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.order.Len()
}
