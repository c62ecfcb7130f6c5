package cache

// Rank is how far cached data can be trusted, from RFC 2181 §5.4.1.
// Higher ranks are more trustworthy; a lower rank never replaces a higher
// one that is still live. The RFC's list, from most to least trusted, and
// where a resolver meets each item:
//
//  1. data from a primary zone file, other than glue — never (no zones)
//  2. data from a zone transfer, other than glue — never
//  3. the answer section of an authoritative reply — [RankAnswerAuth]
//  4. the authority section of an authoritative reply — [RankAuthorityAuth]
//  5. glue from a primary zone or a zone transfer — never
//  6. the answer section of a non-authoritative reply — [RankAnswerNonAuth]
//  7. the authority section of a non-authoritative reply (a referral's NS
//     set) and additional data — [RankGlue] and [RankAdditional]
//
// Item 7 is split in two: the NS set and glue of a referral ([RankGlue])
// are what the parent says about the cut, which a resolver must use to go
// on; stray additional data ([RankAdditional]) is the least trusted of all,
// so it can never replace glue.
type Rank uint8

const (
	// RankNone is the zero Rank: nothing cached.
	RankNone Rank = iota
	// RankAdditional is additional-section data other than referral glue
	// (RFC 2181 §5.4.1 item 7).
	RankAdditional
	// RankGlue is a referral's NS set and its glue addresses (item 7).
	RankGlue
	// RankAnswerNonAuth is the answer section of a reply without AA
	// (item 6).
	RankAnswerNonAuth
	// RankAuthorityAuth is the authority section of an authoritative
	// reply, such as the SOA proving a negative answer (item 4).
	RankAuthorityAuth
	// RankAnswerAuth is the answer section of an authoritative reply
	// (item 3), the most trusted data a resolver learns.
	RankAnswerAuth
)

var rankNames = [...]string{"none", "additional", "glue", "answer-nonauth", "authority-auth", "answer-auth"}

// String returns the rank's name, such as "answer-auth".
func (r Rank) String() string {
	if int(r) < len(rankNames) {
		return rankNames[r]
	}
	return "rank?"
}
