// Package wire holds what rensa's two fast paths share: the authoritative
// server's precompiled answers (auth.FastPath) and the resolver's wire
// cache (resolver.Resolver.RawHandler). Each answers the most common
// queries straight from the octets of an earlier reply.
//
// # Why answers are served in wire form
//
// On the ordinary path a query is unpacked into a dns.Msg, answered, and
// the reply packed again: a few microseconds and dozens of allocations,
// most of it spent rebuilding a reply that is the same for every client
// but for the message ID, a few header flags, the spelling of the
// question name and, in a resolver, the TTLs. A fast path keeps that reply
// as octets and, per query, copies it and patches those fields in place: a
// hash, a table lookup without a lock and a copy, with no allocation.
//
// # What is parsed
//
// [Query.Parse] reads only what decides whether a stored reply applies,
// and takes only the one plain shape a fast path can answer without
// unpacking (RFC 1035 §4.1): QR=0 and opcode QUERY, one question of class
// IN whose type is [CacheableType], no answer or authority records, and
// in the additional section nothing or one OPT record owned by the root,
// of EDNS version 0, without options (RFC 6891 §6.1.2). It never
// follows a compression pointer and never panics, whatever the octets.
// Anything else (TSIG, cookies, NSID, other opcodes, trailing octets) is
// refused, and goes to the ordinary path, which has the whole message to
// judge. Parse leaves the policy to the caller: the header flags it does
// not key on (RD, CD, AD) and the OPT's extended RCODE and flags are in the
// query and in [Query.OPTTTL] for the caller to test.
//
// The key a reply is stored under is [Query.Key]: the query type, the EDNS
// flags ([KeyEDNS], [KeyDO], and flags of the caller's own above them) and
// the question name in lowercase wire form. The client's spelling of the
// name is copied into the reply from the query, octet for octet.
//
// # The cache, and the doorkeeper against random subdomains
//
// [Cache] is a hash table from keys to replies, split into shards, each
// with an equal share of a budget in octets, its own writers' lock and
// readers that take no lock at all (see Cache for why). A shard about
// to go over its share is emptied first: simple, and it bounds memory
// whatever the queries.
//
// A random-subdomain ("water torture") flood asks names that never
// repeat, each of which would otherwise make an entry and push out the
// replies real clients reuse. The [Doorkeeper], a Bloom filter of the keys
// seen once (the doorkeeper of TinyLFU), admits a key to the cache only
// when it is seen a second time within a period: a name asked once costs
// a hash and two bit sets, and no entry.
//
//	var q wire.Query
//	if !q.Parse(query) {
//		return nil, false // the ordinary path answers
//	}
//	key := q.Key[:q.KeyLen]
//	h := maphash.Bytes(seed, key)
//	e, ok := cache.Get(h, key)
//	if !ok {
//		if seen.Admit(h) {
//			cache.Put(h, string(key), compile(query))
//		}
//		return nil, false
//	}
//	return e.reply(query, out), true
package wire
