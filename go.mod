module github.com/zmqchat/zmqchat

go 1.22

require (
	github.com/creack/pty v1.1.24
	github.com/pebbe/zmq4 v1.4.0
	golang.org/x/term v0.27.0
)

require golang.org/x/sys v0.28.0 // indirect
