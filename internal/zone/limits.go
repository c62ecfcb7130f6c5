package zone

// Limits on what a master file may ask of the loader (LIMITS.md,
// "Authoritative"). A zone file is input: it may come from a customer, a
// provisioning script or a compromised primary, and a few bytes of
// directives can ask for unbounded work or memory. Each limit is a default
// for the matching LoadOptions field; exceeding one fails the load with a
// *LimitError naming the file and line, and the server keeps serving the
// old zone.
const (
	// DefaultMaxIncludeDepth bounds $INCLUDE nesting: a file that includes
	// itself (directly or through others) would otherwise recurse until
	// the process runs out of file descriptors or stack. Real zones nest
	// one or two levels. miekg/dns stops at 7 on its own; rensa's limit is
	// lower and is reported at the offending $INCLUDE line.
	DefaultMaxIncludeDepth = 5

	// DefaultMaxGenerateSteps bounds the records one $GENERATE line may
	// expand to: "$GENERATE 0-65535 ..." is 30 bytes of text and 65 536
	// records, an amplification of input into memory. A /24 of PTR
	// records needs 256 steps.
	DefaultMaxGenerateSteps = 10000

	// DefaultMaxRecords bounds the size of one zone (records after
	// $INCLUDE and $GENERATE expansion), so that a runaway or hostile
	// file fails to load instead of exhausting memory.
	DefaultMaxRecords = 1000000

	// DefaultMaxRRsPerRRset bounds the records of one RRset (owner, type,
	// class; RRSIGs per covered type). Huge RRsets make answers that
	// never fit a UDP reply and make validators spend one verification
	// per record; resolvers cap cached RRsets at 100 as well (LIMITS.md,
	// "cache").
	DefaultMaxRRsPerRRset = 100

	// DefaultMaxTypesPerName bounds the distinct types at one owner name:
	// an ANY answer or an NSEC type bitmap at such a name grows without
	// bound otherwise.
	DefaultMaxTypesPerName = 100

	// maxIncludeFiles bounds the $INCLUDE directives followed in one load.
	// The depth limit alone still allows a tree of includes: a file with
	// a thousand "$INCLUDE self" lines opens 1000^depth files.
	maxIncludeFiles = 1000

	// miekgMaxIncludeDepth is the nesting miekg/dns's ZoneParser allows
	// (its unexported maxIncludeDepth); a larger MaxIncludeDepth is
	// clamped to it.
	miekgMaxIncludeDepth = 7
)
