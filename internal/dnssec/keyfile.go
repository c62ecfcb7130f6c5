package dnssec

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/miekg/dns"

	"github.com/rensa-dns/rensa/internal/dnsname"
)

// Key files are BIND's: K<zone>+<alg>+<tag>.key holds the DNSKEY record in
// presentation format (with ";" comments), K<zone>+<alg>+<tag>.private the
// private key in "Private-key-format: v1.3" form. dnssec-keygen writes them,
// dnssec-signzone, ldns-signzone, Knot's keymgr import and rensa read them.

// KeyFileError is a problem with one key file: it does not parse, holds
// something other than one DNSKEY, or does not match its other half. Err
// wraps ErrBadKey, ErrKeyMismatch, ErrAlgorithm or an fs error.
type KeyFileError struct {
	File string
	Err  error
}

// Error formats the error as "file: message".
func (e *KeyFileError) Error() string {
	msg := strings.TrimPrefix(e.Err.Error(), "dnssec: ")
	return "dnssec: " + e.File + ": " + msg
}

// Unwrap returns the underlying error.
func (e *KeyFileError) Unwrap() error { return e.Err }

// maxKeyFileSize bounds what ReadKeyPair reads of one key file: an RSA
// 4096 private key file is under 4 KiB.
const maxKeyFileSize = 64 << 10

// ReadKeyPair reads a key from its .key file and the .private file beside
// it. path may name either file or their common base name
// (dir/Kexample.com.+013+12345). Errors are *KeyFileError naming the file.
func ReadKeyPair(path string) (*Key, error) {
	base := strings.TrimSuffix(strings.TrimSuffix(path, ".key"), ".private")
	keyPath, privPath := base+".key", base+".private"
	key, err := ReadPublicKey(keyPath)
	if err != nil {
		return nil, err
	}
	if err := checkDNSKEY(key.DNSKEY); err != nil {
		return nil, &KeyFileError{File: keyPath, Err: err}
	}
	data, err := readSmallFile(privPath)
	if err != nil {
		return nil, &KeyFileError{File: privPath, Err: err}
	}
	if alg, ok := privateAlgorithm(string(data)); ok && alg != key.DNSKEY.Algorithm {
		return nil, &KeyFileError{File: privPath, Err: fmt.Errorf("%w: algorithm %s, but %s has %s",
			ErrKeyMismatch, algorithmName(alg), filepath.Base(keyPath), algorithmName(key.DNSKEY.Algorithm))}
	}
	priv, err := key.DNSKEY.ReadPrivateKey(strings.NewReader(string(data)), privPath)
	if err != nil {
		return nil, &KeyFileError{File: privPath, Err: fmt.Errorf("%w: %v", ErrBadKey, strings.TrimPrefix(err.Error(), "dns: "))}
	}
	signer, err := normalizeSigner(key.DNSKEY, priv)
	if err == nil {
		err = checkPair(key.DNSKEY, signer)
	}
	if err != nil {
		return nil, &KeyFileError{File: privPath, Err: err}
	}
	key.Signer = signer
	return key, nil
}

// privateAlgorithm returns the number on the "Algorithm:" line of a
// .private file.
func privateAlgorithm(text string) (uint8, bool) {
	for line := range strings.Lines(text) {
		name, value, ok := strings.Cut(line, ":")
		if !ok || !strings.EqualFold(strings.TrimSpace(name), "algorithm") {
			continue
		}
		var n uint8
		if _, err := fmt.Sscanf(strings.TrimSpace(value), "%d", &n); err == nil {
			return n, true
		}
	}
	return 0, false
}

// ReadPublicKey reads a .key file: exactly one DNSKEY record, comments
// allowed. The key has no Signer. Errors are *KeyFileError.
func ReadPublicKey(path string) (*Key, error) {
	data, err := readSmallFile(path)
	if err != nil {
		return nil, &KeyFileError{File: path, Err: err}
	}
	zp := dns.NewZoneParser(strings.NewReader(string(data)), ".", path)
	zp.SetIncludeAllowed(false)
	var key *dns.DNSKEY
	for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
		k, isKey := rr.(*dns.DNSKEY)
		if !isKey || key != nil {
			return nil, &KeyFileError{File: path, Err: fmt.Errorf("%w: want exactly one DNSKEY record, found %s", ErrBadKey, dns.TypeToString[rr.Header().Rrtype])}
		}
		key = k
	}
	if err := zp.Err(); err != nil {
		return nil, &KeyFileError{File: path, Err: fmt.Errorf("%w: %v", ErrBadKey, strings.TrimPrefix(err.Error(), "dns: "))}
	}
	if key == nil {
		return nil, &KeyFileError{File: path, Err: fmt.Errorf("%w: no DNSKEY record", ErrBadKey)}
	}
	key.Hdr.Name = dnsname.Canonical(key.Hdr.Name)
	return &Key{DNSKEY: key, File: path}, nil
}

