package config_test

import (
	"fmt"

	"github.com/rensa-dns/rensa/internal/config"
)

func ExampleParse() {
	cfg, err := config.Parse([]byte(`
[[listen]]
address = "127.0.0.1:5353"

[auth]
nsid = "ns1"

[[auth.zone]]
origin = "example.test"
file = "example.test.zone"
`), "/etc/rensa/rensa.toml")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(cfg.ListenAddresses())
	for _, z := range cfg.Auth.Zones {
		fmt.Println(z.Origin, z.File)
	}

	// A typo is an error, not a silently ignored setting.
	_, err = config.Parse([]byte("[auth]\nnsdi = \"ns1\"\n"), "rensa.toml")
	fmt.Println(err)
	// Output:
	// [127.0.0.1:5353]
	// example.test. /etc/rensa/example.test.zone
	// config: rensa.toml:2: unknown key auth.nsdi
}
