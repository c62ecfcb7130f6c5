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

// IsSubdomain reports whether child is parent or below it. Both names are
// compared case-insensitively.
func IsSubdomain(child, parent string) bool {
	return dns.IsSubDomain(parent, child)
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
// the right, each label compared as lowercase octets. It returns -1, 0 or 1.
func Compare(a, b string) int {
	la := labelsOf(a)
	lb := labelsOf(b)
	for i, j := len(la)-1, len(lb)-1; i >= 0 && j >= 0; i, j = i-1, j-1 {
		if c := compareLabel(la[i], lb[j]); c != 0 {
			return c
		}
	}
	switch {
	case len(la) < len(lb):
		return -1
	case len(la) > len(lb):
		return 1
	}
	return 0
}

// labelsOf returns the labels of name as raw octet strings, with escapes
// decoded, so that comparisons follow the wire form.
func labelsOf(name string) []string {
	split := dns.SplitDomainName(name)
	out := make([]string, len(split))
	for i, l := range split {
		out[i] = unescapeLabel(l)
	}
	return out
}

func compareLabel(a, b string) int {
	return strings.Compare(toLowerASCII(a), toLowerASCII(b))
}

// toLowerASCII lowercases only A-Z: DNS case folding is ASCII only.
func toLowerASCII(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// unescapeLabel decodes \DDD and \X escapes of one presentation label.
func unescapeLabel(l string) string {
	if !strings.Contains(l, `\`) {
		return l
	}
	var out []byte
	for i := 0; i < len(l); i++ {
		c := l[i]
		if c != '\\' || i+1 >= len(l) {
			out = append(out, c)
			continue
		}
		if i+3 < len(l) && isDigit(l[i+1]) && isDigit(l[i+2]) && isDigit(l[i+3]) {
			v := int(l[i+1]-'0')*100 + int(l[i+2]-'0')*10 + int(l[i+3]-'0')
			out = append(out, byte(v))
			i += 3
			continue
		}
		out = append(out, l[i+1])
		i++
	}
	return string(out)
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }
