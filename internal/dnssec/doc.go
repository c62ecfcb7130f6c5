// Package dnssec is the zone owner's side of DNSSEC: making keys,
// signing zones, and checking signed zones the way dnssec-verify does. It
// also offers VerifyRRset, the check a validating resolver makes once it
// trusts a zone's keys.
//
// # What a signed zone holds
//
// DNSSEC (RFC 4033, 4034, 4035) lets a resolver prove that an answer is
// what the zone's owner published. The owner signs; nothing is encrypted.
//
//   - A DNSKEY record holds a public key. The zone's keys are the DNSKEY
//     RRset at its apex.
//   - An RRSIG record is a signature over one RRset (all records of one
//     owner name and type) by one key, valid from its inception to its
//     expiration. Every authoritative RRset gets one per algorithm.
//   - A zone-signing key (ZSK, flags 256) signs the zone's data. A
//     key-signing key (KSK, flags 257: the SEP bit) signs only the DNSKEY
//     RRset. A combined signing key (CSK) is one KSK doing both. Splitting
//     the roles lets the ZSK change often without telling the parent.
//   - A DS record in the parent zone holds a digest of the child's KSK
//     (SHA-256, RFC 4509). It links the child into the chain of trust that
//     starts at the root's KSK. Sign's caller publishes it at the parent;
//     CDS and CDNSKEY records (RFC 7344) let the parent pick it up itself.
//   - NSEC records (RFC 4034 §4) prove that a name or type does not exist:
//     sorted canonically, each name points to the next and lists its types,
//     so a gap between two names proves nothing lies there. NSEC3 (RFC
//     5155) does the same over hashes of the names, so the chain does not
//     list the zone's names outright; RFC 9276 asks for no extra hash
//     iterations and no salt, because they cost validators and do not stop
//     dictionary attacks. Opt-out leaves unsigned delegations out.
//   - Delegation NS records and glue belong to the child zone and are not
//     signed by the parent; a DS at the delegation is.
//
// # Using the package
//
// Keys come from Generate or from BIND key files (ReadKeyFiles,
// ReadKeyPair; WriteKeyFiles writes them). Sign takes a zone and a
// SignConfig and returns a new, signed zone; Verify lists what is wrong
// with a signed zone at a given time. Time and randomness are injected
// (SignConfig.Now and Rand), so tests sign deterministically. No function
// does I/O but the key file helpers.
//
//	keys, err := dnssec.ReadKeyFiles("keys", "example.test.")
//	signed, err := dnssec.Sign(z, dnssec.SignConfig{Keys: keys})
//	for _, p := range dnssec.Verify(signed, time.Now()) {
//		fmt.Println(p)
//	}
//
// A validator verifies one signature per answer with keys it proved
// once: it keeps them as PublicKey (key tag computed and key decoded
// once) and calls VerifySignature, the check of VerifyRRset for one
// RRSIG, which builds the signed data (RFC 4034 §3.1.8.1) once into a
// reused buffer and can ask a Memory whether the same signature over the
// same data verified before.
package dnssec
