module github.com/rensa-dns/rensa

go 1.26.8

require github.com/rogpeppe/go-internal v1.16.0

require (
	github.com/BurntSushi/toml v1.6.0 // indirect
	github.com/miekg/dns v1.1.73 // indirect
	golang.org/x/net v0.62.0 // indirect
	golang.org/x/sys v0.49.0 // indirect
	golang.org/x/tools v0.48.0 // indirect
)
