package caa

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/miekg/dns"

	"github.com/rensa-dns/rensa/internal/zone"
)

// Severity grades a lint finding.
type Severity string

// Lint severities: an Error changes what CAs do in a way the owner most
// likely did not mean (or makes the record unusable); a Warning is legal
// but suspicious.
const (
	Error   Severity = "error"
	Warning Severity = "warning"
)

// Finding is one problem Lint found in a zone's CAA records.
type Finding struct {
	File     string   `json:"file,omitempty"`
	Line     int      `json:"line,omitempty"`
	Name     string   `json:"name"`
	Severity Severity `json:"severity"`
	Message  string   `json:"message"`
}

// String formats f as "file:line: severity: name: message".
func (f Finding) String() string {
	where := f.File
	if f.Line > 0 {
		where = fmt.Sprintf("%s:%d", f.File, f.Line)
	}
	if where == "" {
		where = f.Name
	}
	return fmt.Sprintf("%s: %s: %s: %s", where, f.Severity, f.Name, f.Message)
}

// Lint checks the CAA records of a zone: property syntax, unknown
// critical tags, malformed issue values and iodef URLs, issuewild without
// issue, and contradictions inside one RRset. Findings come in record
// order, then per-RRset findings in name order.
func Lint(records []zone.Record) []Finding {
	var out []Finding
	type rrsetInfo struct {
		first zone.Record
		props []Property
	}
	sets := map[string]*rrsetInfo{}
	var order []string
	for _, rec := range records {
		caa, ok := rec.RR.(*dns.CAA)
		if !ok {
			continue
		}
		name := dns.CanonicalName(caa.Hdr.Name)
		if sets[name] == nil {
			sets[name] = &rrsetInfo{first: rec}
			order = append(order, name)
		}
		p := FromRR(caa)
		sets[name].props = append(sets[name].props, p)
		for _, f := range lintProperty(p) {
			f.File, f.Line, f.Name = rec.File, rec.Line, name
			out = append(out, f)
		}
	}
	for _, name := range order {
		s := sets[name]
		for _, f := range lintRRset(s.props) {
			f.File, f.Line, f.Name = s.first.File, s.first.Line, name
			out = append(out, f)
		}
	}
	return out
}

// lintProperty checks one property on its own.
func lintProperty(p Property) []Finding {
	var out []Finding
	add := func(sev Severity, format string, args ...any) {
		out = append(out, Finding{Severity: sev, Message: fmt.Sprintf(format, args...)})
	}
	if !ValidTag(p.Tag) {
		add(Error, "property tag %q is not 1-15 letters and digits (RFC 8659 section 4.1)", p.Tag)
	}
	if p.Flag&^FlagCritical != 0 {
		add(Warning, "flags %d set reserved bits: RFC 8659 says to ignore them, but some CAs (Let's Encrypt) treat bit 7 (value 1) as critical", p.Flag)
	}
	switch {
	case !p.Known() && p.Critical():
		add(Error, "unknown property %q is marked critical: no CA that does not implement it may issue (RFC 8659 section 4.1)", p.Tag)
	case !p.Known():
		add(Warning, "unknown property %q is ignored by CAs", p.Tag)
	case p.Is(TagIssue), p.Is(TagIssueWild), p.Is(TagIssueMail):
		v, err := ParseIssueValue(p.Value)
		if err != nil {
			add(Error, "%s value %q: %v: it authorises no CA", strings.ToLower(p.Tag), p.Value, strings.TrimPrefix(err.Error(), ErrMalformed.Error()+": "))
			break
		}
		if len(v.Param("accounturi")) > 1 || len(v.Param("validationmethods")) > 1 {
			add(Error, "%s value %q repeats accounturi or validationmethods: it authorises no CA (RFC 8657)", strings.ToLower(p.Tag), p.Value)
		}
		for _, m := range v.Param("validationmethods") {
			for _, method := range strings.Split(m, ",") {
				if !isLDH(method, false) {
					add(Error, "validationmethods %q: %q is not a method label (RFC 8657 section 4)", m, method)
				}
			}
		}
	case p.Is(TagIodef):
		u, err := url.Parse(p.Value)
		if err != nil || (u.Scheme != "mailto" && u.Scheme != "http" && u.Scheme != "https") {
			add(Error, "iodef %q is not a mailto:, http: or https: URL (RFC 8659 section 4.4)", p.Value)
		}
	}
	return out
}

// lintRRset checks the properties of one name together.
func lintRRset(props []Property) []Finding {
	var out []Finding
	add := func(sev Severity, format string, args ...any) {
		out = append(out, Finding{Severity: sev, Message: fmt.Sprintf(format, args...)})
	}
	count := map[string]int{}
	forbid := map[string]bool{}
	seen := map[Property]bool{}
	for _, p := range props {
		tag := strings.ToLower(p.Tag)
		count[tag]++
		if v, err := ParseIssueValue(p.Value); err == nil && v.Domain == "" && (tag == TagIssue || tag == TagIssueWild) {
			forbid[tag] = true
		}
		key := Property{Flag: p.Flag, Tag: tag, Value: p.Value}
		if seen[key] {
			add(Warning, "duplicate property %s", p)
		}
		seen[key] = true
	}
	if count[TagIssueWild] > 0 && count[TagIssue] == 0 {
		add(Warning, "issuewild without issue: wildcard certificates are restricted, but any CA may issue for the name itself and every name below it")
	}
	for _, tag := range []string{TagIssue, TagIssueWild} {
		if forbid[tag] && count[tag] > 1 {
			add(Warning, "contradiction: an %s property forbids every CA (\";\") while another %s property authorises one; the authorising one wins", tag, tag)
		}
	}
	return out
}