// readSmallFile reads a file of at most maxKeyFileSize bytes.
func readSmallFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxKeyFileSize+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxKeyFileSize {
		return nil, fmt.Errorf("%w: larger than %d bytes", ErrBadKey, maxKeyFileSize)
	}
	return data, nil
}

// ReadKeyFiles reads every key pair in dir whose .key file is named for
// zone origin (K<origin>+*.key); with origin "" it reads every K*.key file.
// Keys come back sorted by file name. A file that does not parse or a
// pair that does not match fails the whole read (fail closed), naming the
// file.
func ReadKeyFiles(dir, origin string) ([]*Key, error) {
	pattern := "K*.key"
	if origin != "" {
		origin = dnsname.Canonical(origin)
		pattern = "K" + escapeGlob(origin) + "+*.key"
	}
	paths, err := filepath.Glob(filepath.Join(dir, pattern))
	if err != nil {
		return nil, fmt.Errorf("dnssec: %w", err)
	}
	if _, err := os.Stat(dir); err != nil {
		return nil, fmt.Errorf("dnssec: key directory: %w", err)
	}
	sort.Strings(paths)
	var keys []*Key
	for _, p := range paths {
		k, err := ReadKeyPair(p)
		if err != nil {
			return nil, err
		}
		if origin != "" && k.Zone() != origin {
			return nil, &KeyFileError{File: p, Err: fmt.Errorf("%w: the key is for zone %s, not %s", ErrKeyMismatch, k.Zone(), origin)}
		}
		keys = append(keys, k)
	}
	return keys, nil
}

// escapeGlob escapes the pattern characters of filepath.Match in s.
func escapeGlob(s string) string {
	var b strings.Builder
	for _, c := range s {
		if strings.ContainsRune(`*?[\`, c) {
			b.WriteByte('\\')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// WriteKeyFiles writes k as BIND key files in dir: <base>.key (mode 0644)
// and <base>.private (mode 0600), with created as the Created, Publish and
// Activate times. It returns the base path (dir/K<zone>+<alg>+<tag>) and
// refuses to overwrite existing files (an fs.ErrExist error), as a new
// key whose tag collides with an old one must not replace it.
func WriteKeyFiles(dir string, k *Key, created time.Time) (string, error) {
	if k.Signer == nil {
		return "", fmt.Errorf("%w: %s has no private key to write", ErrBadKey, k)
	}
	priv := k.DNSKEY.PrivateKeyString(k.Signer)
	if priv == "" {
		return "", fmt.Errorf("%w: cannot write a %T private key", ErrAlgorithm, k.Signer)
	}
	base := filepath.Join(dir, k.BaseName())
	stamp := created.UTC().Format("20060102150405")
	long := created.UTC().Format("Mon Jan _2 15:04:05 2006")
	kind := "zone-signing"
	if k.IsKSK() {
		kind = "key-signing"
	}
	rr := *k.DNSKEY
	rr.Hdr.Rrtype, rr.Hdr.Class = dns.TypeDNSKEY, dns.ClassINET
	pub := fmt.Sprintf("; This is a %s key, keyid %d, for %s\n; Created: %s (%s)\n; Publish: %s (%s)\n; Activate: %s (%s)\n%s IN DNSKEY %d %d %d %s\n",
		kind, k.Tag(), k.Zone(), stamp, long, stamp, long, stamp, long,
		k.Zone(), rr.Flags, rr.Protocol, rr.Algorithm, rr.PublicKey)
	priv += fmt.Sprintf("Created: %s\nPublish: %s\nActivate: %s\n", stamp, stamp, stamp)
	if err := writeNew(base+".private", priv, 0o600); err != nil {
		return "", err
	}
	if err := writeNew(base+".key", pub, 0o644); err != nil {
		os.Remove(base + ".private")
		return "", err
	}
	return base, nil
}

// writeNew creates path (failing if it exists) and writes text to it.
func writeNew(path, text string, mode fs.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return fmt.Errorf("dnssec: %w", err)
	}
	if _, err := f.WriteString(text); err != nil {
		f.Close()
		os.Remove(path)
		return fmt.Errorf("dnssec: writing %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		os.Remove(path)
		return fmt.Errorf("dnssec: writing %s: %w", path, err)
	}
	return nil
}
