package zone

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/miekg/dns"

	"github.com/rensa-dns/rensa/internal/dnsname"
)

// LoadOptions bounds what a master file may ask of the loader. The zero
// value uses the defaults in limits.go; a field ≤ 0 takes its default.
type LoadOptions struct {
	// MaxIncludeDepth is the deepest $INCLUDE nesting allowed; a file
	// included by the top file is at depth 1. Default
	// DefaultMaxIncludeDepth; values above 7 (miekg/dns's own limit) act
	// as 7.
	MaxIncludeDepth int
	// MaxGenerateSteps is the most records one $GENERATE line may make.
	// Default DefaultMaxGenerateSteps.
	MaxGenerateSteps int
	// MaxRecords is the most records a zone may have. Default
	// DefaultMaxRecords.
	MaxRecords int
	// MaxRRsPerRRset is the most distinct records in one RRset. Default
	// DefaultMaxRRsPerRRset.
	MaxRRsPerRRset int
	// MaxTypesPerName is the most distinct types at one owner name.
	// Default DefaultMaxTypesPerName.
	MaxTypesPerName int
}

// withDefaults returns o with every unset field at its default.
func (o LoadOptions) withDefaults() LoadOptions {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&o.MaxIncludeDepth, DefaultMaxIncludeDepth)
	def(&o.MaxGenerateSteps, DefaultMaxGenerateSteps)
	def(&o.MaxRecords, DefaultMaxRecords)
	def(&o.MaxRRsPerRRset, DefaultMaxRRsPerRRset)
	def(&o.MaxTypesPerName, DefaultMaxTypesPerName)
	o.MaxIncludeDepth = min(o.MaxIncludeDepth, miekgMaxIncludeDepth)
	return o
}

// ErrNoOrigin is returned by Load and Parse when no origin was given and
// the file names none: no SOA record with an absolute owner and no
// $ORIGIN directive.
var ErrNoOrigin = errors.New("zone: no origin: name one, or start the file with $ORIGIN or an SOA record with an absolute owner")

// LoadError is a problem at a place in a master file: a syntax error
// reported by miekg/dns, an $INCLUDE that cannot be read, a record that
// cannot be served, or an exceeded limit (Err is then a *LimitError).
type LoadError struct {
	File string // the file as named to Load or Parse, or as $INCLUDE resolved it
	Line int    // 1-based; 0 when unknown
	Err  error
}

// Error formats the error as "file:line: message".
func (e *LoadError) Error() string {
	if p := position(e.File, e.Line); p != "" {
		return p + ": " + e.Err.Error()
	}
	return "zone: " + e.Err.Error()
}

// Unwrap returns the underlying error: a *dns.ParseError for syntax
// errors, a *LimitError for limits, an fs error for a failed $INCLUDE.
func (e *LoadError) Unwrap() error { return e.Err }

// LimitError reports that a master file exceeded one of the LoadOptions
// limits. It is always wrapped in a *LoadError that names file and line.
type LimitError struct {
	// Limit is the LoadOptions field, e.g. "MaxIncludeDepth".
	Limit string
	// Max is the value of the limit that was exceeded.
	Max int
	// What describes what grew too large, e.g. "$INCLUDE nesting".
	What string
}

// Error describes the exceeded limit.
func (e *LimitError) Error() string {
	return fmt.Sprintf("%s exceeds the limit of %d (%s)", e.What, e.Max, e.Limit)
}

// Load reads the master file at path and builds its zone. origin is the
// zone's apex; when empty it is taken from the SOA record's owner, else
// from the first $ORIGIN directive (ErrNoOrigin when neither names one).
// $INCLUDE paths are relative to the including file's directory. Errors
// are *LoadError with the file and line, except a failure to read path.
func Load(path, origin string, opts LoadOptions) (*Zone, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("zone: %w", err)
	}
	return parseData(data, origin, path, opts)
}

// Parse reads a master file from r and builds its zone, as Load does.
// file names r in errors and record positions, and relative $INCLUDE
// paths are resolved against its directory.
func Parse(r io.Reader, origin, file string, opts LoadOptions) (*Zone, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("zone: reading %s: %w", file, err)
	}
	return parseData(data, origin, file, opts)
}

// unknownOrigin stands in for the origin while Parse finds out what the
// file's origin is; a name under it means the file relied on an origin it
// never named.
const unknownOrigin = "rensa-origin-unknown.invalid."

