// Package dnsname holds pure functions on domain names in presentation
// form: the canonical (lowercase, fully qualified) form, the RFC 4034 §6.1
// canonical ordering, and subdomain tests.
//
// Names are handled as miekg/dns handles them: absolute names end in a dot,
// labels are separated by unescaped dots, and escapes (\. and \DDD) are kept.
//
//	dnsname.Canonical("WWW.Example.TEST")            // "www.example.test."
//	dnsname.IsSubdomain("www.example.test.", "test.") // true
//	dnsname.Compare("a.example.", "z.a.example.")    // -1
package dnsname

import (
	"strings"

	"github.com/miekg/dns"
)

// Canonical returns name fully qualified and in lowercase, the form used as
// a map key throughout rensa.
func Canonical(name string) string {
	return strings.ToLower(dns.Fqdn(name))
}

// IsSubdomain reports whether child is parent or below it, as
// dns.IsSubDomain(parent, child) does (ASCII case ignored, an escaped dot
// no label separator), without splitting both names into label offsets:
// the resolver's bailiwick checks and every signature verification ask it,
// and the two slices dns.IsSubDomain allocates were the most frequent
// allocation of a cache miss. Names that are not fully qualified go to
// dns.IsSubDomain.
func IsSubdomain(child, parent string) bool {
	if !dns.IsFqdn(parent) || !dns.IsFqdn(child) {
		return dns.IsSubDomain(parent, child)
	}
	switch {
	case parent == ".":
		return true
	case len(child) < len(parent):
		return false
	case len(child) == len(parent):
		return EqualFold(child, parent)
	}
	dot := len(child) - len(parent) - 1
	return child[dot] == '.' && !escaped(child, dot) && EqualFold(child[dot+1:], parent)
}

// EqualFold reports whether a and b are equal with ASCII letters folded,
// as DNS compares names (RFC 4343); other octets must be equal. Unlike
// strings.EqualFold it folds nothing outside A-Z.
func EqualFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range len(a) {
		if lowerASCII(a[i]) != lowerASCII(b[i]) {
			return false
		}
	}
	return true
}

// Parent returns the name with its leftmost label removed, and "." for the
// root's children and the root itself.
func Parent(name string) string {
	off, end := dns.NextLabel(name, 0)
	if end {
		return "."
	}
	return name[off:]
}

// Labels returns the number of labels of name, the root having zero.
func Labels(name string) int {
	return dns.CountLabel(name)
}

// Compare orders two names canonically (RFC 4034 §6.1): label by label from
// the right, each label compared as lowercase octets, escapes (\. and
// \DDD) decoded. It returns -1, 0 or 1. It does not allocate: zone.New
// sorts every name of a zone with it.
func Compare(a, b string) int {
	a, b = trimRootDot(a), trimRootDot(b)
	ea, eb := len(a), len(b) // where the label to compare next ends
	for {
		doneA, doneB := ea < 0 || a == "", eb < 0 || b == "" // no labels left
		switch {
		case doneA && doneB:
			return 0
		case doneA:
			return -1
		case doneB:
			return 1
		}
		sa, sb := labelStart(a, ea), labelStart(b, eb)
		if c := compareLabel(a[sa:ea], b[sb:eb]); c != 0 {
			return c
		}
		ea, eb = sa-1, sb-1 // before the dot ahead of each label
	}
}

// SortKey returns a string whose bytewise order (strings.Compare) is the
// canonical order of the names (RFC 4034 §6.1), as Compare gives it:
// sorting many names by precomputed keys is several times faster than
// sorting them with Compare. Each label, from the rightmost, contributes
// its lowercase octets, each as 0x01 and the octet, then a 0x00, which
// sorts a label before every longer label it starts.
func SortKey(name string) string {
	name = trimRootDot(name)
	var key strings.Builder
	key.Grow(2*len(name) + 2)
	for end := len(name); end >= 0 && name != ""; {
		start := labelStart(name, end)
		for i := start; i < end; {
			var c byte
			c, i = nextOctet(name, i)
			key.WriteByte(1)
			key.WriteByte(lowerASCII(c))
		}
		key.WriteByte(0)
		end = start - 1
	}
	return key.String()
}

// trimRootDot removes the final unescaped dot of a name, leaving "" for
// the root.
func trimRootDot(name string) string {
	if n := len(name); n > 0 && name[n-1] == '.' && !escaped(name, n-1) {
		return name[:n-1]
	}
	return name
}

// labelStart returns where the label ending at end starts: after the
// last unescaped dot before end, or at 0.
func labelStart(name string, end int) int {
	for i := end - 1; i >= 0; i-- {
		if name[i] == '.' && !escaped(name, i) {
			return i + 1
		}
	}
	return 0
}

// escaped reports whether name[i] follows an odd number of backslashes,
// which makes it a literal octet rather than a separator.
func escaped(name string, i int) bool {
	n := 0
	for i--; i >= 0 && name[i] == '\\'; i-- {
		n++
	}
	return n%2 == 1
}

// compareLabel compares two presentation labels as their lowercase wire
// octets.
func compareLabel(a, b string) int {
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		var ca, cb byte
		ca, i = nextOctet(a, i)
		cb, j = nextOctet(b, j)
		if ca, cb = lowerASCII(ca), lowerASCII(cb); ca != cb {
			if ca < cb {
				return -1
			}
			return 1
		}
	}
	switch {
	case i < len(a):
		return 1
	case j < len(b):
		return -1
	}
	return 0
}

// nextOctet decodes the octet of label l at i (a plain octet, \X or
// \DDD) and returns it with the index after it.
func nextOctet(l string, i int) (byte, int) {
	c := l[i]
	if c != '\\' || i+1 >= len(l) {
		return c, i + 1
	}
	if i+3 < len(l) && isDigit(l[i+1]) && isDigit(l[i+2]) && isDigit(l[i+3]) {
		v := int(l[i+1]-'0')*100 + int(l[i+2]-'0')*10 + int(l[i+3]-'0')
		return byte(v), i + 4
	}
	return l[i+1], i + 2
}

// lowerASCII lowercases only A-Z: DNS case folding is ASCII only.
func lowerASCII(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }
