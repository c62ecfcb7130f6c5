package testbed

import (
	"embed"
	"path"
)

// zoneFiles holds the master files of the default hierarchy.
//
//go:embed zones/*.zone
var zoneFiles embed.FS

// Default returns the default hierarchy: the root, the TLDs test. and
// example., and leaf zones that between them hold every kind of answer a
// resolver must handle. The servers follow the address plan of DESIGN.md:
//
//	127.53.0.1  .                  a.root-servers.test.
//	127.53.1.1  test.              ns1.nic.test.
//	127.53.1.2  test.              ns2.nic.test.
//	127.53.1.3  example.           ns1.nic.example.
//	127.53.2.1  example.test.      ns1.example.test.    in-bailiwick glue
//	127.53.2.2  example.test.      ns2.example.test.
//	127.53.2.3  other.test.        ns1.other.test.
//	            sibling.test.                           sibling glue
//	127.53.2.4  hosting.example.   ns1.hosting.example.
//	127.53.2.5  glueless.test.     ns.hosting.example.  glueless, across TLDs
//	                               ns-glueless.other.test.
//	127.53.2.6  sub.example.test.  ns.sub.example.test. third level
//
// The zone files live in internal/testbed/zones/ and explain each record.
// Each call returns a fresh slice the caller may change.
func Default() []ZoneSpec {
	layout := []struct {
		file, origin string
		servers      []string
	}{
		{"root.zone", ".", []string{"127.53.0.1"}},
		{"test.zone", "test.", []string{"127.53.1.1", "127.53.1.2"}},
		{"example.zone", "example.", []string{"127.53.1.3"}},
		{"example.test.zone", "example.test.", []string{"127.53.2.1", "127.53.2.2"}},
		{"other.test.zone", "other.test.", []string{"127.53.2.3"}},
		{"sibling.test.zone", "sibling.test.", []string{"127.53.2.3"}},
		{"hosting.example.zone", "hosting.example.", []string{"127.53.2.4"}},
		{"glueless.test.zone", "glueless.test.", []string{"127.53.2.5"}},
		{"sub.example.test.zone", "sub.example.test.", []string{"127.53.2.6"}},
	}
	var specs []ZoneSpec
	for _, l := range layout {
		text, err := zoneFiles.ReadFile(path.Join("zones", l.file))
		if err != nil {
			panic("testbed: embedded zone missing: " + err.Error()) // a build mistake, caught by tests
		}
		for _, s := range l.servers {
			specs = append(specs, ZoneSpec{Origin: l.origin, Text: string(text), Server: s, File: "zones/" + l.file})
		}
	}
	return specs
}
