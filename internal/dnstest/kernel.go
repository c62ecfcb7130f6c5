package dnstest

import (
	"os"
	"strconv"
	"strings"
)

// UDPReceiveDrops returns the kernel's count of UDP datagrams dropped
// because a socket's receive queue was full (RcvbufErrors in Linux's
// /proc/net/snmp), and false where that count cannot be read. Floods on
// loopback (the spoofing tests, the lab's poisoning race) read it before
// and after: a forged reply the kernel dropped never reached the
// resolver, so it cannot count in a prediction of what the flood does.
func UDPReceiveDrops() (int, bool) {
	b, err := os.ReadFile("/proc/net/snmp")
	if err != nil {
		return 0, false
	}
	return parseRcvbufErrors(string(b))
}

// parseRcvbufErrors finds RcvbufErrors in the two "Udp:" lines of
// /proc/net/snmp: names, then values.
func parseRcvbufErrors(snmp string) (int, bool) {
	var head []string
	for line := range strings.SplitSeq(snmp, "\n") {
		f := strings.Fields(line)
		if len(f) == 0 || f[0] != "Udp:" {
			continue
		}
		if head == nil {
			head = f
			continue
		}
		for i, name := range head {
			if name == "RcvbufErrors" && i < len(f) {
				n, err := strconv.Atoi(f[i])
				return n, err == nil
			}
		}
		return 0, false
	}
	return 0, false
}
