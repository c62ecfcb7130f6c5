package main

import (
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/miekg/dns"

	"github.com/rensa-dns/rensa/internal/dnssec"
)

var _ = register(command{
	name:    "keygen",
	summary: "make a DNSSEC key as BIND key files, like dnssec-keygen",
	usage:   keygenUsage,
	run:     keygenMain,
})

const keygenUsage = `usage: rensa keygen --zone ORIGIN [--ksk|--zsk|--csk] [--algorithm ALG [--bits N]] [--dir DIR]

Make a DNSSEC key for a zone and write it as BIND key files,
DIR/K<zone>+<alg>+<tag>.key (the DNSKEY record) and .private (the private
key, mode 0600), which dnssec-signzone reads too. The base name is printed.

Roles: a CSK (the default, flags 257) signs everything; a KSK (257) signs
only the DNSKEY RRset and is what the parent's DS record names; a ZSK (256)
signs the rest. Use one CSK, or a KSK and a ZSK.

Algorithms: ECDSAP256SHA256 (13, the default), ECDSAP384SHA384 (14),
ED25519 (15), RSASHA256 (8) and RSASHA512 (10) with --bits 2048 to 4096
(default 2048).

Examples:
  rensa keygen --zone example.test. --dir keys
  rensa keygen --zone example.test. --ksk --algorithm ED25519 --dir keys
  rensa keygen --zone example.test. --zsk --algorithm RSASHA256 --bits 3072 --dir keys

Flags:
`

// keygenTries bounds the keys made when a new key's tag collides with a
// key already in the directory.
const keygenTries = 10

// keygenOptions is everything rensa keygen was told.
type keygenOptions struct {
	zone          string
	ksk, zsk, csk bool
	algorithm     string
	bits          int
	dir           string

	now  func() time.Time // creation time in the key files
	rand io.Reader        // key material
}

// addFlags registers the flags of rensa keygen on fs.
func (o *keygenOptions) addFlags(fs *flag.FlagSet) {
	fs.StringVar(&o.zone, "zone", o.zone, "the zone `ORIGIN` the key is for (required)")
	fs.BoolVar(&o.ksk, "ksk", o.ksk, "make a key-signing key (flags 257)")
	fs.BoolVar(&o.zsk, "zsk", o.zsk, "make a zone-signing key (flags 256)")
	fs.BoolVar(&o.csk, "csk", o.csk, "make a combined signing key (flags 257; the default)")
	fs.StringVar(&o.algorithm, "algorithm", o.algorithm, "DNSSEC `ALG`orithm, by name or number")
	fs.IntVar(&o.bits, "bits", o.bits, "RSA modulus size in `N` bits (default 2048)")
	fs.StringVar(&o.dir, "dir", o.dir, "write the key files in `DIR`")
}

// keygenMain is the command-table entry.
func keygenMain(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	opts := keygenOptions{algorithm: "ECDSAP256SHA256", dir: ".", now: time.Now, rand: rand.Reader}
	fs := newFlagSet("keygen", keygenUsage, stderr)
	opts.addFlags(fs)
	positional, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(positional) > 0 {
		return errUsage("unexpected argument %q (name the zone with --zone)", positional[0])
	}
	return runKeygen(ctx, opts, stdout, stderr)
}

// flags returns the DNSKEY flags the role options ask for.
func (o keygenOptions) flags() (uint16, error) {
	n := 0
	for _, b := range []bool{o.ksk, o.zsk, o.csk} {
		if b {
			n++
		}
	}
	if n > 1 {
		return 0, errUsage("--ksk, --zsk and --csk exclude each other")
	}
	if o.zsk {
		return dnssec.FlagsZSK, nil
	}
	return dnssec.FlagsKSK, nil
}

// runKeygen makes the key and writes its files.
func runKeygen(_ context.Context, o keygenOptions, stdout, _ io.Writer) error {
	if o.zone == "" {
		return errUsage("missing --zone ORIGIN")
	}
	origin := dns.Fqdn(o.zone)
	if _, ok := dns.IsDomainName(origin); !ok {
		return errUsage("invalid zone name %q", o.zone)
	}
	flags, err := o.flags()
	if err != nil {
		return err
	}
	alg, err := dnssec.ParseAlgorithm(o.algorithm)
	if err != nil || !dnssec.CanSign(alg) {
		return errUsage("unsupported --algorithm %q (choose ECDSAP256SHA256, ECDSAP384SHA384, ED25519, RSASHA256 or RSASHA512)", o.algorithm)
	}
	if o.bits != 0 && alg != dns.RSASHA256 && alg != dns.RSASHA512 {
		return errUsage("--bits applies to RSA keys only; %s keys have a fixed size", dns.AlgorithmToString[alg])
	}
	if info, err := os.Stat(o.dir); err != nil || !info.IsDir() {
		return fmt.Errorf("key directory %s: not a directory", o.dir)
	}
	for range keygenTries {
		key, err := dnssec.Generate(origin, alg, flags, o.bits, o.rand)
		if err != nil {
			return err
		}
		base, err := dnssec.WriteKeyFiles(o.dir, key, o.now())
		if errors.Is(err, fs.ErrExist) {
			continue // the key tag collides with a key in the directory
		}
		if err != nil {
			return err
		}
		_, err = fmt.Fprintln(stdout, filepath.Base(base))
		return err
	}
	return fmt.Errorf("%d new keys in a row collided with key tags in %s", keygenTries, o.dir)
}
