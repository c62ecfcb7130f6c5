package lab

import "context"

// pending is a scenario registered before its building blocks exist: it
// reports what it needs and runs nothing. Its seam is its Run: replace the
// type with the real scenario when the blocks land.
type pending struct {
	name, summary, needs string
}

func (p pending) Name() string    { return p.name }
func (p pending) Summary() string { return p.summary }

// Run reports the scenario as pending.
func (p pending) Run(ctx context.Context, env *Env, out Narrator) (Report, error) {
	out.Section(p.name)
	out.Step("Not runnable yet: needs %s.", p.needs)
	return Report{Pending: p.needs}, nil
}