func parseData(data []byte, origin, file string, opts LoadOptions) (*Zone, error) {
	opts = opts.withDefaults()
	if origin != "" {
		origin = dns.Fqdn(origin)
		if _, ok := dns.IsDomainName(origin); !ok {
			return nil, fmt.Errorf("zone: bad origin %q", origin)
		}
		records, _, err := parseRecords(data, origin, file, opts)
		if err != nil {
			return nil, err
		}
		return New(origin, records), nil
	}
	records, m, err := parseRecords(data, unknownOrigin, file, opts)
	if err != nil {
		return nil, err
	}
	origin = originOf(records, m.firstOrigin)
	if origin == "" {
		return nil, ErrNoOrigin
	}
	// Parse again so that names before any $ORIGIN are relative to it.
	if records, _, err = parseRecords(data, origin, file, opts); err != nil {
		return nil, err
	}
	return New(origin, records), nil
}

// originOf returns the owner of the first SOA record, else the first
// $ORIGIN of the file, or "" when neither is usable.
func originOf(records []Record, firstOrigin string) string {
	for _, r := range records {
		if r.RR.Header().Rrtype != dns.TypeSOA {
			continue
		}
		if owner := r.RR.Header().Name; !dns.IsSubDomain(unknownOrigin, owner) {
			return owner
		}
		break
	}
	if firstOrigin != "" && !dns.IsSubDomain(unknownOrigin, firstOrigin) {
		return firstOrigin
	}
	return ""
}

// parseRecords runs miekg/dns's ZoneParser over data and pairs each record
// with the position the mapper found for it. It also returns the mapper.
func parseRecords(data []byte, origin, file string, opts LoadOptions) ([]Record, *mapper, error) {
	m := newMapper(opts)
	data = data[:m.scanFile(file, data, 0, ttlState{})]
	includes := &includeFS{m: m, names: map[string]string{}}
	zp := dns.NewZoneParser(bytes.NewReader(terminate(data)), origin, file)
	zp.SetIncludeAllowed(true)
	zp.SetIncludeFS(includes)
	a := newAdmitter(opts)
	var records []Record
	for {
		rr, ok := zp.Next()
		if !ok {
			break
		}
		i := len(records)
		p := m.at(i)
		if p.ttl >= 0 {
			rr.Header().Ttl = uint32(p.ttl)
		}
		normalize(rr)
		if err := a.admit(rr, i, p); err != nil {
			return nil, m, err
		}
		records = append(records, Record{RR: rr, File: p.file, Line: p.line})
	}
	if err := zp.Err(); err != nil {
		return nil, m, m.parseError(err, len(records), includes)
	}
	if m.stop != nil {
		return nil, m, m.stop
	}
	return records, m, nil
}

// terminate returns data ending in two newlines. miekg/dns returns a record
// with empty rdata, instead of an error, for a final line that ends right
// after the type ("www IN A"); with an empty line after it, the parser
// reports "unexpected newline" as it does mid-file.
func terminate(data []byte) []byte {
	out := make([]byte, 0, len(data)+2)
	return append(append(out, data...), '\n', '\n')
}

// admitter enforces the per-record limits while records stream in.
type admitter struct {
	opts  LoadOptions
	names map[string]*nameSets
	// buf and buf2 are wire buffers for wireCheck, large enough for any record.
	buf, buf2 []byte
}

// nameSets holds the records seen at one owner name, by RRset.
type nameSets struct {
	types map[uint16]bool
	sets  map[setKey][]dns.RR
}

// setKey identifies an RRset at a name: its type and, for RRSIG, the type
// covered (signatures are counted per signed RRset).
type setKey struct{ t, covered uint16 }

func newAdmitter(opts LoadOptions) *admitter {
	return &admitter{opts: opts, names: map[string]*nameSets{}, buf: make([]byte, 2*dns.MaxMsgSize), buf2: make([]byte, 2*dns.MaxMsgSize)}
}

