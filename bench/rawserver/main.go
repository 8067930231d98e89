// Command rawserver is make bench's baseline: raw libzmq doing the socket
// work of a zmqchat server and nothing else. REP receives a post, PUB
// publishes its last four frames and a number frame of the same size as
// zmqchat's, REP answers OK; no validation, no storage, no logging.
package main

import (
	"fmt"
	"os"
	"os/signal"
	"syscall"

	zmq "github.com/pebbe/zmq4"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: rawserver <post_endpoint> <pub_endpoint>  (tcp://127.0.0.1:* picks a free port)")
		os.Exit(2)
	}
	rep, _ := zmq.NewSocket(zmq.REP)
	pub, _ := zmq.NewSocket(zmq.PUB)
	for _, s := range []*zmq.Socket{rep, pub} {
		s.SetLinger(0)
	}
	if err := rep.Bind(os.Args[1]); err != nil {
		fmt.Fprintln(os.Stderr, "rawserver:", err)
		os.Exit(1)
	}
	if err := pub.Bind(os.Args[2]); err != nil {
		fmt.Fprintln(os.Stderr, "rawserver:", err)
		os.Exit(1)
	}
	// Killed by the benchmark when done; a signal just ends it.
	go func() {
		sig := make(chan os.Signal, 1)
		signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
		<-sig
		os.Exit(0)
	}()
	postEP, _ := rep.GetLastEndpoint()
	pubEP, _ := pub.GetLastEndpoint()
	fmt.Printf("rawserver: taking posts on %s, publishing on %s\n", postEP, pubEP)
	ok := []byte("OK")
	for n := 1; ; n++ {
		frames, err := rep.RecvMessageBytes(0)
		if err != nil {
			continue
		}
		if len(frames) == 5 {
			pub.SendMessage(frames[1], frames[2], frames[3], frames[4], fmt.Appendf(nil, "0123456789abcdef %d %d", n, n))
		}
		rep.SendBytes(ok, 0)
	}
}
