package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/miekg/dns"

	"github.com/rensa-dns/rensa/internal/dnssec"
	"github.com/rensa-dns/rensa/internal/zone"
)

var _ = register(command{
	name:    "sign",
	summary: "sign a zone with DNSSEC (NSEC or NSEC3) and print its DS records",
	usage:   signUsage,
	run:     signMain,
})

const signUsage = `usage: rensa sign --zone FILE --keys DIR -o OUT [--origin ORIGIN] [--nsec3 [--opt-out]] [--validity 14d] [flags]

Sign the zone in FILE with the keys for it in DIR (BIND key files,
K<zone>+<alg>+<tag>.key and .private, from rensa keygen or dnssec-keygen)
and write the signed zone to OUT, sorted canonically. Old DNSSEC records in
FILE (RRSIG, NSEC, NSEC3, NSEC3PARAM, DNSKEY) are replaced.

Every authoritative RRset gets an RRSIG from each algorithm (not delegation
NS RRsets or glue): the DNSKEY RRset from the KSKs, the rest from the ZSKs
(a KSK without a ZSK of its algorithm signs everything). Signatures start
one hour back and expire after --validity, less up to --jitter at random.
Denial of existence is an NSEC chain, or NSEC3 with --nsec3 (RFC 9276:
no extra iterations, no salt, unless told).

The DS records of the KSKs, for the parent zone, are printed to stdout.

Examples:
  rensa sign --zone example.test.zone --keys keys -o example.test.signed
  rensa sign --zone example.test.zone --keys keys --nsec3 --opt-out -o signed.zone
  rensa sign --zone db.example --origin example.test. --keys keys --cds --ds-digest sha256,sha384 -o signed.zone

Flags:
`

// signOptions is everything rensa sign was told.
type signOptions struct {
	zoneFile   string
	origin     string
	keysDir    string
	out        string
	nsec3      bool
	optOut     bool
	iterations uint
	salt       string
	validity   string
	jitter     string
	dsDigest   string
	cds        bool
	at         string
	workers    int

	now  func() time.Time
	rand io.Reader
}

// addFlags registers the flags of rensa sign on fs.
func (o *signOptions) addFlags(fs *flag.FlagSet) {
	fs.StringVar(&o.zoneFile, "zone", o.zoneFile, "the unsigned zone `FILE` (required)")
	fs.StringVar(&o.origin, "origin", o.origin, "the zone's `ORIGIN` (default: from the SOA or $ORIGIN of the file)")
	fs.StringVar(&o.keysDir, "keys", o.keysDir, "read the zone's key files from `DIR` (required)")
	fs.StringVar(&o.out, "o", o.out, "write the signed zone to `OUT` (required)")
	fs.BoolVar(&o.nsec3, "nsec3", o.nsec3, "use NSEC3 (RFC 5155) instead of NSEC")
	fs.BoolVar(&o.optOut, "opt-out", o.optOut, "with --nsec3: leave unsigned delegations out of the chain")
	fs.UintVar(&o.iterations, "iterations", o.iterations, "with --nsec3: `N` additional hash iterations (RFC 9276: 0)")
	fs.StringVar(&o.salt, "salt", o.salt, "with --nsec3: salt in `HEX` (RFC 9276: none)")
	fs.StringVar(&o.validity, "validity", o.validity, "signature validity `D`, as 14d, 36h or 90m")
	fs.StringVar(&o.jitter, "jitter", o.jitter, "take up to `D` off each expiration at random (0 for none; default 12h, at most validity/4)")
	fs.StringVar(&o.dsDigest, "ds-digest", o.dsDigest, "DS digests to print, comma-separated: `sha256,sha384`")
	fs.BoolVar(&o.cds, "cds", o.cds, "add CDS and CDNSKEY records for the KSKs (RFC 7344)")
	fs.StringVar(&o.at, "time", o.at, "sign as if it were `T` (RFC 3339 or YYYYMMDDHHMMSS)")
	fs.IntVar(&o.workers, "workers", o.workers, "sign on `N` goroutines (default: one per CPU)")
}

// signMain is the command-table entry.
func signMain(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	opts := signOptions{validity: "14d", dsDigest: "sha256", now: time.Now, rand: rand.Reader}
	fs := newFlagSet("sign", signUsage, stderr)
	opts.addFlags(fs)
	positional, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(positional) > 0 {
		return errUsage("unexpected argument %q (name the zone file with --zone)", positional[0])
	}
	return runSign(ctx, opts, stdout, stderr)
}

