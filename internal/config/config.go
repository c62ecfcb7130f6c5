package config

import (
	"bytes"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/BurntSushi/toml"
	"github.com/miekg/dns"
)

// DefaultListen is the address served when a file lists none: loopback
// only, so a fresh install is never an open server.
const DefaultListen = "127.0.0.1:53"

// Config is the whole configuration file. Its zero value is a valid
// configuration: listen on DefaultListen, serve no zones.
type Config struct {
	// File is the path the configuration was read from. Load sets it;
	// relative paths in the file were resolved against its directory.
	File string `toml:"-"`

	// text is the file's text while Parse validates it, so that
	// validation errors can name the line of their key (lineOfKey).
	text []byte

	// Listen lists the addresses to serve on, each over UDP and TCP.
	// Default: one entry, DefaultListen.
	Listen []Listen `toml:"listen"`

	// Auth configures the authoritative server.
	Auth Auth `toml:"auth"`

	// Resolver configures the recursive resolver (resolver.go).
	Resolver Resolver `toml:"resolver"`
}

// Listen is one [[listen]] entry.
type Listen struct {
	// Address is an IP address and port, such as "127.0.0.1:5353" or
	// "[::1]:53", served over UDP and TCP; or the same with a scheme for an
	// encrypted transport: "tls://ADDR" (DoT), "https://ADDR[/path]" (DoH)
	// or "quic://ADDR" (DoQ) (tls.go). Port 0 asks the system for a free
	// port. Required.
	Address string `toml:"address"`

	// TLSCert and TLSKey are the PEM certificate chain and key files of an
	// encrypted listener, relative to the configuration file. Reloaded on
	// SIGHUP. Default: none.
	TLSCert string `toml:"tls-cert"`
	TLSKey  string `toml:"tls-key"`

	// TLSSelfSigned is a directory where a self-signed CA and server
	// certificate are made (or reused), instead of TLSCert and TLSKey;
	// clients trust its ca.pem. Default: none.
	TLSSelfSigned string `toml:"tls-self-signed"`
}

// Auth is the [auth] section: the authoritative server.
type Auth struct {
	// NSID is the name server identifier returned to EDNS NSID queries
	// (RFC 5001). Default: empty, NSID is not answered.
	NSID string `toml:"nsid"`

	// Version is the answer to "version.bind CH TXT". Default: empty,
	// the query is refused (not leaking the version is the safe choice).
	Version string `toml:"version"`

	// ID is the answer to "id.server CH TXT" and "hostname.bind CH TXT"
	// (RFC 4892). Default: empty, the query is refused.
	ID string `toml:"id"`

	// MaxUDPSize is the largest UDP response in bytes; larger answers
	// are truncated (TC=1) so the client retries over TCP. Between 512
	// and 4096. Default: 0, meaning the server's default of 1232 bytes
	// (the DNS flag day 2020 value, which avoids IP fragmentation).
	MaxUDPSize int `toml:"max-udp-size"`

	// NoRRL turns response rate limiting off. Default: false, RRL is on
	// at the LIMITS.md numbers (5 responses/s per response class and
	// client /24 or /56, window 15 s, slip 2): an authoritative server
	// without it is an amplifier for anyone who forges a victim's address.
	NoRRL bool `toml:"no-rrl"`

	// RRLLogOnly counts what RRL would drop without dropping it, to
	// size the limits before enforcing them. Default: false.
	RRLLogOnly bool `toml:"rrl-log-only"`

	// RequireCookies answers UDP queries without a valid DNS cookie
	// (RFC 7873) with TC=1 or BADCOOKIE, sending such clients to TCP or
	// to a cookie exchange. Default: false, cookies are offered, not
	// required.
	RequireCookies bool `toml:"require-cookies"`

	// Zones lists the zones to serve. Default: none.
	Zones []Zone `toml:"zone"`
}

// Zone is one [[auth.zone]] entry: a master file to load.
type Zone struct {
	// Origin is the zone's apex, such as "example.test.". A missing
	// final dot is added. Default: the owner of the file's SOA record.
	Origin string `toml:"origin"`

	// File is the master file (RFC 1035 section 5). Load resolves a
	// relative path against the configuration file's directory.
	// Required.
	File string `toml:"file"`

	// KeyDir is a directory of BIND key files (K<origin>+*.key and
	// .private, as rensa keygen writes them). When set, the server signs
	// the zone with those keys when it loads it (NSEC) and re-signs it
	// before its signatures come close to expiry. Load resolves a
	// relative path against the configuration file's directory. Default:
	// empty, the zone is served as the file has it (signed or not).
	KeyDir string `toml:"key-dir"`

	// NSEC3 makes the server sign the zone with NSEC3 (RFC 5155) with
	// the RFC 9276 parameters, no additional iterations and no salt,
	// instead of NSEC. It needs KeyDir. Default: false, NSEC.
	NSEC3 bool `toml:"nsec3"`
}

