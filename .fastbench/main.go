// Temporary: end-to-end benchmark harness for the auth fast path. Not part of the tree.
package main

import (
	"flag"
	"log"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/rensa-dns/rensa/internal/auth"
	"github.com/rensa-dns/rensa/internal/server"
	"github.com/rensa-dns/rensa/internal/zone"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:5399", "")
	file := flag.String("zone", "", "")
	origin := flag.String("origin", "", "")
	fast := flag.Bool("fast", true, "")
	flag.Parse()
	z, err := zone.Load(*file, *origin, zone.LoadOptions{})
	if err != nil {
		log.Fatal(err)
	}
	engine, err := auth.New(auth.Config{Zones: zone.NewSet(z)})
	if err != nil {
		log.Fatal(err)
	}
	cfg := server.Config{Handler: engine, Logger: slog.New(slog.DiscardHandler)}
	if *fast {
		cfg.RawHandler = auth.NewFastPath(engine).RawHandler
	}
	srv, err := server.New(cfg)
	if err != nil {
		log.Fatal(err)
	}
	if _, _, err := srv.Listen(*listen); err != nil {
		log.Fatal(err)
	}
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, syscall.SIGTERM, syscall.SIGINT)
	<-ch
}
