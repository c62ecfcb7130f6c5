package resolver

import (
	"github.com/miekg/dns"
)

// isSubDomain reports whether child is parent or a name below it, as
// dns.IsSubDomain does (ASCII case ignored, escaped dots not label
// separators), without splitting both names into label offsets: the
// bailiwick check runs for every record of every upstream reply, and
// the two slices it allocated each time were the most frequent
// allocation of a cache miss. Names that are not fully qualified go to
// dns.IsSubDomain.
func isSubDomain(parent, child string) bool {
	if !dns.IsFqdn(parent) || !dns.IsFqdn(child) {
		return dns.IsSubDomain(parent, child)
	}
	switch {
	case parent == ".":
		return true
	case len(child) < len(parent):
		return false
	case len(child) == len(parent):
		return foldEqual(child, parent)
	}
	dot := len(child) - len(parent) - 1
	return child[dot] == '.' && !escaped(child, dot) && foldEqual(child[dot+1:], parent)
}

// escaped reports whether the character at i of a presentation name is
// escaped: preceded by an odd run of backslashes.
func escaped(name string, i int) bool {
	n := 0
	for i--; i >= 0 && name[i] == '\\'; i-- {
		n++
	}
	return n%2 == 1
}

// foldEqual compares a and b with ASCII letters folded, as DNS compares
// names (RFC 4343); other bytes must be equal.
func foldEqual(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		if lowerASCII(a[i]) != lowerASCII(b[i]) {
			return false
		}
	}
	return true
}

func lowerASCII(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}