// admit checks record i, read at p, against the zone limits and that it
// can be served at all.
func (a *admitter) admit(rr dns.RR, i int, p pos) error {
	if i >= a.opts.MaxRecords {
		return p.limit("MaxRecords", a.opts.MaxRecords, "the number of records")
	}
	if err := a.wireCheck(rr); err != nil {
		return &LoadError{File: p.file, Line: p.line, Err: err}
	}
	owner := dnsname.Canonical(rr.Header().Name)
	ns := a.names[owner]
	if ns == nil {
		ns = &nameSets{types: map[uint16]bool{}, sets: map[setKey][]dns.RR{}}
		a.names[owner] = ns
	}
	t := rr.Header().Rrtype
	if !ns.types[t] {
		if len(ns.types) >= a.opts.MaxTypesPerName {
			return p.limit("MaxTypesPerName", a.opts.MaxTypesPerName, "the number of types at "+owner)
		}
		ns.types[t] = true
	}
	k := setKey{t: t}
	if sig, ok := rr.(*dns.RRSIG); ok {
		k.covered = sig.TypeCovered
	}
	set := append(ns.sets[k], rr)
	if len(set) > a.opts.MaxRRsPerRRset {
		set = dedup(set)
	}
	if len(set) > a.opts.MaxRRsPerRRset {
		return p.limit("MaxRRsPerRRset", a.opts.MaxRRsPerRRset,
			"the RRset "+owner+" "+dns.TypeToString[t]+" of "+strconv.Itoa(len(set))+" records")
	}
	ns.sets[k] = set
	return nil
}

// normalize puts type bitmaps in ascending order. miekg/dns keeps them as
// written and then refuses to encode them ("NSEC3 ... MX DNSKEY NS" in RFC
// 5155 Appendix A); BIND sorts them, and the wire form is sorted anyway.
func normalize(rr dns.RR) {
	switch rr := rr.(type) {
	case *dns.NSEC:
		slices.Sort(rr.TypeBitMap)
		rr.TypeBitMap = slices.Compact(rr.TypeBitMap)
	case *dns.NSEC3:
		slices.Sort(rr.TypeBitMap)
		rr.TypeBitMap = slices.Compact(rr.TypeBitMap)
	case *dns.CSYNC:
		slices.Sort(rr.TypeBitMap)
		rr.TypeBitMap = slices.Compact(rr.TypeBitMap)
	}
}

// dedup returns set without exact duplicates (which New drops too).
func dedup(set []dns.RR) []dns.RR {
	out := set[:0:0]
	for _, rr := range set {
		if !containsRR(out, rr) {
			out = append(out, rr)
		}
	}
	return out
}

// wireCheck reports an error when rr cannot be served faithfully: when it
// cannot be put on the wire, when its rdata is empty for a type that needs
// rdata (miekg/dns accepts records without rdata, for dynamic updates),
// when its wire form cannot be read back (miekg/dns packs a relative name
// plus the origin longer than 255 octets without complaint), or when it
// does not print as text that parses back to the same wire form
// (miekg/dns decodes a known type in RFC 3597 form without checking that
// the octets fit: "SOA \# 0" becomes an SOA of empty names; a stray quote
// can become a CAA tag). BIND refuses all of these as syntax errors.
func (a *admitter) wireCheck(rr dns.RR) error {
	off, err := dns.PackRR(rr, a.buf, 0, nil, false)
	if err != nil {
		return fmt.Errorf("record cannot be encoded: %v", strings.TrimPrefix(err.Error(), "dns: "))
	}
	wire := a.buf[:off]
	hdr := rr.Header()
	hdrOnly := &dns.RFC3597{Hdr: dns.RR_Header{Name: hdr.Name, Rrtype: hdr.Rrtype, Class: hdr.Class, Ttl: hdr.Ttl}}
	hoff, err := dns.PackRR(hdrOnly, a.buf2, 0, nil, false)
	if err != nil {
		return fmt.Errorf("record cannot be encoded: %v", strings.TrimPrefix(err.Error(), "dns: "))
	}
	if off == hoff && !emptyRdataAllowed(rr) {
		return errors.New("missing rdata for " + dns.TypeToString[hdr.Rrtype] + " record")
	}
	if _, _, err := dns.UnpackRR(wire, 0); err != nil {
		return fmt.Errorf("record cannot be decoded from its wire form: %v", strings.TrimPrefix(err.Error(), "dns: "))
	}
	back, err := dns.NewRR(rr.String())
	if err == nil && back != nil {
		var off2 int
		if off2, err = dns.PackRR(back, a.buf2, 0, nil, false); err == nil && bytes.Equal(wire, a.buf2[:off2]) {
			return nil
		}
	}
	return fmt.Errorf("%s record does not survive printing and parsing again (printed as %q)",
		dns.TypeToString[hdr.Rrtype], rdataText(rr))
}

// rdataText returns the presentation form of rr's rdata.
func rdataText(rr dns.RR) string {
	return strings.TrimPrefix(rr.String(), rr.Header().String())
}

