package server

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/tls"
	"crypto/x509"
	"os"
	"path/filepath"
	"testing"
)

// testCerts makes a self-signed CA and server certificate in a temporary directory and
// returns a server TLS config serving them and a pool trusting the CA.
func testCerts(t testing.TB) (*tls.Config, *x509.CertPool) {
	t.Helper()
	certFile, keyFile, caFile, err := SelfSigned(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	src, err := LoadCertSource(certFile, keyFile)
	if err != nil {
		t.Fatal(err)
	}
	return src.TLSConfig(), loadPool(t, caFile)
}

func loadPool(t testing.TB, caFile string) *x509.CertPool {
	t.Helper()
	pem, err := os.ReadFile(caFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		t.Fatalf("%s holds no certificate", caFile)
	}
	return pool
}

// TestSelfSigned checks what SelfSigned promises: a P-256 server certificate valid for
// 127.0.0.1, ::1 and localhost under the CA it writes, a key file only its owner reads,
// and the same files reused on the next call.
func TestSelfSigned(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	certFile, keyFile, caFile, err := SelfSigned(dir)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	if mode := fi.Mode().Perm(); mode != 0o600 {
		t.Errorf("key file mode %v, want 0600", mode)
	}
	pair, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		t.Fatal(err)
	}
	leaf := pair.Leaf
	if k, ok := leaf.PublicKey.(*ecdsa.PublicKey); !ok || k.Curve != elliptic.P256() {
		t.Errorf("server key is %T, want ECDSA P-256", leaf.PublicKey)
	}
	pool := loadPool(t, caFile)
	for _, name := range []string{"127.0.0.1", "::1", "localhost"} {
		if _, err := leaf.Verify(x509.VerifyOptions{DNSName: name, Roots: pool}); err != nil {
			t.Errorf("certificate does not verify for %s: %v", name, err)
		}
	}
	if _, err := leaf.Verify(x509.VerifyOptions{DNSName: "example.com", Roots: pool}); err == nil {
		t.Error("certificate verifies for example.com; want only the loopback names")
	}

	before, _ := os.ReadFile(caFile)
	if _, _, caFile2, err := SelfSigned(dir); err != nil || caFile2 != caFile {
		t.Fatalf("second SelfSigned: %v, %s", err, caFile2)
	}
	if after, _ := os.ReadFile(caFile); !bytes.Equal(before, after) {
		t.Error("second SelfSigned made a new CA; want the existing files reused")
	}
}

// TestCertSourceReload pins reloading: a renewed certificate is served after Reload, and a
// broken file leaves the old one in use with an error naming the files.
func TestCertSourceReload(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	certFile, keyFile, _, err := SelfSigned(dir)
	if err != nil {
		t.Fatal(err)
	}
	src, err := LoadCertSource(certFile, keyFile)
	if err != nil {
		t.Fatal(err)
	}
	first, _ := src.GetCertificate(nil)

	other, otherKey, _, err := SelfSigned(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	copyFile(t, other, certFile)
	copyFile(t, otherKey, keyFile)
	if err := src.Reload(); err != nil {
		t.Fatal(err)
	}
	second, _ := src.GetCertificate(nil)
	if bytes.Equal(first.Certificate[0], second.Certificate[0]) {
		t.Fatal("Reload kept the old certificate")
	}

	if err := os.WriteFile(certFile, []byte("not a certificate"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := src.Reload(); err == nil {
		t.Fatal("Reload of a broken file: want an error")
	}
	third, _ := src.GetCertificate(nil)
	if !bytes.Equal(second.Certificate[0], third.Certificate[0]) {
		t.Error("a failed Reload replaced the certificate")
	}
	if _, err := LoadCertSource(filepath.Join(dir, "missing.pem"), keyFile); err == nil {
		t.Error("LoadCertSource of a missing file: want an error")
	}
}

func copyFile(t testing.TB, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o600); err != nil {
		t.Fatal(err)
	}
}
