package lab

import (
	"bytes"
	"context"
	"testing"
	"time"
)

// runShort runs the named scenario in Short mode and checks that every
// setting that ran went as expected: the attack succeeded with the
// defence off and failed with it on.
func runShort(t *testing.T, name string) Report {
	t.Helper()
	s, err := Lookup(name)
	if err != nil {
		t.Fatal(err)
	}
	var story bytes.Buffer
	env := NewEnv(Config{Short: true})
	rep, err := Run(context.Background(), s, env, NewNarrator(&story))
	if err != nil {
		t.Fatalf("%v\n%s", err, story.String())
	}
	WriteText(&story, rep)
	t.Logf("%s", story.String())
	if !rep.OK() {
		t.Errorf("%s: a setting went unexpectedly", name)
	}
	return rep
}

// mustSetting returns the named setting of rep, and checks its outcome.
func mustSetting(t *testing.T, rep Report, name string, succeeded bool) Setting {
	t.Helper()
	s, ok := rep.Setting(name)
	if !ok {
		t.Fatalf("%s: no setting %q", rep.Scenario, name)
	}
	if s.Pending != "" {
		t.Fatalf("%s: %q is pending: %s", rep.Scenario, name, s.Pending)
	}
	if s.AttackSucceeded != succeeded {
		t.Errorf("%s: %q: attack succeeded = %v, want %v (figures %v)", rep.Scenario, name, s.AttackSucceeded, succeeded, s.Figures)
	}
	return s
}

// TestKaminsky: the forged delegation takes over the 2008-style cache,
// and changes nothing in rensa's resolver.
func TestKaminsky(t *testing.T) {
	t.Parallel()
	rep := runShort(t, "kaminsky")
	weak := mustSetting(t, rep, "2008-style cache (accepts authority and additional data)", true)
	if v, _ := weak.Figure("names now resolving to the attacker (of www, mail)"); v != 2 {
		t.Errorf("weak cache: %v names resolve to the attacker, want 2 (www from the answer, mail through the hijacked delegation)", v)
	}
	strong := mustSetting(t, rep, "rensa resolver, defaults", false)
	if v, _ := strong.Figure("forged replies delivered as matching replies"); v == 0 {
		t.Error("rensa: no forged reply was delivered: the test is dead")
	}
	signed := mustSetting(t, rep, "rensa resolver + DNSSEC validation", false)
	wins, _ := signed.Figure("forged replies delivered as matching replies")
	served, _ := signed.Figure("forged addresses served to clients")
	if wins == 0 || served != 0 {
		t.Errorf("DNSSEC: %v forgeries delivered, %v served; want some delivered, none served", wins, served)
	}
}

// TestAmplification: without defences the victim gets more bytes than
// the attacker sent; with rensa's defaults it gets fewer.
func TestAmplification(t *testing.T) {
	t.Parallel()
	rep := runShort(t, "amplification")
	off := mustSetting(t, rep, "open authoritative server, no RRL", true)
	if v, _ := off.Figure("DNSKEY+DO: amplification (victim / attacker)"); v < 5 {
		t.Errorf("open server: DNSKEY amplification %.2fx, want at least 5x", v)
	}
	on := mustSetting(t, rep, "rensa defaults (RRL + cookies)", false)
	for _, f := range []string{"ANY: amplification (victim / attacker)", "DNSKEY+DO: amplification (victim / attacker)"} {
		if v, _ := on.Figure(f); v > 1 {
			t.Errorf("defended: %s = %.2f, want at most 1 (LIMITS.md)", f, v)
		}
	}
}

// TestCAA: CA A issues in both settings; CA B issues only when it does
// not check CAA.
func TestCAA(t *testing.T) {
	t.Parallel()
	rep := runShort(t, "caa")
	for _, s := range []struct {
		name      string
		succeeded bool
	}{{"CA B ignores CAA (before 2017)", true}, {"CA B checks CAA (RFC 8659, mandatory since 2017)", false}} {
		set := mustSetting(t, rep, s.name, s.succeeded)
		if v, _ := set.Figure("CA A (authorised) issued"); v != 1 {
			t.Errorf("%s: CA A did not issue", s.name)
		}
	}
}