// emptyRdataAllowed reports whether rr may have zero-length rdata: unknown
// types in RFC 3597 form, NULL, and an empty APL list (RFC 3123 §4).
func emptyRdataAllowed(rr dns.RR) bool {
	switch rr.(type) {
	case *dns.RFC3597, *dns.NULL, *dns.APL:
		return true
	}
	return false
}

// ---- The position mapper ----
//
// miekg/dns's ZoneParser returns records but not the line each came from.
// The mapper scans the same text first, with the same lexical rules
// (comments, quoted strings, escapes, parentheses that join lines,
// directives), and lists where each record starts, following $INCLUDE into
// the included file and expanding $GENERATE into one position per step.
// The parser's record i then has position i.
//
// The mapper also enforces the include, generate and size limits, where
// the positions are known. When one is exceeded it stops, and the parser
// is given the text only up to that point: each file is cut before the
// entry at fault, or after the $INCLUDE line that leads to it. A syntax
// error before the limit is then reported first, as it should be, and the
// limit is reported when the parser reaches the end. The mapper serves the
// included files to the parser itself, so both read the same bytes.

// pos is where one record starts.
type pos struct {
	file string
	line int
	step int   // 1-based $GENERATE step; 0 for a record written out
	ttl  int64 // TTL the record must get, or -1 (see scanGenerate)
}

// limit returns the *LoadError for exceeding a limit at p.
func (p pos) limit(field string, max int, what string) *LoadError {
	return &LoadError{File: p.file, Line: p.line, Err: &LimitError{Limit: field, Max: max, What: what}}
}

// run is n consecutive records at one position ($GENERATE makes n > 1).
type run struct {
	file  string
	line  int
	n     int
	isGen bool
	ttl   int64 // the TTL to give the records, or -1 to keep the parser's
}

// include is one $INCLUDE the parser will open, in the order it opens
// them: the resolved path and its contents, or why it cannot be read.
type include struct {
	display string // path as shown: the including file's directory joined
	from    pos    // the $INCLUDE directive
	data    []byte // cut like the top file when the mapper stopped inside
	err     error
}

// mapper lists record positions; see above.
type mapper struct {
	opts        LoadOptions
	runs        []run
	count       int              // records listed in runs
	includes    []include        // in open order
	lines       map[string]int   // lines per file read, to clamp parser lines
	directives  map[string][]int // lines of directives per file
	firstOrigin string           // argument of the first $ORIGIN in the top file
	stop        *LoadError       // the first limit exceeded; positions end there
	ri, rbase   int              // cursor of at: run index, records before it
}

func newMapper(opts LoadOptions) *mapper {
	return &mapper{opts: opts, lines: map[string]int{}, directives: map[string][]int{}}
}

// at returns the position of record i; calls must not go backwards.
func (m *mapper) at(i int) pos {
	for m.ri < len(m.runs) && i >= m.rbase+m.runs[m.ri].n {
		m.rbase += m.runs[m.ri].n
		m.ri++
	}
	if m.ri >= len(m.runs) || i < m.rbase {
		return pos{ttl: -1} // the mapper and the parser disagree: position unknown
	}
	r := m.runs[m.ri]
	p := pos{file: r.file, line: r.line, ttl: r.ttl}
	if r.isGen {
		p.step = i - m.rbase + 1
	}
	return p
}

// add lists n records at file:line, unless that exceeds MaxRecords.
func (m *mapper) add(file string, line, n int, isGen bool, ttl int64) {
	if m.count+n > m.opts.MaxRecords {
		m.stop = pos{file: file, line: line}.limit("MaxRecords", m.opts.MaxRecords, "the number of records")
		return
	}
	m.runs = append(m.runs, run{file: file, line: line, n: n, isGen: isGen, ttl: ttl})
	m.count += n
}

// ttlState is the default TTL as miekg/dns tracks it: set by $TTL, or
// else by the last record that gave a TTL.
type ttlState struct {
	ttl         uint32
	set         bool
	byDirective bool
}

