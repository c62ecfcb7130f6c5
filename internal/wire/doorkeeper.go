package wire

import "sync/atomic"

// Doorkeeper decides which keys a Cache admits: only those it has seen
// before, so that names asked once, as in a random-subdomain flood, never
// take a slot from the replies real clients reuse. It is a Bloom filter
// of the keys seen (two bits per key) cleared every doorkeeperPeriod keys,
// the doorkeeper of TinyLFU. Unlike a table of one key per slot, it never
// forgets a key because another one collided with it, within a period: a
// working set asked in a fixed cycle gets admitted in full. The zero
// Doorkeeper is empty and ready; it is safe for concurrent use and
// allocates nothing.
type Doorkeeper struct {
	bits  [doorkeeperBits / 64]atomic.Uint64
	added atomic.Uint64 // keys taken since the start
}

// Admit reports whether the key hashing to h was taken before, in this
// period; if not, it takes it now.
func (d *Doorkeeper) Admit(h uint64) bool {
	i, j := h%doorkeeperBits, (h>>32)%doorkeeperBits
	wi, mi := &d.bits[i/64], uint64(1)<<(i%64)
	wj, mj := &d.bits[j/64], uint64(1)<<(j%64)
	if wi.Load()&mi != 0 && wj.Load()&mj != 0 {
		return true
	}
	wi.Or(mi)
	wj.Or(mj)
	if d.added.Add(1)%doorkeeperPeriod == 0 {
		for k := range d.bits {
			d.bits[k].Store(0)
		}
	}
	return false
}