// TestTakeover: the scanner reports the dangling CNAME in both settings;
// the attacker's page reaches the victim only when the owner ignores it.
func TestTakeover(t *testing.T) {
	t.Parallel()
	rep := runShort(t, "takeover")
	for _, s := range []struct {
		name      string
		succeeded bool
	}{{"owner ignores the dangling CNAME", true}, {"owner runs rensa audit takeover and removes what it reports", false}} {
		set := mustSetting(t, rep, s.name, s.succeeded)
		if v, _ := set.Figure("dangling records the scanner reports"); v != 1 {
			t.Errorf("%s: scanner reported %v records, want 1", s.name, v)
		}
	}
}

// TestPoisoning: with a fixed port the blind attacker wins as often as
// RFC 5452 predicts; with random ports and 0x20 it never does.
func TestPoisoning(t *testing.T) {
	t.Parallel()
	rep := runShort(t, "poisoning")
	for _, s := range []struct {
		name      string
		succeeded bool
	}{{"fixed source port, no 0x20 (lab-only weakening)", true}, {"rensa defaults: random source ports, 0x20", false}} {
		set := mustSetting(t, rep, s.name, s.succeeded)
		got, _ := set.Figure("measured successes")
		lo, _ := set.Figure("predicted successes, 99% low")
		hi, _ := set.Figure("predicted successes, 99% high")
		if got < lo || got > hi {
			t.Errorf("%s: %v successes, RFC 5452 predicts %v to %v", s.name, got, lo, hi)
		}
	}
	// With DNSSEC the race is still won, and the forgery still fails.
	signed := mustSetting(t, rep, "fixed source port, no 0x20, DNSSEC validation", false)
	if v, _ := signed.Figure("forged replies taken as the reply by the transport"); v == 0 {
		t.Error("DNSSEC: no forged reply won its race: the test is dead")
	}
}

// TestDNSSEC: the tamperer's address reaches the client without
// validation; with it the client gets SERVFAIL with an Extended DNS Error.
func TestDNSSEC(t *testing.T) {
	t.Parallel()
	rep := runShort(t, "dnssec")
	mustSetting(t, rep, "resolver without DNSSEC validation", true)
	on := mustSetting(t, rep, "rensa resolver validating (the default)", false)
	if v, _ := on.Figure("client got SERVFAIL"); v != 1 {
		t.Error("validating: no SERVFAIL")
	}
	if _, ok := on.Figure("Extended DNS Error code"); !ok {
		t.Error("validating: no Extended DNS Error")
	}
}

// TestEncrypted: the observer reads every name over Do53 and none over
// DoT or DoH, while all of them are answered.
func TestEncrypted(t *testing.T) {
	t.Parallel()
	rep := runShort(t, "encrypted")
	for _, s := range []struct {
		name      string
		succeeded bool
	}{{"Do53 (UDP, plaintext)", true}, {"DoT (DNS over TLS, RFC 7858)", false}, {"DoH (DNS over HTTPS, RFC 8484)", false}} {
		set := mustSetting(t, rep, s.name, s.succeeded)
		if v, _ := set.Figure("names looked up (answered)"); v != float64(len(encryptedNames)) {
			t.Errorf("%s: %v names answered, want %d", s.name, v, len(encryptedNames))
		}
	}
}

// deadlineScenario records the deadline Run gives it and returns at once.
type deadlineScenario struct{ deadline time.Time }

func (*deadlineScenario) Name() string    { return "deadline" }
func (*deadlineScenario) Summary() string { return "records its deadline" }
func (d *deadlineScenario) Run(ctx context.Context, _ *Env, _ Narrator) (Report, error) {
	d.deadline, _ = ctx.Deadline()
	return Report{}, nil
}

// TestRunBoundsEachScenario checks the time bound Run puts on a scenario:
// ScenarioTimeout for the full tour, ShortScenarioTimeout in Short mode.
func TestRunBoundsEachScenario(t *testing.T) {
	t.Parallel()
	for _, short := range []bool{false, true} {
		want := ScenarioTimeout
		if short {
			want = ShortScenarioTimeout
		}
		s := &deadlineScenario{}
		before := time.Now()
		if _, err := Run(context.Background(), s, NewEnv(Config{Short: short}), NewNarrator(nil)); err != nil {
			t.Fatal(err)
		}
		after := time.Now()
		if s.deadline.Before(before.Add(want)) || s.deadline.After(after.Add(want)) {
			t.Errorf("short=%v: the scenario's deadline is %v after Run was called, want %v", short, s.deadline.Sub(before), want)
		}
	}
}
