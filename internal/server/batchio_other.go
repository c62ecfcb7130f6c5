//go:build !linux

package server

import "net"

// newBatchIO returns the batch I/O for conn: portableIO, one datagram per call, where
// recvmmsg and sendmmsg are not wired up.
func newBatchIO(conn *net.UDPConn, size int) batchIO { return newPortableIO(conn, size) }