// scanFile lists the records of one file's text; depth is its $INCLUDE
// nesting (0 for the top file) and ttl the default TTL it starts with (an
// included file inherits it; its changes do not flow back). It returns
// how much of data the parser may read: all of it, or up to the stop.
func (m *mapper) scanFile(file string, data []byte, depth int, ttl ttlState) int {
	m.lines[file] = bytes.Count(data, []byte{'\n'}) + 1
	lx := lexer{data: data, line: 1}
	for {
		e, ok := lx.next()
		if !ok {
			return len(data)
		}
		if e.directive != "" {
			m.directives[file] = append(m.directives[file], e.line)
		}
		switch e.directive {
		case "":
			m.scanRecord(file, e, &ttl)
		case "$ORIGIN":
			if depth == 0 && m.firstOrigin == "" && len(e.tokens) > 1 && dns.IsFqdn(e.tokens[1]) {
				m.firstOrigin = e.tokens[1]
			}
		case "$TTL":
			if len(e.tokens) > 1 {
				if v, ok := parseTTL(e.tokens[1]); ok {
					ttl = ttlState{ttl: v, set: true, byDirective: true}
				}
			}
		case "$INCLUDE":
			if m.scanInclude(file, e, depth, ttl) {
				return e.end // the stop is inside: read up to this $INCLUDE
			}
		case "$GENERATE":
			m.scanGenerate(file, e, ttl)
		}
		if m.stop != nil {
			return e.start
		}
	}
}

// scanRecord lists one record written out, tracking the default TTL.
// rensa refuses a record without a TTL when no default is known: miekg/dns
// would give it TTL 0 (or the previous record's), BIND the SOA minimum.
func (m *mapper) scanRecord(file string, e entry, ttl *ttlState) {
	fields := e.tokens
	if !e.ownerless {
		fields = fields[1:]
	}
	v, explicit := recordTTL(fields)
	switch {
	case explicit && !ttl.byDirective:
		*ttl = ttlState{ttl: v, set: true}
	case !explicit && !ttl.set:
		m.stop = &LoadError{File: file, Line: e.line, Err: errNoTTL}
		return
	}
	m.add(file, e.line, 1, false, -1)
}

// errNoTTL is the error for a record without a TTL and no default.
var errNoTTL = errors.New("record has no TTL and no $TTL precedes it")

// recordTTL finds the TTL among the fields before the type of a record
// (owner removed): [TTL] [class] type, or [class] [TTL] type.
func recordTTL(fields []string) (uint32, bool) {
	for i := 0; i < len(fields) && i < 3; i++ {
		f := strings.ToUpper(fields[i])
		if isClassToken(f) {
			continue
		}
		if isTypeToken(f) {
			return 0, false
		}
		return parseTTL(f)
	}
	return 0, false
}

func isTypeToken(f string) bool {
	if _, ok := dns.StringToType[f]; ok {
		return true
	}
	return strings.HasPrefix(f, "TYPE")
}

func isClassToken(f string) bool {
	if _, ok := dns.StringToClass[f]; ok {
		return true
	}
	return strings.HasPrefix(f, "CLASS")
}

// parseTTL parses a TTL as miekg/dns does: digits with optional unit
// letters (1h30m), at most 2^32-1.
func parseTTL(token string) (uint32, bool) {
	var s, i uint64
	for _, c := range []byte(token) {
		switch c {
		case 's', 'S':
			s, i = s+i, 0
		case 'm', 'M':
			s, i = s+i*60, 0
		case 'h', 'H':
			s, i = s+i*3600, 0
		case 'd', 'D':
			s, i = s+i*86400, 0
		case 'w', 'W':
			s, i = s+i*604800, 0
		default:
			if c < '0' || c > '9' {
				return 0, false
			}
			i = i*10 + uint64(c-'0')
		}
	}
	if s+i > 1<<32-1 {
		return 0, false
	}
	return uint32(s + i), true
}

// scanInclude follows an $INCLUDE entry. It reports whether the mapper
// stopped inside the included file (not at the $INCLUDE itself).
func (m *mapper) scanInclude(file string, e entry, depth int, ttl ttlState) bool {
	if len(e.tokens) < 2 || strings.HasPrefix(e.tokens[1], `"`) {
		return false // the parser reports the syntax error
	}
	at := pos{file: file, line: e.line}
	if depth+1 > m.opts.MaxIncludeDepth {
		m.stop = at.limit("MaxIncludeDepth", m.opts.MaxIncludeDepth, "$INCLUDE nesting")
		return false
	}
	if len(m.includes) >= maxIncludeFiles {
		m.stop = at.limit("maxIncludeFiles", maxIncludeFiles, "the number of $INCLUDE directives followed")
		return false
	}
	name := e.tokens[1]
	if !filepath.IsAbs(name) {
		name = filepath.Join(filepath.Dir(file), name)
	}
	data, err := readRegular(name)
	m.includes = append(m.includes, include{display: name, from: at, err: err})
	if err != nil {
		return false // the parser reports it, through includeFS
	}
	i := len(m.includes) - 1
	cut := m.scanFile(name, data, depth+1, ttl) // appends to m.includes
	m.includes[i].data = data[:cut]
	return m.stop != nil
}

