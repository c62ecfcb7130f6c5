package wire

// Limits of the shared fast-path structures. Like every limit in rensa,
// each one names what it stops; the callers bound the cache's octets
// (NewCache).
const (
	// shards is how many independently locked parts a Cache has, so that
	// UDP readers on several cores rarely touch the same lock.
	shards = 64

	// minShardSlots is the size of a shard's table when it is created or
	// emptied: small, so that an idle cache costs little (64 shards of a
	// few hundred octets), and a power of two, as the table's sizes are.
	minShardSlots = 8

	// doorkeeperBits is the size of a Doorkeeper's Bloom filter (two bits
	// per key). Names asked once, as in a random-subdomain attack, cost a
	// fast path a hash and two bit sets, and no entry, but for the
	// filter's false positives (under 5%). 4 Mibit: 512 KiB.
	doorkeeperBits = 1 << 22

	// doorkeeperPeriod is how many keys a Doorkeeper takes before it
	// forgets them all, so that its false positives stay rare: one eighth
	// of its bits. A key asked twice within that many misses is admitted,
	// which covers working sets larger than the cache holds.
	doorkeeperPeriod = doorkeeperBits / 8

	// maxNameOctets is the longest domain name in wire form (RFC 1035
	// §2.3.4), its root label included.
	maxNameOctets = 255
)
