package wire

import (
	"math/rand/v2"
	"testing"
)

// TestDoorkeeper checks that a working set asked in a cycle is admitted
// in full on its second round, however its keys collide, and that few
// keys asked once get in.
func TestDoorkeeper(t *testing.T) {
	t.Parallel()
	d := new(Doorkeeper)
	rnd := rand.New(rand.NewPCG(3, 4))
	keys := make([]uint64, 100000)
	for i := range keys {
		keys[i] = rnd.Uint64()
	}
	for round, want := range []bool{false, true, true} {
		admitted := 0
		for _, h := range keys {
			if d.Admit(h) {
				admitted++
			}
		}
		if want && admitted != len(keys) || !want && admitted > len(keys)/100 {
			t.Errorf("round %d: %d of %d keys admitted", round+1, admitted, len(keys))
		}
	}
	once, fresh := 0, 0
	for d.added.Load()%doorkeeperPeriod != 0 {
		fresh++
		if d.Admit(rnd.Uint64()) {
			once++
		}
	}
	if once > fresh/20 {
		t.Errorf("%d of %d keys asked once were admitted", once, fresh)
	}
	if d.Admit(keys[0]) {
		t.Error("the doorkeeper did not forget its keys after a period")
	}
}
