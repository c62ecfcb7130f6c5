//go:build !linux

package server

import "testing"

// waitBlockedInRead returns at once: only Linux's own socket is read with a system call
// that blocks, and only there can a test see it blocked (udpfd_linux_test.go).
func waitBlockedInRead(*testing.T, udpConn) {}
