package lab

import (
	"context"
	"errors"
	"net/netip"
	"testing"
)

// TestCheckLoopback: only 127.0.0.0/8 and ::1, with or without a port.
func TestCheckLoopback(t *testing.T) {
	t.Parallel()
	for addr, ok := range map[string]bool{
		"127.0.0.1":           true,
		"127.99.0.1:53":       true,
		"127.255.255.254":     true,
		"[::1]:53":            true,
		"::1":                 true,
		"::ffff:127.0.0.1":    true,
		"192.0.2.1":           false,
		"192.0.2.1:53":        false,
		"10.0.0.1:53":         false,
		"0.0.0.0:53":          false,
		"[::]:53":             false,
		"2001:db8::1":         false,
		"[fe80::1%lo]:53":     false,
		"localhost:53":        false,
		"www.example.test:80": false,
		"":                    false,
	} {
		err := CheckLoopback(addr)
		if (err == nil) != ok {
			t.Errorf("CheckLoopback(%q) = %v, want ok=%v", addr, err, ok)
		}
		if err != nil && !errors.Is(err, ErrNotLoopback) {
			t.Errorf("CheckLoopback(%q) = %v, want ErrNotLoopback", addr, err)
		}
	}
}

// TestScenariosRefuseNonLoopback gives every scenario actors outside
// loopback: each one refuses before its attackers send anything (pending
// scenarios run nothing at all). Then each address field alone is made
// non-loopback for the scenarios that use it.
func TestScenariosRefuseNonLoopback(t *testing.T) {
	t.Parallel()
	bad := netip.MustParseAddr("192.0.2.1")
	bad6 := netip.MustParseAddr("2001:db8::1")
	all := Addrs{Victim: bad, Attacker: bad6, Client: bad, Services: bad}
	for _, s := range Scenarios() {
		t.Run(s.Name(), func(t *testing.T) {
			t.Parallel()
			env := NewEnv(Config{Short: true, Addrs: all})
			rep, err := Run(context.Background(), s, env, nil)
			switch {
			case rep.Pending != "" && err == nil:
			case !errors.Is(err, ErrNotLoopback):
				t.Errorf("err = %v, want ErrNotLoopback", err)
			}
			if n := env.Packets(); n != 0 {
				t.Errorf("%d packets sent before refusing", n)
			}
		})
	}
	uses := map[string][]string{
		"Victim":   {"amplification"},
		"Attacker": {"kaminsky", "poisoning", "dnssec"},
		"Client":   {"poisoning"},
		"Services": {"amplification", "caa", "takeover", "encrypted"},
	}
	for field, names := range uses {
		for _, name := range names {
			t.Run(field+"/"+name, func(t *testing.T) {
				t.Parallel()
				var a Addrs
				switch field {
				case "Victim":
					a.Victim = bad
				case "Attacker":
					a.Attacker = bad
				case "Client":
					a.Client = bad6
				case "Services":
					a.Services = bad
				}
				s, err := Lookup(name)
				if err != nil {
					t.Fatal(err)
				}
				env := NewEnv(Config{Short: true, Addrs: a})
				if _, err := Run(context.Background(), s, env, nil); !errors.Is(err, ErrNotLoopback) {
					t.Errorf("err = %v, want ErrNotLoopback", err)
				}
				if n := env.Packets(); n != 0 {
					t.Errorf("%d packets sent before refusing", n)
				}
			})
		}
	}
}

// TestRegistry: names are unique, Lookup finds each, and unknown names
// are an error.
func TestRegistry(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for _, s := range Scenarios() {
		if seen[s.Name()] {
			t.Errorf("scenario %q registered twice", s.Name())
		}
		seen[s.Name()] = true
		if got, err := Lookup(s.Name()); err != nil || got.Name() != s.Name() {
			t.Errorf("Lookup(%q) = %v, %v", s.Name(), got, err)
		}
		if s.Summary() == "" {
			t.Errorf("scenario %q has no summary", s.Name())
		}
	}
	if _, err := Lookup("nope"); !errors.Is(err, ErrUnknown) {
		t.Errorf("Lookup(nope) = %v, want ErrUnknown", err)
	}
}

// TestPending: a scenario still waiting for its building blocks says
// what it needs, and is not a failure.
func TestPending(t *testing.T) {
	t.Parallel()
	s := pending{name: "x", summary: "y", needs: "z"}
	rep, err := Run(context.Background(), s, NewEnv(Config{Short: true}), nil)
	if err != nil || rep.Pending != "z" || !rep.OK() {
		t.Errorf("%+v, %v; want a pending report", rep, err)
	}
}
