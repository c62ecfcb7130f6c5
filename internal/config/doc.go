// Package config reads rensa's configuration file, written in TOML.
//
// A file holds one section per component. Today there is the list of
// listen addresses and the authoritative server:
//
//	# Serve UDP and TCP on each address.
//	[[listen]]
//	address = "127.0.0.1:5353"
//
//	[auth]
//	nsid = "ns1"            # answered to EDNS NSID queries (RFC 5001)
//	max-udp-size = 1232     # largest UDP answer before TC=1
//
//	[[auth.zone]]
//	origin = "example.test."
//	file = "example.test.zone"  # relative to this file's directory
//
// Decoding is strict: a key that rensa does not know is an error naming the
// key and its line, so a typo never silently falls back to a default.
// Every error names the file; those found while reading also give the line.
//
// Each section decodes into one struct ([Auth], [Listen]) whose zero value
// works: an empty field means the default its documentation states, which
// the component fills in when it is built. To add a section (say
// [resolver]), add a field with a toml tag to [Config] and a struct with
// a validate method; Load rejects unknown keys until then.
//
// Usage:
//
//	cfg, err := config.Load("/etc/rensa/rensa.toml")
//	if err != nil {
//		return err // "config: /etc/rensa/rensa.toml:7: unknown key auth.nsdi"
//	}
//	for _, z := range cfg.Auth.Zones {
//		fmt.Println(z.Origin, z.File)
//	}
package config