// Error is a problem found in a configuration file. Key is the TOML key
// (such as "auth.zone[1].file"); Line is 0 when unknown.
type Error struct {
	File string
	Line int
	Key  string
	Msg  string
	Err  error // the underlying error, if any
}

// Error formats e as "config: FILE:LINE: KEY: MSG".
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("config: ")
	b.WriteString(e.File)
	if e.Line > 0 {
		b.WriteString(":" + strconv.Itoa(e.Line))
	}
	b.WriteString(": ")
	if e.Key != "" {
		b.WriteString(e.Key + ": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Unwrap returns the underlying error.
func (e *Error) Unwrap() error { return e.Err }

// Load reads and validates the configuration file at path. Errors are
// *Error values (joined with errors.Join when there are several) naming
// the file, the key and, when known, the line.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return Parse(data, path)
}

// Parse decodes and validates data as if read from the file named file,
// which also anchors relative zone paths. Load calls it; tests use it
// directly.
func Parse(data []byte, file string) (*Config, error) {
	cfg := &Config{File: file, text: data}
	md, err := toml.NewDecoder(bytes.NewReader(data)).Decode(cfg)
	if err != nil {
		return nil, decodeError(file, err)
	}
	if err := unknownKeys(file, data, md.Undecoded()); err != nil {
		return nil, err
	}
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	cfg.text = nil
	cfg.resolvePaths()
	return cfg, nil
}

// ListenAddresses returns the addresses to serve on: those listed, or
// DefaultListen when none are.
func (c *Config) ListenAddresses() []string {
	if len(c.Listen) == 0 {
		return []string{DefaultListen}
	}
	out := make([]string, len(c.Listen))
	for i, l := range c.Listen {
		out[i] = l.Address
	}
	return out
}

// validate checks every section and joins all problems found.
func (c *Config) validate() error {
	var errs []error
	seen := map[string]bool{}
	for i, l := range c.Listen {
		key := fmt.Sprintf("listen[%d].address", i)
		if msg := checkListenAddress(l.Address); msg != "" {
			errs = append(errs, c.errorf(key, "%s", msg))
			continue
		}
		if seen[l.Address] {
			errs = append(errs, c.errorf(key, "%q is listed twice", l.Address))
		}
		seen[l.Address] = true
	}
	errs = append(errs, c.validateListenTLS()...)
	errs = append(errs, c.Auth.validate(c)...)
	errs = append(errs, c.Resolver.validate(c)...)
	return errors.Join(errs...)
}

// validate checks the [auth] section.
func (a *Auth) validate(c *Config) []error {
	var errs []error
	if a.MaxUDPSize != 0 && (a.MaxUDPSize < 512 || a.MaxUDPSize > 4096) {
		errs = append(errs, c.errorf("auth.max-udp-size", "%d is outside 512..4096", a.MaxUDPSize))
	}
	origins := map[string]int{}
	for i := range a.Zones {
		z := &a.Zones[i]
		if z.File == "" {
			errs = append(errs, c.errorf(fmt.Sprintf("auth.zone[%d].file", i), "required"))
		}
		if z.NSEC3 && z.KeyDir == "" {
			errs = append(errs, c.errorf(fmt.Sprintf("auth.zone[%d].nsec3", i), "needs key-dir: only zones the server signs get a chain of its choosing"))
		}
		if z.Origin == "" {
			continue
		}
		key := fmt.Sprintf("auth.zone[%d].origin", i)
		if _, ok := dns.IsDomainName(z.Origin); !ok {
			errs = append(errs, c.errorf(key, "%q is not a domain name", z.Origin))
			continue
		}
		z.Origin = dns.CanonicalName(z.Origin)
		if j, dup := origins[z.Origin]; dup {
			errs = append(errs, c.errorf(key, "%q is already served by auth.zone[%d]", z.Origin, j))
		}
		origins[z.Origin] = i
	}
	return errs
}

// resolvePaths makes relative zone file paths relative to the directory
// of the configuration file.
func (c *Config) resolvePaths() {
	dir := filepath.Dir(c.File)
	for i := range c.Auth.Zones {
		if f := c.Auth.Zones[i].File; !filepath.IsAbs(f) {
			c.Auth.Zones[i].File = filepath.Join(dir, f)
		}
		if d := c.Auth.Zones[i].KeyDir; d != "" && !filepath.IsAbs(d) {
			c.Auth.Zones[i].KeyDir = filepath.Join(dir, d)
		}
	}
}

func (c *Config) errorf(key, format string, args ...any) *Error {
	return &Error{File: c.File, Line: lineOfKey(c.text, key), Key: key, Msg: fmt.Sprintf(format, args...)}
}

// lineOfKey finds the line of a validation error's key, such as
// "resolver.forward" or "auth.zone[1].file": the key's own line, or the
// line that opens its table when the key is not written (a required key
// left out); 0 when neither is found. An index counts the [[array]]
// tables of that name, from 0.
func lineOfKey(text []byte, key string) int {
	parts := strings.Split(key, ".")
	for i, p := range parts {
		name, idx, ok := strings.Cut(p, "[")
		if !ok {
			continue
		}
		n, err := strconv.Atoi(strings.TrimSuffix(idx, "]"))
		if err != nil {
			return 0
		}
		table := append(slices.Clone(parts[:i]), name)
		return lineInArrayTable(text, strings.Join(table, "."), n, parts[i+1:])
	}
	for k := len(parts); k > 0; k-- {
		if line := keyLine(text, toml.Key(parts[:k])); line > 0 {
			return line
		}
	}
	return 0
}

// lineInArrayTable finds key rest in the n-th [[table]] of text, or the
// line that opens that table.
func lineInArrayTable(text []byte, table string, n int, rest []string) int {
	lines := strings.Split(string(text), "\n")
	header := "[[" + table + "]]"
	for i, line := range lines {
		if strings.TrimSpace(line) != header {
			continue
		}
		if n--; n >= 0 {
			continue
		}
		if len(rest) == 0 {
			return i + 1
		}
		for j := i + 1; j < len(lines) && !strings.HasPrefix(strings.TrimSpace(lines[j]), "["); j++ {
			if k := keyLine([]byte(lines[j]), toml.Key(rest)); k > 0 {
				return j + 1
			}
		}
		return i + 1
	}
	return 0
}

// checkAddress returns why addr is not an IP:port, or "".
func checkAddress(addr string) string {
	if addr == "" {
		return "required"
	}
	if _, err := netip.ParseAddrPort(addr); err != nil {
		return fmt.Sprintf("%q is not an IP address and port (like 127.0.0.1:53 or [::1]:53)", addr)
	}
	return ""
}

// decodeError converts a decoding error into an *Error with a line.
func decodeError(file string, err error) error {
	var pe toml.ParseError
	if errors.As(err, &pe) {
		return &Error{File: file, Line: pe.Position.Line, Key: pe.LastKey, Msg: pe.Message, Err: err}
	}
	// Errors for a value of the wrong type carry the line in their text only.
	typeError := regexp.MustCompile(`^toml: line (\d+) \(last key "([^"]*)"\): (.*)$`)
	if m := typeError.FindStringSubmatch(err.Error()); m != nil {
		line, _ := strconv.Atoi(m[1])
		return &Error{File: file, Line: line, Key: m[2], Msg: m[3], Err: err}
	}
	return &Error{File: file, Msg: strings.TrimPrefix(err.Error(), "toml: "), Err: err}
}

// unknownKeys reports the keys the decoder did not use: they are typos or
// settings of a newer version. Keys below an unknown table are not
// repeated.
func unknownKeys(file string, data []byte, keys []toml.Key) error {
	var errs []error
	var reported []string
	for _, k := range keys {
		name := k.String()
		if underAny(name, reported) {
			continue
		}
		reported = append(reported, name)
		errs = append(errs, &Error{File: file, Line: keyLine(data, k), Msg: "unknown key " + name})
	}
	return errors.Join(errs...)
}

func underAny(name string, prefixes []string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(name, p+".") {
			return true
		}
	}
	return false
}

// keyLine finds the line where k is set or opened as a table. The TOML
// decoder does not report positions of unused keys, so this searches the
// text: good enough to point a person at the right line.
func keyLine(data []byte, k toml.Key) int {
	table := "[" + strings.Join(k, ".") + "]"
	for i, line := range strings.Split(string(data), "\n") {
		t := strings.TrimSpace(line)
		if strings.HasPrefix(t, table) || strings.HasPrefix(t, "["+table) {
			return i + 1
		}
		// The key may be written whole or dotted from any enclosing table.
		for j := range k {
			for _, cand := range []string{strings.Join(k[j:], "."), `"` + strings.Join(k[j:], `"."`) + `"`} {
				rest, ok := strings.CutPrefix(t, cand)
				rest = strings.TrimLeft(rest, " \t")
				if ok && strings.HasPrefix(rest, "=") {
					return i + 1
				}
			}
		}
	}
	return 0
}
