package client

import (
	"errors"
	"flag"
	"time"
)

// Options are a Poster's settings, as every posting client's flags set
// them.
type Options struct {
	// Timeout is how long to wait for the reply to each post.
	Timeout time.Duration
	// Retries is how many times a post is resent after a timeout.
	Retries int
}

// Flags adds -timeout and -retries to fs, with the defaults, setting o.
func (o *Options) Flags(fs *flag.FlagSet) {
	fs.DurationVar(&o.Timeout, "timeout", DefaultTimeout, "how long to wait for the reply to each post")
	fs.IntVar(&o.Retries, "retries", DefaultRetries, "how many times to resend a post after a timeout (resending is safe)")
}

// Check reports options no Poster can work with.
func (o Options) Check() error {
	if o.Timeout <= 0 || o.Retries < 0 {
		return errors.New("-timeout must be positive and -retries not negative")
	}
	return nil
}