// readRegular reads an included file, refusing anything but a regular
// file: "$INCLUDE /dev/zero" or a FIFO would hang the loader.
func readRegular(name string) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !info.Mode().IsRegular() {
		return nil, errors.New("not a regular file")
	}
	return io.ReadAll(f)
}

// scanGenerate lists the records of a $GENERATE entry: one per step, all
// at the directive's line. When the range does not parse, miekg/dns
// reports the error, and one position suffices. miekg/dns gives generated
// records without a TTL its default of 3600 instead of the zone's default
// TTL (BIND's behaviour); the loader puts the default TTL back.
func (m *mapper) scanGenerate(file string, e entry, ttl ttlState) {
	at := pos{file: file, line: e.line}
	n := 1
	if len(e.tokens) >= 2 {
		if steps, ok := generateSteps(e.tokens[1]); ok {
			n = steps
		}
	}
	template := e.tokens[min(2, len(e.tokens)):]
	if len(template) == 0 {
		return // an empty template makes no records
	}
	if err := checkTemplate(template); err != nil {
		m.stop = &LoadError{File: file, Line: e.line, Err: err}
		return
	}
	if n > m.opts.MaxGenerateSteps {
		m.stop = at.limit("MaxGenerateSteps", m.opts.MaxGenerateSteps, "$GENERATE of "+strconv.Itoa(n)+" steps")
		return
	}
	override := int64(-1)
	if _, explicit := recordTTL(template[1:]); !explicit {
		if !ttl.set {
			m.stop = &LoadError{File: file, Line: e.line, Err: errNoTTL}
			return
		}
		override = int64(ttl.ttl)
	}
	m.add(file, e.line, n, true, override)
}

// generateSteps parses a $GENERATE range "start-stop[/step]" as miekg/dns
// does and returns the number of records it makes.
func generateSteps(rng string) (int, bool) {
	step := int64(1)
	if i := strings.IndexByte(rng, '/'); i >= 0 {
		s, err := strconv.ParseInt(rng[i+1:], 10, 64)
		if err != nil || s <= 0 {
			return 0, false
		}
		step, rng = s, rng[:i]
	}
	startStr, endStr, ok := strings.Cut(rng, "-")
	if !ok {
		return 0, false
	}
	start, err1 := strconv.ParseInt(startStr, 10, 64)
	end, err2 := strconv.ParseInt(endStr, 10, 64)
	if err1 != nil || err2 != nil || start < 0 || end < start || (end-start)/step > 65535 {
		return 0, false
	}
	return int((end-start)/step) + 1, true
}

// checkTemplate refuses $GENERATE templates whose expansion miekg/dns
// does not turn into exactly one record per step: a template that starts
// with "\$" or "$$" expands to a directive, and escapes other than "\$"
// are dropped by its expander. rensa is stricter here than BIND.
func checkTemplate(tokens []string) error {
	first := tokens[0]
	if strings.HasPrefix(first, `\$`) || strings.HasPrefix(first, "$$") {
		return errors.New("$GENERATE template must be a record, not a directive")
	}
	for _, t := range tokens {
		for i := 0; i < len(t); i++ {
			if t[i] != '\\' {
				continue
			}
			if i+1 >= len(t) || t[i+1] != '$' {
				return errors.New(`$GENERATE template has an escape other than \$, which miekg/dns does not expand faithfully`)
			}
			i++
		}
	}
	return nil
}

// parseError turns an error from the ZoneParser, met while looking for
// record i, into a *LoadError with the right file and line.
func (m *mapper) parseError(err error, i int, includes *includeFS) error {
	var inc *includeError
	if errors.As(err, &inc) {
		return &LoadError{File: inc.from.file, Line: inc.from.line, Err: inc}
	}
	var pe *dns.ParseError
	if !errors.As(err, &pe) {
		return &LoadError{Err: err}
	}
	file, line, msg := splitParseError(pe.Error(), includes.knownFiles())
	if display, ok := includes.names[file]; ok {
		file = display
	}
	le := &LoadError{File: file, Line: line, Err: &syntaxError{msg: msg, err: pe}}
	// Records a $GENERATE makes are parsed by a second parser whose line
	// numbers count steps: place its errors at the directive. (Errors in
	// the directive itself mention $GENERATE and have the right line.)
	if p := m.at(i); p.step > 0 && p.file == file && !strings.Contains(msg, "$GENERATE") &&
		(p.step > 1 || !m.isDirectiveLine(file, line)) {
		le.Line = p.line
	}
	if n, ok := m.lines[le.File]; ok && le.Line > n {
		le.Line = n // the parser counts the newlines terminate adds
	}
	return le
}