// signConfig checks the options and returns the signing configuration
// without keys, and the DS digest types to print.
func (o signOptions) signConfig() (dnssec.SignConfig, []uint8, error) {
	var cfg dnssec.SignConfig
	switch {
	case o.zoneFile == "":
		return cfg, nil, errUsage("missing --zone FILE")
	case o.keysDir == "":
		return cfg, nil, errUsage("missing --keys DIR")
	case o.out == "":
		return cfg, nil, errUsage("missing -o OUT")
	case !o.nsec3 && (o.optOut || o.iterations != 0 || o.salt != ""):
		return cfg, nil, errUsage("--opt-out, --iterations and --salt need --nsec3")
	case o.iterations > dnssec.MaxNSEC3Iterations:
		return cfg, nil, errUsage("--iterations %d is above %d (RFC 9276 recommends 0)", o.iterations, dnssec.MaxNSEC3Iterations)
	}
	validity, err := parseDuration(o.validity)
	if err != nil {
		return cfg, nil, errUsage("--validity: %v", err)
	}
	if validity < dnssec.MinValidity || validity > dnssec.MaxValidity {
		return cfg, nil, errUsage("--validity %s is outside %v to %v", o.validity, dnssec.MinValidity, dnssec.MaxValidity)
	}
	cfg = dnssec.SignConfig{Now: o.now, Rand: o.rand, Validity: validity, AddCDS: o.cds, Workers: o.workers}
	if o.jitter != "" {
		j, err := parseDuration(o.jitter)
		if err != nil {
			return cfg, nil, errUsage("--jitter: %v", err)
		}
		cfg.Jitter = j
		if j == 0 {
			cfg.Jitter = -1
		}
	}
	if o.at != "" {
		t, err := parseTime(o.at)
		if err != nil {
			return cfg, nil, errUsage("--time: %v", err)
		}
		cfg.Now = func() time.Time { return t }
	}
	if o.nsec3 {
		cfg.NSEC3 = &dnssec.NSEC3Params{Iterations: uint16(o.iterations), Salt: o.salt, OptOut: o.optOut}
	}
	digests, err := parseDigests(o.dsDigest)
	return cfg, digests, err
}

// parseDigests reads the --ds-digest list.
func parseDigests(s string) ([]uint8, error) {
	var out []uint8
	for _, name := range strings.Split(s, ",") {
		switch strings.ToLower(strings.TrimSpace(name)) {
		case "sha256", "sha-256", "2":
			out = append(out, dns.SHA256)
		case "sha384", "sha-384", "4":
			out = append(out, dns.SHA384)
		default:
			return nil, errUsage("--ds-digest: unknown digest %q (use sha256, sha384)", name)
		}
	}
	return out, nil
}

// parseDuration reads a duration with a day unit as well: 14d, 36h, 90m.
func parseDuration(s string) (time.Duration, error) {
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.ParseUint(days, 10, 16)
		if err != nil {
			return 0, fmt.Errorf("bad duration %q (write 14d, 36h or 90m)", s)
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("bad duration %q (write 14d, 36h or 90m)", s)
	}
	return d, nil
}

// runSign signs the zone and writes it, then prints the DS records.
func runSign(_ context.Context, o signOptions, stdout, stderr io.Writer) error {
	cfg, digests, err := o.signConfig()
	if err != nil {
		return err
	}
	z, err := zone.Load(o.zoneFile, o.origin, zone.LoadOptions{})
	if err != nil {
		return err
	}
	keys, err := dnssec.ReadKeyFiles(o.keysDir, z.Origin)
	if err != nil {
		return err
	}
	if len(keys) == 0 {
		return fmt.Errorf("no keys for zone %s in %s (looked for %s); make them with: rensa keygen --zone %s --dir %s",
			z.Origin, o.keysDir, filepath.Join(o.keysDir, "K"+z.Origin+"+*.key"), z.Origin, o.keysDir)
	}
	cfg.Keys = keys
	signed, err := dnssec.Sign(z, cfg)
	if err != nil {
		return err
	}
	if err := writeZoneFile(o.out, signed, cfg.Now()); err != nil {
		return err
	}
	roles := dnssec.Roles(keys)
	for i, k := range keys {
		fmt.Fprintf(stderr, "rensa: signed with %s (%s, %s, tag %d)\n", k.File, roles[i], dns.AlgorithmToString[k.Algorithm()], k.Tag())
	}
	for i, k := range keys {
		if roles[i] == dnssec.RoleZSK {
			continue
		}
		key := k.DNSKEY
		for _, rr := range signed.Apex().RRsets[dns.TypeDNSKEY] {
			if rr.(*dns.DNSKEY).PublicKey == key.PublicKey {
				key = rr.(*dns.DNSKEY) // with the zone's TTL
			}
		}
		for _, d := range digests {
			ds, err := dnssec.DS(key, d)
			if err != nil {
				return err
			}
			if _, err := fmt.Fprintln(stdout, ds); err != nil {
				return err
			}
		}
	}
	return nil
}

// writeZoneFile writes z as a master file in canonical order, through a
// temporary file renamed into place, so that a failed run leaves no
// half-written zone.
func writeZoneFile(path string, z *zone.Zone, now time.Time) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	w := bufio.NewWriter(tmp)
	fmt.Fprintf(w, "; zone %s signed by rensa at %s\n", z.Origin, now.UTC().Format(time.RFC3339))
	for _, rr := range dnssec.CanonicalRecords(z) {
		w.WriteString(rr.String())
		w.WriteByte('\n')
	}
	if err := w.Flush(); err != nil {
		tmp.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return os.Rename(tmp.Name(), path)
}