// isDirectiveLine reports whether a directive of file starts at line.
func (m *mapper) isDirectiveLine(file string, line int) bool {
	return slices.Contains(m.directives[file], line)
}

// splitParseError takes apart miekg/dns's "FILE: dns: MSG: "TOKEN" at
// line: L:C" (ParseError keeps its fields private).
func splitParseError(s string, files []string) (file string, line int, msg string) {
	for _, f := range files {
		if f != "" && strings.HasPrefix(s, f+": dns: ") {
			file, s = f, s[len(f)+2:]
			break
		}
	}
	s = strings.TrimPrefix(s, "dns: ")
	if i := strings.LastIndex(s, " at line: "); i >= 0 {
		lc := s[i+len(" at line: "):]
		if j := strings.IndexByte(lc, ':'); j >= 0 {
			line, _ = strconv.Atoi(lc[:j])
		}
		s = s[:i]
	}
	for _, empty := range []string{`: ""`, `: "\n"`, `: " "`} {
		s = strings.TrimSuffix(s, empty)
	}
	// An unknown type where the type should be reaches miekg/dns's TTL
	// parser; say both.
	if rest, ok := strings.CutPrefix(s, "not a TTL: "); ok {
		s = "not a TTL or a known type: " + rest
	}
	return file, line, s
}

// syntaxError is a miekg/dns parse error with the position taken out of
// its message (LoadError carries it).
type syntaxError struct {
	msg string
	err *dns.ParseError
}

func (e *syntaxError) Error() string { return e.msg }
func (e *syntaxError) Unwrap() error { return e.err }

// includeError is an $INCLUDE whose file cannot be read.
type includeError struct {
	name string
	from pos
	err  error
}

func (e *includeError) Error() string {
	return "$INCLUDE " + e.name + ": " + e.err.Error()
}

func (e *includeError) Unwrap() error { return e.err }

// includeFS serves the parser the included files the mapper already read,
// in the order the mapper met their $INCLUDE lines.
type includeFS struct {
	m    *mapper
	next int
	// names maps the file names the parser uses for included files (its
	// paths are cleaned and lose a leading slash) back to display names.
	names map[string]string
}

// Open returns the next included file; name must be the one the mapper
// resolved.
func (f *includeFS) Open(name string) (fs.File, error) {
	if f.next >= len(f.m.includes) {
		return nil, fmt.Errorf("zone: $INCLUDE %s was not seen by the position mapper", name)
	}
	inc := f.m.includes[f.next]
	f.next++
	if inc.err != nil {
		return nil, &includeError{name: inc.display, from: inc.from, err: inc.err}
	}
	if want := strings.TrimLeft(path.Clean(filepath.ToSlash(inc.display)), "/"); want != name {
		return nil, fmt.Errorf("zone: $INCLUDE %s: the parser opened %s instead", inc.display, name)
	}
	f.names[name] = inc.display
	return &memFile{Reader: bytes.NewReader(terminate(inc.data)), name: name}, nil
}

// knownFiles lists the file names the parser may put in its errors: the
// files the mapper read, and the parser's names for included ones.
func (f *includeFS) knownFiles() []string {
	out := make([]string, 0, len(f.names)+len(f.m.lines))
	for name := range f.names {
		out = append(out, name)
	}
	for name := range f.m.lines {
		out = append(out, name)
	}
	return out
}

// memFile is an included file served from memory.
type memFile struct {
	*bytes.Reader
	name string
}

func (f *memFile) Stat() (fs.FileInfo, error) { return memInfo{f}, nil }
func (f *memFile) Close() error               { return nil }

type memInfo struct{ f *memFile }

func (i memInfo) Name() string       { return path.Base(i.f.name) }
func (i memInfo) Size() int64        { return i.f.Size() }
func (i memInfo) Mode() fs.FileMode  { return 0o444 }
func (i memInfo) ModTime() time.Time { return time.Time{} }
func (i memInfo) IsDir() bool        { return false }
func (i memInfo) Sys() any           { return nil }

// entry is one logical line of a master file: from the start of a line to
// the newline that ends it outside parentheses and quotes.
type entry struct {
	line      int      // line of the first token
	tokens    []string // raw text, escapes kept; a quoted string keeps its quotes
	directive string   // "$TTL", "$ORIGIN", "$INCLUDE", "$GENERATE", or ""
	ownerless bool     // the entry starts with a blank: the previous owner
	start     int      // offset of the entry's first byte (after the previous newline)
	end       int      // offset after the newline that ends it
}

// lexer splits master-file text into entries by the rules of miekg/dns's
// zlexer: ';' starts a comment outside quotes; '\' escapes the next byte;
// parentheses are dropped, even inside a token, and inside them a newline
// neither ends the entry nor the token; '\r' outside quotes is ignored; a
// directive is a first token at the very start of the line followed by a
// blank.
type lexer struct {
	data  []byte
	i     int
	line  int
	start int // where the current entry began

	e                      entry
	tok                    []byte
	inTok                  bool
	quote, comment, escape bool
	brace                  int
	blankFirst             bool // a blank came before the entry's first token
	firstEnd               byte // the byte that ended the entry's first token
}

// next returns the next entry with at least one token.
func (lx *lexer) next() (entry, bool) {
	for lx.i < len(lx.data) {
		c := lx.data[lx.i]
		lx.i++
		end := lx.step(c)
		if c == '\n' {
			lx.line++
		}
		if end {
			if e, ok := lx.finish(); ok {
				return e, true
			}
		}
	}
	lx.endToken(0)
	return lx.finish()
}

// step consumes one byte and reports whether it ended the entry.
func (lx *lexer) step(c byte) bool {
	switch {
	case lx.comment:
		if c != '\n' {
			return false
		}
		lx.comment = false
		return lx.brace == 0
	case lx.quote:
		lx.add(c)
		switch {
		case lx.escape:
			lx.escape = false
		case c == '\\':
			lx.escape = true
		case c == '"':
			lx.quote = false
			lx.endToken(c)
		}
		return false
	case lx.escape:
		lx.escape = false
		switch c {
		case '\n':
			return lx.newline()
		case '\r':
			return false
		}
		lx.add(c)
		return false
	}
	switch c {
	case ' ', '\t':
		if !lx.inTok && len(lx.e.tokens) == 0 {
			lx.blankFirst = true
		}
		lx.endToken(c)
	case ';':
		lx.endToken(c)
		lx.comment = true
	case '"':
		lx.endToken(c)
		lx.quote = true
		lx.add(c)
	case '(':
		lx.brace++
	case ')':
		lx.brace = max(lx.brace-1, 0) // miekg/dns reports the extra brace
	case '\r':
	case '\n':
		return lx.newline()
	case '\\':
		lx.add(c)
		lx.escape = true
	default:
		lx.add(c)
	}
	return false
}

// newline handles an unquoted newline outside a comment.
func (lx *lexer) newline() bool {
	if lx.brace > 0 {
		return false
	}
	lx.endToken('\n')
	return true
}

func (lx *lexer) add(c byte) {
	if !lx.inTok {
		lx.inTok = true
		lx.tok = lx.tok[:0]
		if len(lx.e.tokens) == 0 {
			lx.e.line = lx.line
		}
	}
	lx.tok = append(lx.tok, c)
}

func (lx *lexer) endToken(by byte) {
	if !lx.inTok {
		return
	}
	if len(lx.e.tokens) == 0 {
		lx.firstEnd = by
	}
	lx.e.tokens = append(lx.e.tokens, string(lx.tok))
	lx.inTok = false
}

// finish returns the entry collected so far, classified, and starts the
// next one.
func (lx *lexer) finish() (entry, bool) {
	e := lx.e
	e.ownerless = lx.blankFirst
	e.start, e.end = lx.start, lx.i
	lx.start = lx.i
	if len(e.tokens) > 0 && !lx.blankFirst && (lx.firstEnd == ' ' || lx.firstEnd == '\t') {
		switch d := strings.ToUpper(e.tokens[0]); d {
		case "$TTL", "$ORIGIN", "$INCLUDE", "$GENERATE":
			e.directive = d
		}
	}
	lx.e = entry{}
	lx.blankFirst, lx.firstEnd, lx.quote, lx.escape, lx.comment = false, 0, false, false, false
	return e, len(e.tokens) > 0
}
